"""Critic ``calibrated``: a model critic that learns where it is right, and a grounded one it defers to.

Each call scores the trajectory with both critics. When the grounded critic knows the outcome
(hidden tests ran, the environment gave a reward), the pair (model's raw score, outcome) is
recorded under (model id, task family) in the :class:`CalibrationStore`. The recorded pairs give
a monotone mapping raw → probability of success and agreement figures
(:mod:`.calibration`). What the critic reports:

============  =====================  ==========================================================
status        grounded outcome       Φ reported
============  =====================  ==========================================================
reliable      either                 10 × calibrated probability of the model's raw score
unreliable    known                  the grounded critic's score (preferred there)
unreliable    unknown                10 × calibrated probability (the note says it is unreliable)
insufficient  known                  the grounded critic's score (an unproven critic is not trusted)
insufficient  unknown                the model's raw score, marked uncalibrated
============  =====================  ==========================================================

A raw score outside the range recorded for the family has no calibration (isotonic regression
says nothing beyond its data): with no grounded outcome it is reported raw, marked so.

When a (model, family) turns unreliable, the kernel emits a ``critic.unreliable`` event (and
``critic.reliable`` when it recovers) with the sentence saying why.

Task family: an explicit tag ``[family: NAME]`` in the task or the purpose wins; else the
``family=`` option (a callable of the trajectory); else a heuristic: the task's first line,
lower-cased, without parenthesised or quoted parts, numbers and articles, cut to its first
three words ("Open the red door (layout 7)" → "open red door").
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable
from typing import Any

from .calibration import INSUFFICIENT, RELIABLE, UNRELIABLE, Assessment, assess
from .grounded import grounded_outcome

NAME = "calibrated"

_TAG = re.compile(r"\[family:\s*([^\]\n]{1,80}?)\s*\]", re.IGNORECASE)
_NOISE = re.compile(r"\([^)]*\)|\[[^\]]*\]|\"[^\"]*\"|'[^']*'|`[^`]*`|\d+(?:\.\d+)?")
_ARTICLES = frozenset({"a", "an", "the"})


def task_family(trajectory: Any, family: Callable[[Any], str] | None = None) -> str:
    """The task family of a trajectory: a ``[family: NAME]`` tag, else ``family(trajectory)``,
    else the heuristic described in the module docstring."""
    for text in (trajectory.task, trajectory.purpose):
        match = _TAG.search(text or "")
        if match:
            return match.group(1).strip().lower()
    if family is not None:
        named = str(family(trajectory) or "").strip()
        if named:
            return named
    first = (trajectory.task or "").strip().splitlines()[0] if (trajectory.task or "").strip() else ""
    words = [w for w in re.findall(r"[a-z][a-z_-]*", _NOISE.sub(" ", first.lower())) if w not in _ARTICLES]
    return " ".join(words[:3]) or "untitled"


def model_id(critic: Any) -> str:
    """``critic name/backend name`` (``standard/groq:llama-3.3-70b-versatile``), or the critic's name."""
    backend = getattr(critic, "backend", None)
    backend_name = getattr(backend, "name", "") if backend is not None else ""
    name = getattr(critic, "name", type(critic).__name__)
    return f"{name}/{backend_name}" if backend_name else str(name)


def state_key(trajectory: Any) -> str:
    """The judged state: run, number of steps and answer (a finished run re-scored is one sample)."""
    text = f"{trajectory.run_id}\x00{len(trajectory.steps)}\x00{trajectory.final_answer or ''}"
    return hashlib.sha256(text.encode()).hexdigest()


