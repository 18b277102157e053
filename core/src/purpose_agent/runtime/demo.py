"""``purpose-agent demo``: a team learns the seed coding tasks over rounds.

Each round the team solves fibonacci, fizzbuzz and factorial. Its answer is graded by hidden
unit tests executed **in the sandbox** (the score is 10 × the pass fraction — arithmetic, not a
model's opinion). After every task the learner extracts lessons, memory CI screens and replays
them, and the next round retrieves what was promoted. The demo prints the score per round and
the lessons learned. With the embedded 135M-parameter model the scores are low and noisy: the
demo shows the loop working, not what a strong model gains.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import SandboxUnavailable
from ..models import MemoryStatus, Score, Trajectory


@dataclass(frozen=True)
class CodingTask:
    """A seed task: the prompt, the function it asks for, and hidden tests (Python asserts)."""

    family: str
    prompt: str
    tests: tuple[str, ...]


SEED_TASKS: tuple[CodingTask, ...] = (
    CodingTask("fibonacci", "Write a Python function fibonacci(n) that returns the n-th Fibonacci number, "
               "with fibonacci(0) == 0 and fibonacci(1) == 1.",
               ("assert fibonacci(0) == 0", "assert fibonacci(1) == 1", "assert fibonacci(2) == 1",
                "assert fibonacci(10) == 55", "assert fibonacci(20) == 6765")),
    CodingTask("fizzbuzz", "Write a Python function fizzbuzz(n) that returns 'FizzBuzz' if n is divisible by 15, "
               "'Fizz' if by 3, 'Buzz' if by 5, and otherwise str(n).",
               ("assert fizzbuzz(1) == '1'", "assert fizzbuzz(3) == 'Fizz'", "assert fizzbuzz(5) == 'Buzz'",
                "assert fizzbuzz(15) == 'FizzBuzz'", "assert fizzbuzz(98) == '98'")),
    CodingTask("factorial", "Write a Python function factorial(n) that returns n! for n >= 0.",
               ("assert factorial(0) == 1", "assert factorial(1) == 1", "assert factorial(5) == 120",
                "assert factorial(10) == 3628800")),
)

_FENCED = re.compile(r"```(?:python|py)?\s*\n(.*?)```", re.DOTALL)
_HARNESS = """
import json
namespace = {}
results = []
try:
    exec(compile(CANDIDATE, "candidate.py", "exec"), namespace)
except BaseException as exc:
    print("RESULT " + json.dumps({"loaded": False, "error": type(exc).__name__ + ": " + str(exc)[:200]}))
else:
    for test in TESTS:
        try:
            exec(test, namespace)
            results.append(True)
        except BaseException:
            results.append(False)
    print("RESULT " + json.dumps({"loaded": True, "passed": results}))
"""


_DEF = re.compile(r"^(?:def|import|from|class) ", re.MULTILINE)


def extract_code(answer: str | None) -> str:
    """The Python code in an answer: fenced blocks if any; else from the first ``def``/``import``
    line on (small models often put prose before unfenced code); else the whole answer."""
    if not answer:
        return ""
    blocks = _FENCED.findall(answer)
    if blocks:
        return "\n\n".join(blocks)
    start = _DEF.search(answer)
    return answer[start.start():] if start else answer


class UnitTestCritic:
    """Φ = 10 × the fraction of hidden tests that pass, executed in the sandbox.

    Without a sandbox it refuses (score 0 with the reason): model-written code never runs
    unconfined.
    """

    name = "unit-tests"

    def __init__(self, sandbox: Any, tests: tuple[str, ...], *, timeout: float = 10.0) -> None:
        self.sandbox = sandbox
        self.tests = tests
        self.timeout = timeout

    def score(self, trajectory: Trajectory) -> Score:
        """Run the final answer's code against the tests in the sandbox."""
        code = extract_code(trajectory.final_answer)
        if not code.strip():
            return Score(value=0.0, critic=self.name, reason="no code in the final answer")
        if self.sandbox is None:
            return Score(value=0.0, critic=self.name, reason="no sandbox available: refusing to run model-written code unconfined")
        script = f"CANDIDATE = {code!r}\nTESTS = {list(self.tests)!r}\n{_HARNESS}"
        try:
            result = self.sandbox.run(script, timeout=self.timeout)
        except SandboxUnavailable as exc:
            return Score(value=0.0, critic=self.name, reason=f"sandbox unavailable: {exc}")
        line = next((ln for ln in reversed(result.stdout.splitlines()) if ln.startswith("RESULT ")), None)
        if line is None:
            why = "timed out" if result.timed_out else f"exit {result.exit_code}: {result.stderr[-200:]}"
            return Score(value=0.0, critic=self.name, reason=f"the test harness produced no result ({why})")
        data = json.loads(line[len("RESULT "):])
        if not data.get("loaded"):
            return Score(value=0.0, critic=self.name, reason=f"the code does not run: {data.get('error')}")
        passed = data["passed"]
        value = 10.0 * sum(passed) / len(passed)
        return Score(value=value, critic=self.name, reason=f"{sum(passed)}/{len(passed)} hidden tests passed",
                     evidence=[t for t, ok in zip(self.tests, passed, strict=True) if not ok][:3])


