"""Grounded critics: they know whether a run succeeded instead of judging it.

- ``reward``: the environment's reward given with the trajectory. A tool or environment that
  knows the outcome puts it in ``Observation.data["reward"]`` (a number; > 0 is success); the
  newest observation carrying one decides. No reward in the trajectory: no ground truth.
- ``hidden-tests``: assertions the agent never saw, run against its candidate code in the sandbox
  through the falsification harness. The tests come from the ``tests=`` option: a mapping from
  task text to a list of assertion sources, or a callable ``tests(trajectory)`` returning one (or
  ``None`` when the task has none).

Both put the outcome in ``Score.details["outcome"]``: ``True``, ``False`` or ``None`` (no ground
truth for this run). :func:`grounded_outcome` reads it, and also reads a ``falsification`` score
(success when every kept assertion passed).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def grounded_outcome(score: Any) -> bool | None:
    """The outcome a grounded critic's score states, or ``None`` when it states none."""
    details = score.details or {}
    if "outcome" in details:
        outcome = details["outcome"]
        return None if outcome is None else bool(outcome)
    if score.critic == "falsification":
        if details.get("error") or not details.get("kept") or "passed" not in details:
            return None
        return bool(details["passed"] == details["kept"] and not details.get("load_error"))
    return None


class RewardCritic:
    """Φ = 10 when the environment rewarded the run (reward > 0), else 0; the outcome is grounded."""

    name = "reward"

    def score(self, trajectory: Any) -> Any:
        """Read the newest ``Observation.data["reward"]`` of the trajectory."""
        from purpose_agent.models import Score

        for step in reversed(trajectory.steps):
            observation = step.observation
            if observation is None or "reward" not in observation.data:
                continue
            raw = observation.data["reward"]
            if isinstance(raw, bool) or not isinstance(raw, int | float):
                return Score(value=0.0, critic=self.name,
                             reason=f"step {step.index} gives a reward of {raw!r}, which is not a number; no ground truth",
                             details={"outcome": None, "error": "reward is not a number"})
            success = raw > 0
            return Score(value=10.0 if success else 0.0, critic=self.name,
                         reason=f"the environment gave reward {raw:g} at step {step.index}",
                         evidence=[f"reward {raw:g}"], details={"outcome": success, "reward": float(raw)})
        return Score(value=0.0, critic=self.name, reason="no environment reward in the trajectory; no ground truth",
                     details={"outcome": None})


TestsSource = Mapping[str, list[str]] | Callable[[Any], list[str] | None]


class HiddenTestsCritic:
    """Φ = 10 × hidden assertions passed / hidden assertions, run in the sandbox."""

    name = "hidden-tests"

    def __init__(self, tests: TestsSource | None, sandbox: Any, settings: Any, *, sandbox_problem: str = "") -> None:
        from .falsification import FalsificationCritic

        self.tests = tests
        # Only its sandbox runner is used: no model is asked anything.
        self._runner = FalsificationCritic(None, sandbox, settings, sandbox_problem=sandbox_problem)

    def _tests_for(self, trajectory: Any) -> list[str] | None:
        if self.tests is None:
            return None
        if callable(self.tests):
            return self.tests(trajectory)
        return self.tests.get(trajectory.task)

    def score(self, trajectory: Any) -> Any:
        """Run the task's hidden tests against the candidate; no tests or no sandbox: no ground truth."""
        from purpose_agent.errors import SandboxUnavailable
        from purpose_agent.models import Score

        from .falsification import NO_SANDBOX, HarnessError, find_candidate

        def none(reason: str, **details: Any) -> Any:
            return Score(value=0.0, critic=self.name, reason=reason, details={"outcome": None, **details})

        tests = self._tests_for(trajectory)
        if not tests:
            return none("no hidden tests for this task; no ground truth")
        if self._runner.sandbox is None:
            problem = self._runner.sandbox_problem
            return none(NO_SANDBOX + (f" ({problem})" if problem else ""), error="no sandbox")
        found = find_candidate(trajectory)
        if found is None:
            return Score(value=0.0, critic=self.name, reason="no candidate code to run the hidden tests against",
                         details={"outcome": False, "passed": 0, "total": len(tests)})
        source = found[0]
        assertions = [{"name": f"hidden_{i + 1}", "code": code} for i, code in enumerate(tests)]
        try:
            report = self._runner.run_assertions(source, assertions)
        except (SandboxUnavailable, HarnessError) as exc:
            return none(f"the hidden tests could not run: {exc}", error=str(exc))
        passed = sum(1 for r in report["results"] if r["passed"])
        failed = [f"FAIL {r['name']}: {r['error']}" for r in report["results"] if not r["passed"]]
        return Score(value=10.0 * passed / len(tests), critic=self.name,
                     reason=f"{passed} of {len(tests)} hidden tests passed",
                     evidence=[f"PASS {r['name']}" for r in report["results"] if r["passed"]] + failed,
                     details={"outcome": passed == len(tests), "passed": passed, "total": len(tests),
                              "load_error": report.get("load_error")})
