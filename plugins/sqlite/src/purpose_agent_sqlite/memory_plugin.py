"""Plugin ``memory``: a memory store that lives in this process only, for tests and
short-lived runs.

It is the SQLite store on an in-memory database
(:class:`purpose_agent_sqlite.store.InMemoryStore`, built by
:func:`purpose_agent_sqlite.store.open_in_memory_store`): the same schema, versioning and search
as the persistent ``sqlite`` store, including search by meaning with the same options and
default (``[memory] semantic = "auto"``: hybrid when an embedder is installed), so a query ranks
the same on both. Nothing is persisted; the database is gone when the store is closed.

This module only registers the store, lazily: ``sqlite3`` and the store are imported when one is
built.
"""

from __future__ import annotations

from purpose_agent.hookspecs import register_lazily

PURPOSE_AGENT_HOOK_API = "1.0"

register_memory_stores = register_lazily(
    "memory", "purpose_agent_sqlite.store:open_in_memory_store",
    description="process-local, not persisted (SQLite in memory; ranks as 'sqlite')",
)
