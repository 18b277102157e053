"""The optimization policy: label each role improving / plateau / degrading, and act.

Rules, first match wins (thresholds in :class:`Thresholds`):

1. **degrading** — the role's last ``window`` recorded runs succeed less than the ``window`` runs
   before them, beyond noise: the recent window's 95% Wilson upper bound is below the earlier
   window's success rate (both windows at least ``min_window_runs`` runs). When the role's pack
   changed (adopted or rolled back), the windows are the runs after and before that change. Action: **roll back**
   the adopted pack if there is one (the pack is the change most likely to blame), else **stop**
   (nothing to roll back; look at the fingerprint).
2. **improving** — one of the last ``patience`` shadow evaluations adopted a candidate.
   Action: **keep optimizing**.
3. **plateau** — the last ``patience`` shadow evaluations all kept the baseline. Action:
   **stop** (``propose`` then refuses for this role unless forced).
4. **insufficient data** — fewer evaluations and no measurable drop. Action: keep optimizing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .stats import wilson_interval
from .store import Decision, OptimizeStore

__all__ = ["KEEP_OPTIMIZING", "ROLL_BACK", "STOP", "Thresholds", "Verdict", "act", "judge", "verdict_for"]

KEEP_OPTIMIZING = "keep optimizing"
STOP = "stop"
ROLL_BACK = "roll back"


@dataclass(frozen=True)
class Thresholds:
    """What the labels are decided with."""

    #: Shadow evaluations without an adoption, in a row, that make a plateau.
    patience: int = 3
    #: Recorded runs per window when comparing recent with earlier success.
    window: int = 20
    #: The fewest runs a window needs before a drop can be called.
    min_window_runs: int = 10


@dataclass
class Verdict:
    """A role's label, the action it calls for, and why."""

    role: str
    label: str
    action: str
    reason: str
    adopted_version: int | None

    def as_dict(self) -> dict[str, Any]:
        """Plain data (for ``--json``)."""
        return asdict(self)


def _drop(runs: Sequence[dict[str, Any]], thresholds: Thresholds, changed_at: float | None) -> str:
    """Why the recent window is worse than the one before, or ``""``.

    With a pack change at ``changed_at`` (an adoption or a rollback), the recent window holds
    only runs after it and the earlier one only runs before it: the question is whether the
    change made things worse, and a rollback is not judged by the runs that caused it."""
    if changed_at is None:
        recent, earlier = runs[-thresholds.window:], runs[-2 * thresholds.window:-thresholds.window]
    else:
        recent = [r for r in runs if r["recorded_at"] > changed_at][-thresholds.window:]
        earlier = [r for r in runs if r["recorded_at"] <= changed_at][-thresholds.window:]
    if len(recent) < thresholds.min_window_runs or len(earlier) < thresholds.min_window_runs:
        return ""
    recent_successes = sum(1 for r in recent if r["success"])
    earlier_rate = sum(1 for r in earlier if r["success"]) / len(earlier)
    _low, high = wilson_interval(recent_successes, len(recent))
    if high < earlier_rate:
        return (f"success fell from {earlier_rate:.0%} ({len(earlier)} runs) to {recent_successes / len(recent):.0%} "
                f"(last {len(recent)} runs; 95% upper bound {high:.0%})")
    return ""


def judge(role: str, runs: Sequence[dict[str, Any]], decisions: Sequence[Decision], adopted_version: int | None,
          thresholds: Thresholds = Thresholds(), *, changed_at: float | None = None) -> Verdict:
    """The label for ``role`` from its recorded runs (oldest first, no shadow runs), its shadow
    decisions (oldest first) and when its pack last changed (``None``: never)."""
    drop = _drop(runs, thresholds, changed_at)
    if drop:
        if adopted_version is not None:
            return Verdict(role, "degrading", ROLL_BACK, f"{drop}; rolling back pack version {adopted_version}",
                           adopted_version)
        return Verdict(role, "degrading", STOP, f"{drop}; no adopted pack to roll back: read the fingerprint",
                       adopted_version)
    last = list(decisions)[-thresholds.patience:]
    if any(d.adopted for d in last):
        latest = next(d for d in reversed(last) if d.adopted)
        return Verdict(role, "improving", KEEP_OPTIMIZING,
                       f"pack version {latest.candidate} was adopted by a shadow evaluation "
                       f"({latest.result.get('reason', '')})", adopted_version)
    if len(last) >= thresholds.patience:
        return Verdict(role, "plateau", STOP,
                       f"the last {len(last)} shadow evaluations found no significant gain", adopted_version)
    return Verdict(role, "insufficient data", KEEP_OPTIMIZING,
                   f"{len(decisions)} shadow evaluation(s) and no measurable drop yet", adopted_version)


def verdict_for(store: OptimizeStore, role: str, thresholds: Thresholds = Thresholds()) -> Verdict:
    """:func:`judge` on what the store holds for ``role``."""
    adopted = store.adopted(role)
    adoptions = store.adoptions(role)
    return judge(role, store.runs(role=role), store.decisions(role), adopted.version if adopted else None, thresholds,
                 changed_at=adoptions[-1].at if adoptions else None)


def act(store: OptimizeStore, verdict: Verdict) -> str:
    """Carry out a verdict: a rollback is done now; keep optimizing and stop change nothing stored
    (``propose`` reads the verdict and refuses on a plateau). Returns what was done."""
    if verdict.action == ROLL_BACK:
        adoption = store.rollback(verdict.role, reason=f"policy: {verdict.reason}")
        now = f"pack version {adoption.version}" if adoption.version is not None else "no pack"
        return f"rolled back role '{verdict.role}' to {now}"
    return f"{verdict.action}: nothing changed"
