"""Plugin ``sqlite``: the persistent memory store
(:class:`purpose_agent_sqlite.store.SQLiteStore`).

This module only registers it: ``sqlite3`` and the store (several ms to import) are imported
when a store is built, so ``purpose-agent plugins list``, which imports every plugin, does not
pay for them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from purpose_agent.hookspecs import hookimpl

PURPOSE_AGENT_HOOK_API = "1.0"


def open_store(context: Any) -> Any:
    """``kernel.memory_store("sqlite", path=..., busy_timeout_ms=..., synchronous=...)``."""
    from .store import open_store as open_sqlite

    return open_sqlite(context)


@hookimpl
def register_memory_stores(register: Callable[..., None]) -> None:
    register("sqlite", open_store, description="persistent SQLite file (WAL, FTS5/BM25, versioned history)")
