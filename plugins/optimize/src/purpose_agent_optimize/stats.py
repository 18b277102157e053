"""The statistics the optimizer decides with: Wilson intervals, the exact sign test, a paired bootstrap.

Pure standard library and deterministic (the bootstrap takes a seed), so every figure a command
prints can be reproduced.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

__all__ = ["paired_bootstrap_ci", "sign_test", "wilson_interval"]

#: z for a two-sided 95% interval.
Z95 = 1.959963984540054


def wilson_interval(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for a proportion (sound for small counts and 0 or n successes)."""
    if trials <= 0:
        return (0.0, 1.0)
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    # At 0 or n successes the bound on that side is exactly 0 or 1 (floating point says 0.99999…).
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return (low, high)


def sign_test(wins: int, losses: int) -> float:
    """One-sided exact sign test: P(at least ``wins`` wins among the discordant pairs | no effect).

    Ties (pairs where both arms did equally) carry no information and are left out."""
    n = wins + losses
    if n == 0:
        return 1.0
    return sum(math.comb(n, k) for k in range(wins, n + 1)) / 2**n


def paired_bootstrap_ci(differences: Sequence[float], *, resamples: int = 2000, seed: int = 0,
                        confidence: float = 0.95) -> tuple[float, float]:
    """A percentile bootstrap interval for the mean of paired differences (same tasks, two arms)."""
    if not differences:
        return (0.0, 0.0)
    rng = random.Random(seed)
    n = len(differences)
    means = sorted(sum(rng.choices(differences, k=n)) / n for _ in range(resamples))
    tail = (1 - confidence) / 2
    low = means[math.floor(tail * (resamples - 1))]
    high = means[math.ceil((1 - tail) * (resamples - 1))]
    return (low, high)
