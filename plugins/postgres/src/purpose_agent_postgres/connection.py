"""Where the database is and how to reach it: options, ``[plugins.postgres]``, the password from
the environment, the connection pool, and errors turned into sentences.

The password never sits in TOML: ``dsn`` names the server, database and user, ``password_env``
names the environment variable that holds the password. A ``dsn`` with a password in it is
refused, so a configuration file can be shared or committed safely.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from purpose_agent.errors import PurposeAgentError

#: The options ``kernel.memory_store("postgres", ...)`` and ``kernel.checkpointer("postgres", ...)``
#: take; each also has a key of the same name under ``[plugins.postgres]``.
OPTIONS = ("dsn", "password_env", "schema", "pool_min", "pool_max", "connect_timeout", "dedup")

#: A PostgreSQL schema (namespace) name this plugin accepts: it is put into SQL as an identifier.
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class PostgresError(PurposeAgentError):
    """The PostgreSQL store or checkpointer cannot be configured, reached or used; the message says
    what is wrong and what to do."""


class PostgresItemNotFound(PostgresError, KeyError):
    """No memory item has the given id (or version)."""

    def __str__(self) -> str:  # KeyError would print the repr of the message
        return str(self.args[0]) if self.args else ""


def settings_model() -> Any:
    """The pydantic model of ``[plugins.postgres]`` (an unknown key is refused, naming it)."""
    from typing import Literal

    from pydantic import BaseModel, ConfigDict, Field

    class PostgresSettings(BaseModel):
        model_config = ConfigDict(extra="forbid", populate_by_name=True)

        dsn: str = Field(default="", description="libpq connection string or URI, without the password")
        password_env: str = Field(default="", description="environment variable holding the password")
        db_schema: str = Field(default="purpose_agent", alias="schema",
                               description="PostgreSQL schema (namespace) holding the tables")
        pool_min: int = Field(default=1, ge=0, le=1000)
        pool_max: int = Field(default=8, ge=1, le=1000)
        connect_timeout: float = Field(default=10.0, gt=0, le=600)
        dedup: bool = Field(default=True, description="add() returns the live item with the same text")
        semantic: Literal["auto"] | bool = Field(
            default="auto", description="search memory by meaning: with the installed embedder (auto), always, never")
        pgvector: Literal["auto"] | bool = Field(
            default="auto", description="search the vectors with pgvector: when the server has it (auto), always, never")

    return PostgresSettings


@dataclass(frozen=True)
class ConnectionSettings:
    """Everything needed to open connections, resolved and checked."""

    dsn: str
    password_env: str = ""
    schema: str = "purpose_agent"
    pool_min: int = 1
    pool_max: int = 8
    connect_timeout: float = 10.0
    dedup: bool = True

    def where(self) -> str:
        """``user@host:port/dbname`` for messages (never the password)."""
        from psycopg.conninfo import conninfo_to_dict

        parts = conninfo_to_dict(self.dsn)
        host = str(parts.get("host") or os.environ.get("PGHOST") or "localhost")
        port = str(parts.get("port") or os.environ.get("PGPORT") or "5432")
        user = str(parts.get("user") or os.environ.get("PGUSER") or "")
        dbname = str(parts.get("dbname") or os.environ.get("PGDATABASE") or user)
        return f"{user + '@' if user else ''}{host}:{port}/{dbname}"

    def connect_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``psycopg.connect`` besides the dsn: the password, the timeout."""
        kwargs: dict[str, Any] = {"connect_timeout": max(1, round(self.connect_timeout)),
                                  "application_name": "purpose-agent"}
        if self.password_env:
            password = os.environ.get(self.password_env)
            if password is None:
                raise PostgresError(
                    f"the environment variable {self.password_env} (named by password_env under [plugins.postgres]) "
                    "is not set; export it with the database password, or remove password_env to connect without one"
                )
            kwargs["password"] = password
        return kwargs


def resolve(context: Any, what: str, extra: tuple[str, ...] = ()) -> ConnectionSettings:
    """Options of ``context`` over ``[plugins.postgres]`` (``context.settings``); checked.

    ``what`` names the component in messages ("memory store", "checkpointer"); ``extra`` are the
    component's own options besides the connection's (read by the component, skipped here).
    """
    options = {key: value for key, value in (getattr(context, "options", None) or {}).items() if key not in extra}
    if "password" in options:
        raise PostgresError(
            f"the postgres {what} does not take a password option; put the password in an environment variable "
            "and name it with password_env"
        )
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise PostgresError(
            f"unknown option(s) {', '.join(unknown)} for the postgres {what}; it takes {', '.join((*OPTIONS, *extra))}"
        )
    settings = getattr(context, "settings", None)
    merged: dict[str, Any] = {}
    if settings is not None:
        merged = {"dsn": settings.dsn, "password_env": settings.password_env, "schema": settings.db_schema,
                  "pool_min": settings.pool_min, "pool_max": settings.pool_max,
                  "connect_timeout": settings.connect_timeout, "dedup": settings.dedup}
    merged.update(options)
    return check(ConnectionSettings(**merged))


