"""How useful a memory item has been: a Q-value with decay and an exploration bonus.

The value is updated only when an item was actually used (put in front of the actor), never
merely because it was retrieved or stored. With ``q`` the stored value (``MemoryItem.usefulness``),
``age`` the seconds since the item last changed (``now - updated_at``), ``n`` its use count:

* decay:        ``q_now = q * 0.5 ** (age / half_life)`` — stale evidence fades toward 0;
* one use:      ``q <- q_now + learning_rate * (r - q_now)`` with ``r = +1`` (helpful) or
  ``-1`` (harmful); a use without a verdict only applies the decay and counts the use;
* ranking:      ``usefulness = q_now + exploration_bonus / sqrt(1 + n)`` — a new item gets a
  bonus so it is tried, and the bonus shrinks as evidence accumulates.

``q`` stays within [-1, 1], so ``usefulness`` is within [-1, 1 + exploration_bonus].
This module imports no pydantic; :func:`apply_use` works on any object with the item's fields.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

DAY_S = 86_400.0


@dataclass(frozen=True)
class UsefulnessPolicy:
    """The constants of the usefulness formula (see the module docstring)."""

    learning_rate: float = 0.3
    half_life_days: float = 30.0
    exploration_bonus: float = 0.25

    def decayed(self, q: float, age_s: float) -> float:
        """``q`` after ``age_s`` seconds without news (never grows; negative ages count as 0)."""
        if self.half_life_days <= 0:
            return q
        return q * 0.5 ** (max(age_s, 0.0) / (self.half_life_days * DAY_S))

    def updated(self, q: float, age_s: float, helpful: bool | None) -> float:
        """The new stored value after one use with verdict ``helpful`` (``None``: no verdict)."""
        current = self.decayed(q, age_s)
        if helpful is None:
            return current
        reward = 1.0 if helpful else -1.0
        return max(-1.0, min(1.0, current + self.learning_rate * (reward - current)))

    def score(self, q: float, uses: int, age_s: float) -> float:
        """The ranking value: decayed ``q`` plus the exploration bonus for ``uses`` uses so far."""
        return self.decayed(q, age_s) + self.exploration_bonus / math.sqrt(1 + max(uses, 0))


DEFAULT_POLICY = UsefulnessPolicy()


def item_score(item: Any, *, policy: UsefulnessPolicy = DEFAULT_POLICY, now: float | None = None) -> float:
    """The ranking usefulness of a :class:`~purpose_agent.models.MemoryItem` at time ``now``."""
    now = time.time() if now is None else now
    return policy.score(item.usefulness, item.counters.uses, now - item.updated_at)


def apply_use(item: Any, helpful: bool | None, *, policy: UsefulnessPolicy = DEFAULT_POLICY,
              now: float | None = None) -> Any:
    """Return a copy of ``item`` with one use recorded: counters, usefulness and ``updated_at``.

    Stores call this inside their own transaction so concurrent uses are not lost.
    """
    now = time.time() if now is None else now
    counters = item.counters.model_copy(update={
        "uses": item.counters.uses + 1,
        "helpful": item.counters.helpful + (1 if helpful is True else 0),
        "harmful": item.counters.harmful + (1 if helpful is False else 0),
    })
    usefulness = policy.updated(item.usefulness, now - item.updated_at, helpful)
    return item.model_copy(update={"counters": counters, "usefulness": usefulness, "updated_at": now})


def record_use(store: Any, item_id: str, helpful: bool | None, *, policy: UsefulnessPolicy = DEFAULT_POLICY,
               now: float | None = None) -> Any:
    """Record that ``item_id`` was used in a run, with verdict ``helpful`` (``None``: unknown).

    Uses the store's own atomic ``record_use`` when it has one (the SQLite store updates the
    counters in place, in one transaction); otherwise reads the item and writes it back with
    ``update`` (a new version; not atomic across processes). Returns the updated item.
    """
    own = getattr(store, "record_use", None)
    if own is not None:
        return own(item_id, helpful, policy=policy, now=now)
    from .errors import MemoryItemNotFound

    item = store.get(item_id)
    if item is None:
        raise MemoryItemNotFound(f"memory item {item_id} does not exist; cannot record its use")
    return store.update(apply_use(item, helpful, policy=policy, now=now))
