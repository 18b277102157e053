"""purpose-agent critic ``test-critic``: Φ from the test results tools reported, never from claims."""

from __future__ import annotations

import re
from typing import Any

from purpose_agent.hookspecs import hookimpl

PURPOSE_AGENT_HOOK_API = "1.0"

_PYTEST_COUNT = re.compile(r"(\d+) (passed|failed|error|errors)\b")
_UNITTEST_RAN = re.compile(r"Ran (\d+) tests?")
_UNITTEST_FAILED = re.compile(r"FAILED \((?:failures=(\d+))?(?:, )?(?:errors=(\d+))?\)")


def test_counts(output: str) -> tuple[int, int] | None:
    """``(passed, failed)`` from a test runner's summary in ``output``, or ``None`` if there is none."""
    counts = {"passed": 0, "failed": 0}
    found = False
    for number, word in _PYTEST_COUNT.findall(output):
        found = True
        counts["passed" if word == "passed" else "failed"] += int(number)
    if found:
        return counts["passed"], counts["failed"]
    ran = _UNITTEST_RAN.search(output)
    if ran:
        total = int(ran.group(1))
        failed_match = _UNITTEST_FAILED.search(output)
        failed = sum(int(g) for g in failed_match.groups() if g) if failed_match else 0
        return total - failed, failed
    return None


test_counts.__test__ = False  # type: ignore[attr-defined]  # not a pytest test despite the name


class TestResultCritic:
    """Scores the latest test run observed in the trajectory."""

    __test__ = False
    name = "test-critic"

    def __init__(self, no_evidence_score: float) -> None:
        self.no_evidence_score = no_evidence_score

    def score(self, trajectory: Any) -> Any:
        from purpose_agent.models import Score

        for step in reversed(trajectory.steps):
            observation = step.observation
            if observation is None:
                continue
            counts = test_counts(observation.output + "\n" + (observation.error or ""))
            if counts is None:
                continue
            passed, failed = counts
            if passed + failed == 0:
                break
            return Score(value=10.0 * passed / (passed + failed), critic=self.name,
                         reason=f"latest test run at step {step.index}: {passed} passed, {failed} failed",
                         evidence=[observation.output[-400:]])
        return Score(value=self.no_evidence_score, critic=self.name,
                     reason="no test results in any tool output; claims in answers are not evidence")


@hookimpl
def settings_model() -> Any:
    from pydantic import BaseModel, Field

    class Settings(BaseModel):
        no_evidence_score: float = Field(default=0.0, ge=0.0, le=10.0)

    return Settings


@hookimpl
def register_critics(register: Any, settings: Any) -> None:
    register("test-critic", lambda context: TestResultCritic(settings.no_evidence_score),
             description="scores by reported test results")
