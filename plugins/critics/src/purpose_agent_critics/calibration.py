"""Calibration of a model critic against grounded outcomes: the mapping and the agreement figures.

Input: pairs (raw score 0..10 from the model critic, grounded outcome 0/1 from hidden tests, an
environment reward or falsification) for one (critic model, task family). Output:

* :func:`fit_isotonic`: a monotone map raw score → probability of success, by isotonic
  regression (pool-adjacent-violators over the distinct raw scores, weighted by their counts),
  interpolated linearly between the distinct scores. Outside the scores seen it says nothing
  (:meth:`ScoreMapping.covers`): a judge seen giving only 1s and 8s on a family has not shown
  what its 9 means there. Deterministic: the same pairs in any order give the same map.
* :func:`agreement`: sample counts, accuracy of "raw ≥ threshold means success", Cohen's kappa,
  AUC (the probability that a success scores above a failure, ties counted half), and the Brier
  score of the raw score read as a probability (raw / 10) and of the calibrated one.
* :func:`assess`: a verdict, ``insufficient`` (fewer than ``min_samples`` pairs), ``unreliable``
  (agreement below ``min_agreement``) or ``reliable``, with a sentence saying why.

numpy only; this module is imported when a calibrated critic or the CLI command is first used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

INSUFFICIENT, UNRELIABLE, RELIABLE = "insufficient", "unreliable", "reliable"


@dataclass(frozen=True)
class ScoreMapping:
    """A monotone map from a raw score to the probability of success."""

    knots: tuple[float, ...]  # the distinct raw scores seen, ascending
    probabilities: tuple[float, ...]  # the fitted probability at each knot, non-decreasing

    def covers(self, raw: float) -> bool:
        """Whether ``raw`` lies within the scores the mapping was fitted on."""
        return bool(self.knots) and self.knots[0] <= float(raw) <= self.knots[-1]

    def __call__(self, raw: float) -> float:
        """The probability of success for ``raw`` (the base rate's fit at the ends, linear between knots)."""
        if not self.knots:
            raise ValueError("the mapping was fitted on no judgements; record some before calibrating")
        return float(np.interp(float(raw), self.knots, self.probabilities))


def fit_isotonic(scores: Sequence[float], outcomes: Sequence[bool | int]) -> ScoreMapping:
    """The isotonic (monotone non-decreasing) least-squares fit of ``outcomes`` on ``scores``."""
    if len(scores) != len(outcomes):
        raise ValueError(f"got {len(scores)} scores and {len(outcomes)} outcomes; give one outcome per score")
    if not len(scores):
        return ScoreMapping((), ())
    x = np.asarray(scores, dtype=float)
    y = np.asarray(outcomes, dtype=float)
    knots, inverse = np.unique(x, return_inverse=True)
    sums = np.bincount(inverse, weights=y)
    counts = np.bincount(inverse).astype(float)
    # Pool adjacent violators: each block is [sum, count, number of knots]; merge while a block's
    # mean is above the next one's.
    blocks: list[list[float]] = []
    for total, count in zip(sums, counts, strict=True):
        blocks.append([float(total), float(count), 1.0])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            total_last, count_last, width_last = blocks.pop()
            blocks[-1][0] += total_last
            blocks[-1][1] += count_last
            blocks[-1][2] += width_last
    fitted: list[float] = []
    for total, count, width in blocks:
        fitted.extend([total / count] * int(width))
    return ScoreMapping(tuple(float(k) for k in knots), tuple(fitted))


@dataclass(frozen=True)
class Agreement:
    """How well the raw scores of one (model, family) agree with the grounded outcomes."""

    samples: int
    successes: int
    accuracy: float | None  # share of pairs where (raw >= threshold) == outcome
    kappa: float | None  # Cohen's kappa of the same two labels; None when chance agreement is total
    auc: float | None  # None without both a success and a failure
    brier_raw: float | None  # mean (raw/10 - outcome)^2
    brier_calibrated: float | None  # mean (mapping(raw) - outcome)^2, in-sample
    threshold: float

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON and Score details."""
        return asdict(self)


def agreement(scores: Sequence[float], outcomes: Sequence[bool | int], *, threshold: float = 7.0,
              mapping: ScoreMapping | None = None) -> Agreement:
    """Agreement figures of ``scores`` (0..10) with ``outcomes`` (0/1); see :class:`Agreement`."""
    if len(scores) != len(outcomes):
        raise ValueError(f"got {len(scores)} scores and {len(outcomes)} outcomes; give one outcome per score")
    n = len(scores)
    if n == 0:
        return Agreement(0, 0, None, None, None, None, None, threshold)
    x = np.asarray(scores, dtype=float)
    y = np.asarray(outcomes, dtype=float)
    said = (x >= threshold).astype(float)
    accuracy = float(np.mean(said == y))
    p_said, p_true = float(said.mean()), float(y.mean())
    chance = p_said * p_true + (1 - p_said) * (1 - p_true)
    kappa = None if chance >= 1.0 else (accuracy - chance) / (1 - chance)
    positives, negatives = int(y.sum()), n - int(y.sum())
    auc = None
    if positives and negatives:
        ranks = _average_ranks(x)
        auc = float((ranks[y == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives))
    brier_raw = float(np.mean((x / 10.0 - y) ** 2))
    mapping = mapping or fit_isotonic(scores, outcomes)
    calibrated = np.array([mapping(v) for v in x])
    brier_calibrated = float(np.mean((calibrated - y) ** 2))
    return Agreement(n, positives, accuracy, kappa, auc, brier_raw, brier_calibrated, threshold)


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks with ties given their average rank (what the Mann-Whitney U needs)."""
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values), dtype=float)
    sorted_values = values[order]
    start = 0
    while start < len(values):
        end = start
        while end + 1 < len(values) and sorted_values[end + 1] == sorted_values[start]:
            end += 1
        ranks[order[start : end + 1]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


@dataclass(frozen=True)
class Assessment:
    """Whether a model critic can be trusted on a family, with the figures and a sentence why."""

    model: str
    family: str
    status: str  # insufficient | unreliable | reliable
    reason: str
    figures: Agreement
    mapping: ScoreMapping

    def calibrated(self, raw: float) -> float | None:
        """10 × the probability of success for ``raw``; None before the mapping is trusted, or
        when ``raw`` is outside the scores it was fitted on."""
        if self.status == INSUFFICIENT or not self.mapping.covers(raw):
            return None
        return round(10.0 * self.mapping(raw), 4)


def assess(model: str, family: str, scores: Sequence[float], outcomes: Sequence[bool | int], *,
           threshold: float = 7.0, min_samples: int = 20, min_agreement: float = 0.8) -> Assessment:
    """Fit the mapping, measure agreement and say whether the model critic is trusted on ``family``."""
    mapping = fit_isotonic(scores, outcomes)
    figures = agreement(scores, outcomes, threshold=threshold, mapping=mapping)
    n = figures.samples
    if n < min_samples:
        status = INSUFFICIENT
        reason = (f"model critic {model} has {n} grounded judgement(s) on family {family!r}; "
                  f"{min_samples} are needed before its scores are trusted")
    else:
        share = f"{100 * (figures.accuracy or 0.0):.0f}%"
        if (figures.accuracy or 0.0) < min_agreement:
            status = UNRELIABLE
            reason = (f"model critic {model} agrees with the grounded outcome {share} on family {family!r} "
                      f"over {n} runs (needs {100 * min_agreement:.0f}%)")
        else:
            status = RELIABLE
            reason = f"model critic {model} agrees with the grounded outcome {share} on family {family!r} over {n} runs"
    return Assessment(model, family, status, reason, figures, mapping)
