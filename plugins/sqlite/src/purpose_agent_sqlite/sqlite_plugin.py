"""Plugin ``sqlite``: the persistent memory store
(:class:`purpose_agent_sqlite.store.SQLiteStore`, built by :func:`purpose_agent_sqlite.store.open_store`:
``kernel.memory_store("sqlite", path=..., busy_timeout_ms=..., synchronous=...)``).

This module only registers it, lazily: ``sqlite3`` and the store (several ms to import) are
imported when a store is built, so ``purpose-agent plugins list``, which imports every plugin,
does not pay for them.
"""

from __future__ import annotations

from purpose_agent.hookspecs import register_lazily

PURPOSE_AGENT_HOOK_API = "1.0"

register_memory_stores = register_lazily(
    "sqlite", "purpose_agent_sqlite.store:open_store",
    description="persistent SQLite file (WAL, FTS5/BM25, versioned history)",
)
