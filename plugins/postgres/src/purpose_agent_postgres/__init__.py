"""purpose-agent-postgres: a memory store and a checkpointer on PostgreSQL, shared by many workers.

::

    # purpose-agent.toml
    [memory]
    store = "postgres"

    [plugins.postgres]
    dsn = "postgresql://agent@db.internal:5432/purpose_agent"   # no password here
    password_env = "PURPOSE_AGENT_PG_PASSWORD"                 # the variable that holds it

    kernel.memory_store("postgres")          # or with options: dsn=, schema=, pool_max=, ...
    kernel.checkpointer("postgres")
    $ purpose-agent postgres status          # server, schema version, items, retrieval in use, pgvector

One plugin id, three roles: the ``postgres`` memory store, the ``postgres`` checkpointer and the
``purpose-agent postgres`` command. Importing this module imports neither psycopg nor pydantic;
they load when a store, checkpointer or command is first built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from purpose_agent.hookspecs import lazy_settings, register_lazily

if TYPE_CHECKING:
    from .checkpointer import PostgresCheckpointer
    from .connection import PostgresError
    from .store import PostgresStore

PURPOSE_AGENT_HOOK_API = "1.0"

#: The id ``purpose_agent.testing.make_kernel`` registers this module under (same as the entry point).
plugin_id = "postgres"

__all__ = ["PostgresCheckpointer", "PostgresError", "PostgresStore"]

_HOMES = {"PostgresCheckpointer": "checkpointer", "PostgresError": "connection", "PostgresStore": "store"}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
    raise AttributeError(f"module 'purpose_agent_postgres' has no attribute '{name}'")


settings_model = lazy_settings("purpose_agent_postgres.connection:settings_model")


register_memory_stores = register_lazily("postgres", "purpose_agent_postgres.store:open_store",
                                         description="shared PostgreSQL memory (row locks, tsvector ranking, versioned history)")


register_checkpointers = register_lazily("postgres", "purpose_agent_postgres.checkpointer:open_checkpointer",
                                         description="PostgreSQL, one row per (run_id, step), newest save wins")


register_commands = register_lazily("postgres", "purpose_agent_postgres.command:PostgresCommand",
                                    description="the PostgreSQL memory: server, schema, counts, retrieval in use")