@dataclass
class RoundResult:
    """Scores of one round, per task."""

    round: int
    scores: dict[str, float]

    @property
    def mean(self) -> float:
        """Mean score over the round's tasks."""
        return sum(self.scores.values()) / len(self.scores)


def run_demo(*, model: str | None = None, rounds: int = 3, kernel: Any = None, memory_path: str | None = None,
             say: Callable[[str], None] = print, tasks: tuple[CodingTask, ...] = SEED_TASKS,
             max_steps: int = 3) -> list[RoundResult]:
    """Run the learning demo and report with ``say``; return the per-round scores."""
    from ..kernel import Kernel
    from ..learning.extraction import RunRecord
    from ..learning.learner import Learner
    from ..resolve import resolve_backend
    from .agents import Team, first_sandbox
    from .loop import Budget

    kernel = kernel or Kernel.load()
    resolution = resolve_backend(model, kernel)
    say(f"model: {resolution.spec} ({resolution.source})")
    sandbox = first_sandbox(kernel)
    if sandbox is None:
        say("no sandbox plugin is active: answers cannot be tested, so every score will be 0 "
            "(install purpose-agent-sandbox and bubblewrap)")
    store = kernel.memory_store("sqlite", path=memory_path) if memory_path else kernel.memory_store("memory")
    scanners = kernel.scanners()
    say(f"memory: {'sqlite ' + memory_path if memory_path else 'in-process'}; scanners: {', '.join(scanners) or 'none'}")
    team = Team("Help me write Python code", model=resolution.backend, kernel=kernel, tools=[],
                budget=Budget(max_steps=max_steps), critic=None, memory=False)
    critics = {task.family: UnitTestCritic(sandbox, task.tests) for task in tasks}
    by_prompt = {task.prompt: task for task in tasks}

    def replay(task_text: str, lessons: list[str]) -> float:
        task = by_prompt[task_text]
        result = team.member("coder").runner(lessons=lessons).run(task.prompt)
        return critics[task.family].score(result.trajectory).value

    learner = Learner(kernel, store, resolution.backend, purpose=team.purpose, replayer=replay)
    results: list[RoundResult] = []
    for round_number in range(1, rounds + 1):
        scores: dict[str, float] = {}
        for task in tasks:
            lessons = learner.retrieve(task.prompt, family=task.family)
            team_result = team.run(task.prompt, lessons=[item.text for item in lessons])
            score = critics[task.family].score(team_result.trajectory)
            scores[task.family] = score.value
            record = RunRecord(team_result.trajectory.model_copy(update={"memory_ids": [i.id for i in lessons]}),
                               score, task_family=task.family, retrieved=[i.text for i in lessons])
            report = learner.after_run(record, used=lessons)
            say(f"round {round_number} {task.family:10} score {score.value:4.1f}/10  ({score.reason}); "
                f"lessons used {len(lessons)}, proposed {report.proposed}, promoted {len(report.promoted())}")
        results.append(RoundResult(round_number, scores))
        say(f"round {round_number}: mean score {results[-1].mean:.1f}/10")
    promoted = store.list(status=MemoryStatus.PROMOTED)
    say("\nlessons learned (promoted):" if promoted else "\nno lesson was promoted.")
    for item in promoted:
        say(f"  - [{item.kind.value}] {item.text}")
    rejected = store.list(status=MemoryStatus.REJECTED)
    if rejected:
        say(f"rejected by memory CI: {len(rejected)} (e.g. {rejected[0].status_reason[:120]})")
    say("scores per round: " + ", ".join(f"{r.round}: {r.mean:.1f}" for r in results))
    return results

