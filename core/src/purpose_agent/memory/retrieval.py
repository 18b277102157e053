"""Choosing the memories a run sees: relevance first, usefulness second, within a budget.

Algorithm (:func:`retrieve`), for a query and the run's scope:

1. **Candidates**: ``store.search(query, limit=candidate_pool, status=promoted)`` — the store's
   relevance ranking: BM25 in the in-memory store and in a SQLite store without an embedder;
   with one (``[memory] semantic``, on by default when an embedder is installed), BM25 and
   nearness in meaning fused by reciprocal rank (docs/retrieval.md), so a lesson worded unlike
   the task is still found. Only the statuses in ``policy.statuses`` are retrievable; by
   default just ``promoted``.
2. **Scope**: keep items whose scope is ``global`` or names the run's purpose, agent or task
   family. Stores that can filter scope in their query (``supports_scope_filter``) do it there,
   so out-of-scope items do not crowd the candidate pool.
3. **Relevance**: ``relevance = score / best_score`` (0–1, the best candidate is 1; the score is
   BM25, or the fused score of a hybrid store). Candidates below ``min_relevance`` or with a raw
   score below ``min_bm25`` are dropped.
4. **Usefulness** (:mod:`purpose_agent.memory.usefulness`): decayed Q plus an exploration bonus,
   within [-1, 1 + bonus].
5. **Score**: ``score = relevance + usefulness_weight * usefulness``; items below ``min_score``
   are dropped. With the default weight 0.15 usefulness reorders items of similar relevance
   and sinks harmful ones, but cannot lift an irrelevant item over a relevant one.
6. **Budget**: walk by score, best first; take an item if its token estimate fits what is left
   of ``token_budget`` (a larger item is skipped, a smaller later one may still fit); stop at
   ``k`` items. ``k`` is a ceiling: fewer good items means fewer items.

Token estimate (:func:`estimate_tokens`): ``ceil(characters / 4) + 8`` per item — about four
characters per token for English with common tokenizers, plus the item's list framing.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .usefulness import DEFAULT_POLICY, UsefulnessPolicy

if TYPE_CHECKING:
    from ..models import MemoryItem, ScoredItem

#: Tokens added to each item's text estimate for its framing in the prompt (bullet, id, kind).
ITEM_OVERHEAD_TOKENS = 8


def estimate_tokens(text: str) -> int:
    """Estimated prompt tokens of one retrieved item: ``ceil(len(text) / 4) + 8``."""
    return math.ceil(len(text) / 4) + ITEM_OVERHEAD_TOKENS


@dataclass(frozen=True)
class RunScope:
    """The run a retrieval is for; items scoped to any of these (or global) are eligible."""

    purpose: str = ""
    agent: str = ""
    task_family: str = ""

    def pairs(self) -> list[tuple[str, str]]:
        """``(level, value)`` pairs besides ``global`` that this run matches."""
        return [(level, value) for level, value in
                (("purpose", self.purpose), ("agent", self.agent), ("task_family", self.task_family)) if value]

    def admits(self, item: MemoryItem) -> bool:
        """Whether an item's scope applies to this run."""
        return item.scope.level == "global" or (item.scope.level, item.scope.value) in self.pairs()


@dataclass(frozen=True)
class RetrievalPolicy:
    """Retrieval settings; the defaults are the documented ones (docs/memory.md)."""

    k: int = 10
    token_budget: int = 1200
    min_relevance: float = 0.3
    min_bm25: float = 0.0
    min_score: float = 0.3
    usefulness_weight: float = 0.15
    candidate_pool: int = 50
    statuses: tuple[str, ...] = ("promoted",)
    usefulness: UsefulnessPolicy = field(default_factory=lambda: DEFAULT_POLICY)


@dataclass(frozen=True)
class Retrieved:
    """One chosen item and why: its relevance, usefulness, final score and token estimate."""

    item: MemoryItem
    bm25: float
    relevance: float
    usefulness: float
    score: float
    tokens: int

    def scored(self) -> ScoredItem:
        """As the contract's :class:`~purpose_agent.models.ScoredItem` (score = final score)."""
        from ..models import ScoredItem

        return ScoredItem(item=self.item, score=self.score)


class _Hit:
    """A candidate as retrieval reads it: from a ``ScoredItem`` or a store's raw ``Candidate``."""

    __slots__ = ("id", "scope", "score", "source", "status", "text", "updated_at", "usefulness", "uses")

    def __init__(self, source: Any) -> None:
        self.source = source
        self.score = float(source.score)
        if hasattr(source, "column"):  # SQLiteStore.search_candidates: no validation yet
            self.id, self.text, self.status, self.scope = source.id, source.text, source.status, source.scope
            self.usefulness, self.uses, self.updated_at = source.usefulness, source.uses, source.updated_at
        else:
            item = source.item
            self.id, self.text, self.status = item.id, item.text, item.status.value
            self.scope = (item.scope.level, item.scope.value)
            self.usefulness, self.uses, self.updated_at = item.usefulness, item.counters.uses, item.updated_at


def _candidates(store: Any, query: str, scope: RunScope, policy: RetrievalPolicy) -> list[_Hit]:
    statuses = list(policy.statuses)
    status = statuses[0] if len(statuses) == 1 else None
    kwargs: dict[str, Any] = {"limit": policy.candidate_pool}
    if status is not None:
        from ..models import MemoryStatus

        kwargs["status"] = MemoryStatus(status)
    if getattr(store, "supports_scope_filter", False):
        kwargs["scopes"] = scope.pairs()
    search = getattr(store, "search_candidates", None) or store.search
    found = [_Hit(s) for s in search(query, **kwargs)]
    pairs = scope.pairs()
    return [h for h in found if h.status in statuses and (h.scope[0] == "global" or h.scope in pairs)]


def retrieve(store: Any, query: str, *, scope: RunScope | None = None, policy: RetrievalPolicy | None = None,
             now: float | None = None) -> list[Retrieved]:
    """Return the memories to show a run for ``query``, best first (see the module docstring)."""
    policy = policy or RetrievalPolicy()
    scope = scope or RunScope()
    now = time.time() if now is None else now
    if policy.k <= 0 or policy.token_budget <= 0 or not query.strip():
        return []
    candidates = _candidates(store, query, scope, policy)
    if not candidates:
        return []
    best = max(c.score for c in candidates)
    if best <= 0:
        return []
    ranked: list[tuple[float, str, _Hit, float, float, int]] = []
    for candidate in candidates:
        relevance = candidate.score / best
        if relevance < policy.min_relevance or candidate.score < policy.min_bm25:
            continue
        useful = policy.usefulness.score(candidate.usefulness, candidate.uses, now - candidate.updated_at)
        score = relevance + policy.usefulness_weight * useful
        if score < policy.min_score:
            continue
        ranked.append((score, candidate.id, candidate, relevance, useful, estimate_tokens(candidate.text)))
    # ties broken by id so the same memory gives the same prompt
    ranked.sort(key=lambda r: (-r[0], r[1]))
    chosen: list[Retrieved] = []
    left = policy.token_budget
    for score, _id, hit, relevance, useful, tokens in ranked:
        if len(chosen) >= policy.k:
            break
        if tokens <= left:
            # only the chosen few are built as MemoryItem (validation costs ~80 us each)
            chosen.append(Retrieved(item=hit.source.item, bm25=hit.score, relevance=relevance, usefulness=useful,
                                    score=score, tokens=tokens))
            left -= tokens
    return chosen
