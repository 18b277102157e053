"""Capability fingerprints: how each role does on each task family, from the recorded runs.

A fingerprint counts runs and successes (with a 95% Wilson interval on the success rate), the
steps, tool calls and tokens a run takes (mean and median), and each failure kind with its count
and the interval on its share of the runs. Shadow-evaluation runs are left out: they measure
candidate packs, not the role as it runs.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from .stats import wilson_interval

__all__ = ["Fingerprint", "fingerprints"]


@dataclass
class Fingerprint:
    """One role on one task family."""

    role: str
    task_family: str
    runs: int
    successes: int
    success_rate: float
    success_ci: tuple[float, float]
    steps_mean: float
    steps_median: float
    tool_calls_mean: float
    tokens_mean: float
    tokens_median: float
    failure_kinds: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain data (for ``--json``)."""
        return asdict(self)


def _fingerprint(role: str, family: str, runs: list[dict[str, Any]]) -> Fingerprint:
    n = len(runs)
    successes = sum(1 for r in runs if r["success"])
    steps = [r["steps"] for r in runs]
    tokens = [r["prompt_tokens"] + r["completion_tokens"] for r in runs]
    kinds = Counter(r["failure_kind"] for r in runs if r["failure_kind"])
    return Fingerprint(
        role=role, task_family=family, runs=n, successes=successes, success_rate=successes / n,
        success_ci=wilson_interval(successes, n),
        steps_mean=statistics.fmean(steps), steps_median=float(statistics.median(steps)),
        tool_calls_mean=statistics.fmean(r["tool_calls"] for r in runs),
        tokens_mean=statistics.fmean(tokens), tokens_median=float(statistics.median(tokens)),
        failure_kinds={kind: {"count": count, "share": count / n, "ci": wilson_interval(count, n)}
                       for kind, count in kinds.most_common()},
    )


def fingerprints(runs: Iterable[dict[str, Any]]) -> list[Fingerprint]:
    """A fingerprint per (role, task family) among ``runs`` (recorded member runs), sorted."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for run in runs:
        groups[(run["role"], run["task_family"])].append(run)
    return [_fingerprint(role, family, group) for (role, family), group in sorted(groups.items())]