def check(settings: ConnectionSettings) -> ConnectionSettings:
    """Refuse what cannot work, each with the sentence that says what to change."""
    from psycopg import ProgrammingError
    from psycopg.conninfo import conninfo_to_dict

    if not settings.dsn.strip():
        raise PostgresError(
            "no PostgreSQL server is configured: set dsn under [plugins.postgres] (for example "
            "dsn = \"postgresql://agent@db.internal:5432/purpose_agent\") and the password's variable in password_env"
        )
    try:
        parts = conninfo_to_dict(settings.dsn)
    except ProgrammingError as exc:
        raise PostgresError(
            f"dsn under [plugins.postgres] is not a PostgreSQL connection string ({_first_line(exc)}); "
            "write it as postgresql://USER@HOST:PORT/DBNAME or 'host=... dbname=... user=...'"
        ) from None
    if parts.get("password"):
        raise PostgresError(
            "dsn under [plugins.postgres] holds a password; remove it from the connection string and put it in an "
            "environment variable named by password_env (a configuration file must not hold secrets)"
        )
    if not _SCHEMA_NAME.match(settings.schema):
        raise PostgresError(
            f"schema = {settings.schema!r} under [plugins.postgres] is not a plain PostgreSQL schema name; use "
            "lower-case letters, digits and _ (at most 63, not starting with a digit)"
        )
    if settings.pool_max < max(1, settings.pool_min):
        raise PostgresError(
            f"pool_max ({settings.pool_max}) under [plugins.postgres] is below pool_min ({settings.pool_min}); "
            "raise pool_max"
        )
    return settings


def connect(settings: ConnectionSettings) -> Any:
    """One connection (autocommit off), or :class:`PostgresError` saying why not."""
    import psycopg

    try:
        return psycopg.connect(settings.dsn, **settings.connect_kwargs())
    except psycopg.OperationalError as exc:
        raise PostgresError(connection_failure(settings, exc)) from None


def open_pool(settings: ConnectionSettings) -> Any:
    """A psycopg connection pool; its connections are checked on the way out of the pool."""
    from psycopg_pool import ConnectionPool

    return ConnectionPool(
        settings.dsn, kwargs=settings.connect_kwargs(), min_size=settings.pool_min, max_size=settings.pool_max,
        timeout=settings.connect_timeout, open=True, name=f"purpose-agent-{settings.schema}",
        # A server restart or an idle timeout leaves dead connections in the pool; a cheap check
        # on the way out replaces them instead of failing the caller's first statement.
        check=ConnectionPool.check_connection,
    )


def close_pool_later(owner: object, pool: Any) -> Any:
    """Close ``pool`` when ``owner`` is collected or the interpreter exits, unless ``close()`` did
    first; never in a forked child (its parent's connections are not its to end).

    Returns the finalizer; calling it closes the pool now (once). Without this, a pool nobody
    closed is collected by psycopg_pool's own ``__del__``, which fails when the collection happens
    in one of the pool's worker threads.
    """
    import weakref

    return weakref.finalize(owner, _close_in_owner, pool, os.getpid())


def _close_in_owner(pool: Any, pid: int) -> None:
    if os.getpid() == pid:
        pool.close()


class PooledConnections:
    """This process's connection pool for ``self.settings``, opened on first use: what the store
    and the checkpointer share. A forked child must not use its parent's connections; it abandons
    them without closing (closing would end the parent's sessions) and opens its own."""

    settings: ConnectionSettings

    def _init_pool(self) -> None:
        self._guard = threading.Lock()
        self._pool: Any = None
        self._close_pool: Callable[[], Any] = lambda: None
        self._pid = os.getpid()

    def _get_pool(self) -> Any:
        with self._guard:
            if os.getpid() != self._pid:
                self._pid, self._pool = os.getpid(), None
            if self._pool is None:
                self._pool = open_pool(self.settings)
                self._close_pool = close_pool_later(self, self._pool)
            return self._pool

    def _release_pool(self) -> None:
        """Close this process's connections."""
        with self._guard:
            self._pool = None
        self._close_pool()


def connection_failure(settings: ConnectionSettings, exc: BaseException) -> str:
    """The sentence for a failed connection: which server, what happened, what to do."""
    message = str(exc)
    where = settings.where()
    lowered = message.lower()
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        source = (f"the password in the environment variable {settings.password_env}" if settings.password_env
                  else "the password (none is configured: set password_env under [plugins.postgres])")
        return f"PostgreSQL at {where} refused the login ({_first_line(exc)}); check the user in dsn and {source}"
    if "does not exist" in lowered and "database" in lowered:
        return (f"PostgreSQL at {where} has no such database ({_first_line(exc)}); create it "
                "(createdb) or change dbname in dsn under [plugins.postgres]")
    if "timeout" in lowered or "timed out" in lowered:
        return (f"PostgreSQL at {where} did not answer within {settings.connect_timeout:g} s ({_first_line(exc)}); "
                "check the host and port in dsn, the network, or raise connect_timeout under [plugins.postgres]")
    return (f"cannot connect to PostgreSQL at {where} ({_first_line(exc)}); is the server running and listening "
            "there? Check dsn under [plugins.postgres]")


def _first_line(exc: BaseException) -> str:
    """The cause in libpq's message: after its last ``failed:``, without ``FATAL:`` (libpq adds
    the address, which the sentence already gives, and a hint, which the sentence replaces)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    chosen = next((line for line in reversed(lines) if "failed:" in line), lines[-1] if lines else type(exc).__name__)
    cause = chosen.rsplit("failed:", 1)[-1].strip()
    cause = re.sub(r"^(FATAL|ERROR):\s+", "", cause)
    return cause.rstrip(".") or type(exc).__name__
