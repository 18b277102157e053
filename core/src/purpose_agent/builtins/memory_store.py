"""Built-in plugin ``memory``: a process-local memory store, for tests and short-lived runs.

Nothing is persisted. Retrieval ranks by word overlap weighted by rarity (a small BM25), which
is enough for tests and tiny memories; the SQLite store is the persistent default.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from purpose_agent.hookspecs import hookimpl

PURPOSE_AGENT_HOOK_API = "1.0"

_WORD = re.compile(r"\w+", re.UNICODE)


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens."""
    return _WORD.findall(text.lower())


class InMemoryStore:
    """A thread-safe, versioned memory store held in a dict."""

    def __init__(self) -> None:
        self._versions: dict[str, list[Any]] = {}
        self._lock = threading.Lock()

    def add(self, item: Any) -> Any:
        with self._lock:
            if item.id in self._versions:
                raise ValueError(f"memory item {item.id} already exists; use update() to change it")
            stored = item.model_copy(deep=True)
            self._versions[item.id] = [stored]
            return stored.model_copy(deep=True)

    def get(self, item_id: str) -> Any:
        with self._lock:
            versions = self._versions.get(item_id)
            return versions[-1].model_copy(deep=True) if versions else None

    def update(self, item: Any) -> Any:
        import time

        with self._lock:
            versions = self._versions.get(item.id)
            if not versions:
                raise KeyError(f"memory item {item.id} does not exist; add() it first")
            stored = item.model_copy(deep=True, update={"version": versions[-1].version + 1, "updated_at": time.time()})
            versions.append(stored)
            return stored.model_copy(deep=True)

    def list(self, *, status: Any = None, limit: int | None = None) -> Sequence[Any]:
        with self._lock:
            items = [v[-1] for v in self._versions.values() if status is None or v[-1].status == status]
        items.sort(key=lambda i: i.updated_at, reverse=True)
        return [i.model_copy(deep=True) for i in items[:limit]]

    def search(self, query: str, *, limit: int = 10, status: Any = None) -> Sequence[Any]:
        from purpose_agent.models import ScoredItem

        terms = set(tokenize(query))
        with self._lock:
            items = [v[-1] for v in self._versions.values() if status is None or v[-1].status == status]
        if not terms or not items:
            return []
        docs = [Counter(tokenize(i.text)) for i in items]
        avg_len = sum(sum(d.values()) for d in docs) / len(docs) or 1.0
        n = len(docs)
        df = {t: sum(1 for d in docs if t in d) for t in terms}
        scored = []
        for item, doc in zip(items, docs, strict=True):
            length = sum(doc.values())
            score = 0.0
            for term in terms:
                tf = doc.get(term, 0)
                if tf:
                    idf = math.log(1 + (n - df[term] + 0.5) / (df[term] + 0.5))
                    score += idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * length / avg_len))
            if score > 0:
                scored.append(ScoredItem(item=item.model_copy(deep=True), score=score))
        scored.sort(key=lambda s: s.score, reverse=True)
        return scored[:limit]

    def history(self, item_id: str) -> Sequence[Any]:
        with self._lock:
            return [v.model_copy(deep=True) for v in self._versions.get(item_id, [])]

    def close(self) -> None:
        """Nothing to release."""


@hookimpl
def register_memory_stores(register: Callable[..., None]) -> None:
    register("memory", lambda context: InMemoryStore(), description="process-local, not persisted")
