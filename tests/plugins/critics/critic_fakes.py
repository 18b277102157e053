"""Test doubles for the critics: a judge that believes claims, and a sandbox that runs nothing.

The gullible judge is the adversary the anti-gaming code must beat: it gives 10 to any run that
says it succeeded, quoting the claim as "evidence". It only grounds its score in tool output when
the prompt shows an OBSERVATION, which it quotes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from purpose_agent.models import (
    Action,
    ChatRequest,
    ExecResult,
    LayerStatus,
    Observation,
    Step,
    Trajectory,
)
from purpose_agent.testing import FunctionBackend, plugin

_OBSERVATION = re.compile(r"OBSERVATION \(tool output[^)]*\):\n(.*)")


def gullible_verdict(request: ChatRequest) -> dict[str, Any]:
    """10 for a claim of success, 9 with a real quote when there is tool output."""
    prompt = request.messages[-1].content
    observed = [line for line in _OBSERVATION.findall(prompt) if line.strip() and not line.startswith("[echo]")]
    echoed = re.findall(r"(?m)^\[echo\] (.*)", prompt)
    if observed:
        verdict = {"score": 9, "reason": "the tool output shows the tests pass", "evidence": [observed[-1].strip()]}
    elif echoed:
        verdict = {"score": 10, "reason": "the output says the tests passed", "evidence": [echoed[-1].strip()]}
    else:
        verdict = {"score": 10, "reason": "the agent says all tests pass", "evidence": ["All tests pass"]}
    if request.response_schema and "summary" in request.response_schema.get("properties", {}):
        verdict["summary"] = f"judge summary: {verdict['reason']}"
    return verdict


def gullible_backend() -> FunctionBackend:
    """A :class:`FunctionBackend` replying with :func:`gullible_verdict` as JSON."""
    return FunctionBackend(gullible_verdict, name="judge:gullible")


def judge_plugin(make: Callable[[], Any] = gullible_backend) -> Any:
    """An in-memory backend plugin ``judge`` (use ``model = "judge:any"``)."""
    return plugin("judge", register_backends=lambda register: register("judge", lambda model, context: make()))


def tool_step(index: int, code: str, output: str, ok: bool = True) -> Step:
    return Step(index=index, action=Action(kind="tool", tool="python", arguments={"code": code}),
                observation=Observation(ok=ok, output=output))


def answer_step(index: int, text: str) -> Step:
    return Step(index=index, action=Action(kind="answer", text=text))


def long_trajectory(n: int, run_id: str = "long") -> Trajectory:
    """``n`` similar tool steps, as a long agent run would produce."""
    steps = [
        tool_step(i, f"result_{i} = compute(part={i})\nprint(result_{i})",
                  f"step {i}: computed part {i}, value {i * 7 % 13}, checks ok")
        for i in range(n)
    ]
    return Trajectory(run_id=run_id, task="Compute all parts and report the total.", steps=steps)


# --------------------------------------------------------------------------- sandbox


class OracleSandbox:
    """Speaks the falsification harness protocol without executing anything.

    ``decide(candidate_source, assertion_code) -> bool`` says whether an assertion passes. Every
    call is recorded (code and files) so tests can check what the critic asked to run.
    """

    name = "oracle"

    def __init__(self, decide: Callable[[str, str], bool], *, mangle: Callable[[str], str] | None = None) -> None:
        self.decide = decide
        self.mangle = mangle
        self.calls: list[dict[str, Any]] = []

    def layers(self) -> list[LayerStatus]:
        return [LayerStatus(name="oracle", available=True, detail="test double; runs nothing")]

    def run(self, code: str, *, timeout: float = 10.0, files: dict[str, str] | None = None) -> ExecResult:
        spec = json.loads((files or {})["falsify_input.json"])
        self.calls.append({"code": code, "timeout": timeout, "files": dict(files or {}), "spec": spec})
        results = [
            {"name": a["name"], "passed": self.decide(spec["candidate"], a["code"]), "error": None}
            for a in spec["assertions"]
        ]
        for result in results:
            if not result["passed"]:
                result["error"] = "AssertionError"
        stdout = f"PA-FALSIFY {spec['nonce']} {json.dumps({'load_error': None, 'results': results})}\n"
        if self.mangle is not None:
            stdout = self.mangle(stdout)
        return ExecResult(exit_code=0, stdout=stdout)


def candidate_kind(source: str) -> str:
    """Classify a candidate the critic sent: one of the two stubs, or the real code."""
    if "NotImplementedError('known-bad stub')" in source:
        return "stub-raises"
    if "return None" in source and "*args, **kwargs" in source:
        return "stub-none"
    return "candidate"
