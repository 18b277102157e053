"""purpose-agent-sqlite: the embedded memory store and the hybrid retrieval engine.

Two plugins (entry points, group ``purpose_agent.memory_store``):

* ``sqlite``: the persistent store, one SQLite file in WAL mode (:class:`SQLiteStore`);
* ``memory``: the same store on ``:memory:`` (:class:`InMemoryStore`), for tests and short runs;
  it ranks exactly as ``sqlite`` does.

Public API, for applications and other distributions (the vault builds on :class:`SearchIndex`)::

    from purpose_agent_sqlite import InMemoryStore, SearchIndex, SQLiteStore

Importing this package imports nothing else: each name loads its module on first access, so
``purpose-agent plugins list``, which imports every plugin, does not pay for sqlite3 or numpy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .search_index import SearchIndex as SearchIndex
    from .store import InMemoryStore as InMemoryStore
    from .store import SQLiteStore as SQLiteStore

__all__ = ["InMemoryStore", "SQLiteStore", "SearchIndex"]

_WHERE = {"InMemoryStore": ".store", "SQLiteStore": ".store", "SearchIndex": ".search_index"}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'purpose_agent_sqlite' has no attribute '{name}'")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # once: later lookups are plain module attributes
    return value
