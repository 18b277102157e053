"""The demo's pieces: code extraction, the sandboxed unit-test critic, and a scripted full run."""

from __future__ import annotations

import json
from typing import Any

from purpose_agent.models import ExecResult, Trajectory
from purpose_agent.testing import FunctionBackend, make_kernel, plugin
from purpose_agent_demo.demo import SEED_TASKS, Solver, UnitTestCritic, extract_code, run_demo


def test_extract_code_prefers_fences_then_defs() -> None:
    assert extract_code("Here:\n```python\ndef f():\n    return 1\n```\nDone") == "def f():\n    return 1\n"
    assert extract_code("Sure! The code is\ndef f():\n    return 1") == "def f():\n    return 1"
    assert extract_code(None) == ""


class FakeSandbox:
    """Runs the harness with exec — only for trusted test code, never model output."""

    name = "fake"

    def __init__(self) -> None:
        self.scripts: list[str] = []

    def layers(self) -> list[Any]:
        return []

    def run(self, code: str, *, timeout: float = 10.0, files: Any = None) -> ExecResult:
        import contextlib
        import io

        self.scripts.append(code)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(code, {})
        return ExecResult(exit_code=0, stdout=out.getvalue())


def test_unit_test_critic_scores_the_pass_fraction() -> None:
    sandbox = FakeSandbox()
    critic = UnitTestCritic(sandbox, SEED_TASKS[2].tests)
    good = critic.score(Trajectory(task="t", final_answer="def factorial(n):\n    return 1 if n < 2 else n * factorial(n - 1)"))
    assert good.value == 10.0 and good.reason == "4/4 hidden tests passed"
    wrong = critic.score(Trajectory(task="t", final_answer="def factorial(n):\n    return n"))
    assert wrong.value == 2.5 and "assert factorial(0) == 1" in wrong.evidence
    broken = critic.score(Trajectory(task="t", final_answer="def factorial(n) return"))
    assert broken.value == 0.0 and "does not run" in broken.reason


def test_unit_test_critic_refuses_without_a_sandbox() -> None:
    score = UnitTestCritic(None, ("assert True",)).score(Trajectory(task="t", final_answer="x = 1"))
    assert score.value == 0 and "refusing to run model-written code unconfined" in score.reason


def test_demo_learns_a_lesson_that_fixes_the_next_round() -> None:
    """A scripted coder that forgets n = 0 unless a lesson tells it: round 1 fails one test, the
    learner proposes the lesson, replay shows the gain, memory CI promotes it, round 2 passes."""
    sandbox = FakeSandbox()
    lesson = "Handle n = 0 explicitly in factorial."
    correct = "def factorial(n):\n    return 1 if n < 2 else n * factorial(n - 1)"
    forgetful = "def factorial(n):\n    return n * factorial(n - 1) if n > 1 else n"

    def reply(request: Any) -> str:
        if request.response_schema and "lessons" in request.response_schema.get("properties", {}):
            return json.dumps({"lessons": [{"kind": "heuristic", "text": lesson, "scope": "task_family"}]})
        code = correct if lesson in request.messages[0].content else forgetful
        return json.dumps({"thought": "", "action": "answer", "answer": code})

    kernel = make_kernel(
        plugin("fake-model", register_backends=lambda register: register("fake", lambda model, ctx: FunctionBackend(reply))),
        plugin("fake-sandbox", register_sandboxes=lambda register: register("fake", lambda ctx: sandbox)),
        plugin("toy-scanner", scan=lambda request: []),
        builtins=True,
    )
    lines: list[str] = []
    results = run_demo(model="fake:x", rounds=2, kernel=kernel, say=lines.append, tasks=(SEED_TASKS[2],), max_steps=1)
    assert [r.scores["factorial"] for r in results] == [7.5, 10.0]
    first = next(line for line in lines if line.startswith("round 1 [1/1] factorial"))
    assert "FAIL" in first and "proposed" in first and "promoted 1" in first
    assert any(line.startswith("round 2 [1/1] factorial") and "pass" in line and "lessons used 1" in line for line in lines)
    learned = lines.index("\nlessons learned (promoted):")
    assert lines[learned + 1] == f"  - [heuristic] {lesson}"
    assert [r.pass_rate for r in results] == [0.0, 1.0]
    assert lines[-2:] == ["pass rate per round: 1: 0%, 2: 100%", "scores per round: 1: 7.5, 2: 10.0"]


def test_the_solver_sends_a_sampling_seed_per_draw_and_caches_by_it() -> None:
    requests: list[Any] = []

    def reply(request: Any) -> str:
        requests.append(request)
        return f"reply {len(requests)}"

    greedy = Solver(FunctionBackend(reply))
    assert greedy.answer("t", [], draw=1) == greedy.answer("t", [], draw=2) == "reply 1"
    assert requests[0].temperature == 0.0 and requests[0].extra == {}
    sampled = Solver(FunctionBackend(reply), temperature=0.5)
    first = sampled.answer("t", ["a lesson"], draw=7)
    assert sampled.answer("t", ["a lesson"], draw=7) == first and sampled.calls == 1
    assert sampled.answer("t", ["a lesson"], draw=8) != first and sampled.calls == 2
    assert [r.extra for r in requests[1:]] == [{"seed": 7}, {"seed": 8}] and requests[1].temperature == 0.5
    assert "- a lesson" in requests[1].messages[0].content