class CalibratedCritic:
    """Reports calibrated model scores, and the grounded critic's where the model is not trusted."""

    name = NAME

    def __init__(self, model_critic: Any, grounded_critic: Any, store: Any, settings: Any, *,
                 family: Callable[[Any], str] | None = None, emit: Callable[[Any], None] | None = None,
                 model: str | None = None) -> None:
        self.model_critic = model_critic
        self.grounded_critic = grounded_critic
        self.store = store
        self.settings = settings
        self.family = family
        self.emit = emit
        self.model = model or model_id(model_critic)
        self._last_status: dict[str, str] = {}
        self._lock = threading.Lock()

    def assessment(self, family: str) -> Assessment:
        """The current verdict on the model critic for ``family``, from the recorded judgements."""
        s = self.settings
        scores, outcomes = self.store.samples(self.model, family, limit=s.max_samples)
        return assess(self.model, family, scores, outcomes, threshold=s.success_threshold,
                      min_samples=s.min_samples, min_agreement=s.min_agreement)

    def score(self, trajectory: Any) -> Any:
        """Score with both critics, record the pair when the outcome is known, report per the table above."""
        from purpose_agent.models import Score

        family = task_family(trajectory, self.family)
        raw = self.model_critic.score(trajectory)
        grounded = self.grounded_critic.score(trajectory)
        outcome = grounded_outcome(grounded)
        model_failed = bool(raw.details.get("error"))
        if outcome is not None and not model_failed:
            # A model call that failed says nothing about the model's judgement: not a sample.
            self.store.record(model=self.model, family=family, raw_score=raw.value, outcome=outcome,
                              grounded_by=getattr(self.grounded_critic, "name", "grounded"),
                              state_key=state_key(trajectory))
        verdict = self.assessment(family)
        self._announce(verdict, trajectory.run_id)
        figures = verdict.figures
        details: dict[str, Any] = {
            "model": self.model,
            "family": family,
            "status": verdict.status,
            "why": verdict.reason,
            "raw_score": raw.value,
            "grounded_outcome": outcome,
            "grounded_by": grounded.critic,
            "samples": figures.samples,
            "agreement": figures.accuracy,
            "model_details": raw.details,
        }
        calibrated = verdict.calibrated(raw.value)
        if verdict.status != RELIABLE and outcome is not None:
            used, value, reason, evidence = "grounded", grounded.value, grounded.reason, grounded.evidence
            reason = f"{reason} [grounded critic preferred: {verdict.reason}]"
        elif calibrated is not None:
            used, value, evidence = "calibrated", calibrated, raw.evidence
            note = "" if verdict.status == RELIABLE else f"; unreliable: {verdict.reason}"
            reason = f"{raw.reason} [calibrated: raw {raw.value:g} -> {calibrated:g}{note}]"
        else:
            used, value, evidence = "raw", raw.value, raw.evidence
            why = verdict.reason
            if verdict.status != INSUFFICIENT:
                knots = verdict.mapping.knots
                why = (f"raw score {raw.value:g} is outside the scores recorded for family {family!r} "
                       f"({knots[0]:g}-{knots[-1]:g}); {verdict.reason}")
            reason = f"{raw.reason} [uncalibrated: {why}]"
        # The wrapped critic's own figures (delta's reward = Φ(s′) − Φ(s) on its raw scale) stay in
        # model_details: they do not describe the score reported here.
        details["used"] = used
        return Score(value=min(10.0, max(0.0, float(value))), critic=self.name, reason=reason,
                     evidence=list(evidence), details=details)

    def _announce(self, verdict: Assessment, run_id: str) -> None:
        """Emit an event when a (model, family) turns unreliable or recovers (once per change);
        ``run_id`` is the run whose judgement tipped it."""
        key = verdict.family
        with self._lock:
            before = self._last_status.get(key)
            self._last_status[key] = verdict.status
        if self.emit is None or before == verdict.status or verdict.status == INSUFFICIENT:
            return
        if verdict.status == UNRELIABLE or before == UNRELIABLE:
            from purpose_agent.models import Event

            kind = "critic.unreliable" if verdict.status == UNRELIABLE else "critic.reliable"
            self.emit(Event(type=kind, run_id=run_id, data={"model": self.model, "family": verdict.family, "why": verdict.reason,
                                             "figures": verdict.figures.as_dict()}))
