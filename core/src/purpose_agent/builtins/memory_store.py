"""Built-in plugin ``memory``: a memory store that lives in this process only, for tests and
short-lived runs.

It is the SQLite store on an in-memory database
(:class:`purpose_agent.builtins.sqlite_store.InMemoryStore`): the same schema, versioning and
search as the persistent ``sqlite`` store, so a query ranks the same on both. Nothing is
persisted; the database is gone when the store is closed.

This module only registers the store: ``sqlite3`` and the store are imported when one is built.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from purpose_agent.hookspecs import hookimpl

PURPOSE_AGENT_HOOK_API = "1.0"


def open_store(context: Any) -> Any:
    """``kernel.memory_store("memory", busy_timeout_ms=...)``: a new, empty in-memory store."""
    from purpose_agent.builtins.sqlite_store import InMemoryStore
    from purpose_agent.memory.errors import MemoryStoreError

    options = dict(context.options)
    unknown = sorted(set(options) - {"busy_timeout_ms"})
    if unknown:
        raise MemoryStoreError(
            f"unknown option(s) {', '.join(unknown)} for the in-memory store; it takes busy_timeout_ms "
            "(for a file, use the 'sqlite' store with path=...)"
        )
    return InMemoryStore(**options)


@hookimpl
def register_memory_stores(register: Callable[..., None]) -> None:
    register("memory", open_store, description="process-local, not persisted (SQLite in memory; ranks as 'sqlite')")
