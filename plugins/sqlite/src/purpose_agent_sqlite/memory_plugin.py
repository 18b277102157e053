"""Plugin ``memory``: a memory store that lives in this process only, for tests and
short-lived runs.

It is the SQLite store on an in-memory database
(:class:`purpose_agent_sqlite.store.InMemoryStore`): the same schema, versioning and
search as the persistent ``sqlite`` store, including search by meaning with the same options and
default (``[memory] semantic = "auto"``: hybrid when an embedder is installed), so a query ranks
the same on both. Nothing is persisted; the database is gone when the store is closed.

This module only registers the store: ``sqlite3`` and the store are imported when one is built.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from purpose_agent.hookspecs import hookimpl

PURPOSE_AGENT_HOOK_API = "1.0"


def open_store(context: Any) -> Any:
    """``kernel.memory_store("memory", ...)``: a new, empty in-memory store.

    It takes the ``sqlite`` store's search options (``semantic``, default ``[memory] semantic``,
    else "auto": by meaning when an embedder is installed; ``embedder``, ``min_similarity``,
    ``lexical_floor``, ``candidates``) and ``busy_timeout_ms``, so it ranks as production does.
    """
    from .store import InMemoryStore, search_options

    options = search_options(context, dict(context.options), store="in-memory store",
                             after=" (for a file, use the 'sqlite' store with path=...)")
    return InMemoryStore(**options)


@hookimpl
def register_memory_stores(register: Callable[..., None]) -> None:
    register("memory", open_store, description="process-local, not persisted (SQLite in memory; ranks as 'sqlite')")
