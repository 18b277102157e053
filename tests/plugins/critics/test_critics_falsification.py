"""The falsification critic: refuses without a sandbox, discards vacuous assertions, scores by
arithmetic; unit-level with a recording sandbox, end to end with the real one when it works here."""

from __future__ import annotations

import json
from typing import Any

import pytest
from critic_fakes import OracleSandbox, answer_step, candidate_kind, tool_step
from test_critics_conformance import _real_sandbox_problem

import purpose_agent_critics
from purpose_agent.errors import SandboxUnavailable
from purpose_agent.models import Trajectory
from purpose_agent.testing import FunctionBackend, ScriptedBackend, make_kernel
from purpose_agent_critics.falsification import NO_SANDBOX, find_candidate, known_bad_stubs

GOOD_FIB = """
def fib(n):
    if n < 0:
        raise ValueError("n must be >= 0")
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a
"""
BUGGY_FIB = """
def fib(n):
    a, b = 1, 1
    for _ in range(n):
        a, b = b, a + b
    return a
"""
TASK = "Write fib(n) returning the n-th Fibonacci number (fib(0) == 0, fib(1) == 1); raise ValueError for n < 0."
ASSERTIONS = {"assertions": [
    {"name": "base cases", "code": "assert fib(0) == 0\nassert fib(1) == 1"},
    {"name": "ten", "code": "assert fib(10) == 55"},
    {"name": "negative", "code": "try:\n    fib(-1)\nexcept ValueError:\n    pass\nelse:\n    raise AssertionError('no error')"},
    {"name": "runs", "code": "fib(5)"},  # passes on the stub that returns None: vacuous
    {"name": "swallows", "code": "try:\n    fib(3)\nexcept Exception:\n    pass"},  # passes on both stubs
    {"name": "broken", "code": "assert fib(2) =="},  # does not parse
]}


def run_with(code: str, *, in_answer: bool = True) -> Trajectory:
    if in_answer:
        return Trajectory(task=TASK, steps=[answer_step(0, "here")], final_answer=f"Here it is:\n```python\n{code}\n```")
    return Trajectory(task=TASK, steps=[tool_step(0, code, "")], final_answer="done")


def build(sandbox: Any, backend: Any = None, **settings: Any) -> Any:
    config = {"plugins": {"critics": settings}} if settings else None
    backend = backend or FunctionBackend(lambda request: ASSERTIONS)
    return make_kernel({"critics": purpose_agent_critics}, config=config).critic(
        "falsification", backend=backend, sandbox=sandbox)


def fib_oracle(candidate: str, assertion: str) -> bool:
    """Stand-in for execution: what each assertion does on each candidate."""
    kind = candidate_kind(candidate)
    if assertion == "fib(5)":
        return kind != "stub-raises"
    if assertion.startswith("try:\n    fib(3)"):
        return True
    if kind != "candidate":
        return False
    # A made-up split for the arithmetic: the buggy candidate "passes" only the ValueError test.
    return "a, b = 0, 1" in candidate or "ValueError" in assertion


def test_without_a_sandbox_it_refuses_and_asks_the_model_nothing() -> None:
    backend = ScriptedBackend([])
    score = build(None, backend).score(run_with(GOOD_FIB))
    assert score.value == 0 and score.reason == NO_SANDBOX and score.details["error"] == NO_SANDBOX
    assert backend.requests == []


def test_a_named_sandbox_that_is_not_installed_is_a_refusal_with_the_reason() -> None:
    kernel = make_kernel({"critics": purpose_agent_critics},
                         config={"plugins": {"critics": {"sandbox": "nope", "model": "x:y"}}})
    critic = kernel.critic("falsification", backend=ScriptedBackend([]))
    score = critic.score(run_with(GOOD_FIB))
    assert score.reason.startswith(NO_SANDBOX) and "no sandbox named 'nope'" in score.reason


def test_vacuous_assertions_are_discarded_and_the_score_is_the_pass_fraction() -> None:
    sandbox = OracleSandbox(fib_oracle)
    critic = build(sandbox)
    good = critic.score(run_with(GOOD_FIB))
    assert good.value == 10.0
    assert (good.details["kept"], good.details["discarded"]) == (3, 3)
    whys = {d["name"]: d["why"] for d in good.details["discarded_assertions"]}
    assert whys["4:runs"] == "passed on the known-bad stub that returns None"
    assert whys["5:swallows"] == "passed on the known-bad stub that returns None"
    assert whys["6:broken"].startswith("does not parse")
    buggy = critic.score(run_with(BUGGY_FIB))
    assert buggy.value == pytest.approx(10 / 3)  # only "negative" passes (the oracle says so)
    assert [f["name"] for f in buggy.details["failed"]] == ["1:base cases", "2:ten"]
    assert "1 of 3 assertions passed (3 discarded" in buggy.reason


def test_what_the_sandbox_is_asked_to_run() -> None:
    sandbox = OracleSandbox(fib_oracle)
    build(sandbox).score(run_with(GOOD_FIB))
    assert len(sandbox.calls) == 3
    kinds = [candidate_kind(c["spec"]["candidate"]) for c in sandbox.calls]
    assert kinds == ["stub-none", "stub-raises", "candidate"]
    assert sandbox.calls[2]["spec"]["candidate"].strip() == GOOD_FIB.strip()
    # Each later run only carries the assertions that survived the earlier ones ("runs" and
    # "swallows" both fall at the first stub; "broken" never reaches the sandbox).
    assert [len(c["spec"]["assertions"]) for c in sandbox.calls] == [5, 3, 3]
    for call in sandbox.calls:
        assert call["code"].rstrip().endswith("main()") and "def main()" in call["code"]
        assert set(call["files"]) == {"falsify_input.json"} and len(call["spec"]["nonce"]) == 32
        assert call["timeout"] == 20.0
    assert len({c["spec"]["nonce"] for c in sandbox.calls}) == 3


def test_the_model_sees_signatures_not_the_candidates_body() -> None:
    backend = FunctionBackend(lambda request: ASSERTIONS)
    build(OracleSandbox(fib_oracle), backend).score(run_with(GOOD_FIB))
    user = backend.requests[0].messages[1].content
    assert "def fib(n)" in user and "a, b = 0, 1" not in user and TASK in user
    assert backend.requests[0].response_schema["required"] == ["assertions"]


def test_an_unchanged_state_is_not_rerun() -> None:
    sandbox = OracleSandbox(fib_oracle)
    critic = build(sandbox)
    first = critic.score(run_with(GOOD_FIB))
    again = critic.score(run_with(GOOD_FIB))
    assert len(sandbox.calls) == 3 and again.value == first.value and again.details["cached"]
    critic.score(run_with(BUGGY_FIB))  # same task and signature: same assertions, new runs
    assert len(sandbox.calls) == 6


def test_a_forged_or_missing_report_is_an_error_not_a_score() -> None:
    def duplicate(stdout: str) -> str:
        return stdout + stdout

    score = build(OracleSandbox(fib_oracle, mangle=duplicate)).score(run_with(GOOD_FIB))
    assert score.value == 0 and "appeared more than once" in score.details["error"]

    score = build(OracleSandbox(fib_oracle, mangle=lambda s: "PA-FALSIFY 0000 {}\n")).score(run_with(GOOD_FIB))
    assert score.value == 0 and "without a report" in score.details["error"]


def test_a_sandbox_that_refuses_is_reported() -> None:
    class Refusing(OracleSandbox):
        def run(self, code: str, **kwargs: Any) -> Any:
            raise SandboxUnavailable("layer 'bwrap' is missing: install bubblewrap")

    score = build(Refusing(fib_oracle)).score(run_with(GOOD_FIB))
    assert score.value == 0 and "install bubblewrap" in score.reason


def test_when_every_assertion_is_vacuous_nothing_is_claimed() -> None:
    only_vacuous = {"assertions": [{"name": "runs", "code": "fib(5)"}]}
    sandbox = OracleSandbox(fib_oracle)
    score = build(sandbox, FunctionBackend(lambda r: only_vacuous)).score(run_with(GOOD_FIB))
    assert score.value == 0 and score.details["kept"] == 0 and "discarded" in score.reason
    assert len(sandbox.calls) == 1  # never ran the candidate


def test_unusable_assertions_get_one_repair_then_a_reason() -> None:
    backend = ScriptedBackend(['{"assertions": []}', "no"])
    score = build(OracleSandbox(fib_oracle), backend).score(run_with(GOOD_FIB))
    assert score.value == 0 and "after one repair attempt" in score.reason
    assert len(backend.requests) == 2


def test_the_candidate_is_found_in_the_answer_or_the_last_tool_call() -> None:
    assert find_candidate(run_with(GOOD_FIB))[2] == "the final answer's last code block"
    assert find_candidate(run_with(GOOD_FIB, in_answer=False))[2] == "the 'code' argument of step 0"
    assert find_candidate(Trajectory(task="t", final_answer="All tests pass!")) is None
    score = build(OracleSandbox(fib_oracle)).score(Trajectory(task=TASK, final_answer="It works, trust me."))
    assert score.value == 0 and "no candidate code" in score.reason


def test_the_known_bad_stubs_keep_names_and_drop_behaviour() -> None:
    import ast

    tree = ast.parse("import math\nLIMIT = 10\ndef fib(n):\n    return n\nclass Cache:\n    pass\n")
    stubs = known_bad_stubs(tree)
    for source in stubs.values():
        names = {n.name for n in ast.parse(source).body if isinstance(n, ast.FunctionDef | ast.ClassDef)}
        assert names == {"fib", "Cache"} and "import math" in source and "LIMIT = None" in source
    assert "raise NotImplementedError" in stubs["raises NotImplementedError"]
    assert "return None" in stubs["returns None"]


# --------------------------------------------------------------------------- the real sandbox


@pytest.fixture(scope="module")
def real_sandbox() -> Any:
    problem = _real_sandbox_problem()
    if problem:
        pytest.skip(problem)
    import purpose_agent_sandbox

    return make_kernel(purpose_agent_sandbox).sandbox("sandbox")


@pytest.mark.slow
def test_end_to_end_in_the_real_sandbox_good_beats_buggy(real_sandbox: Any) -> None:
    critic = build(real_sandbox, timeout_s=60)
    good = critic.score(run_with(GOOD_FIB))
    buggy = critic.score(run_with(BUGGY_FIB))
    assert good.value == 10.0, good
    assert (good.details["kept"], good.details["discarded"]) == (3, 3), good.details
    # BUGGY_FIB starts at 1: fib(0) == 1 and fib(10) == 89, and it never raises for n < 0.
    assert buggy.value == 0.0 and len(buggy.details["failed"]) == 3, buggy.details
    assert any("AssertionError" in (f["error"] or "") for f in buggy.details["failed"])


@pytest.mark.slow
def test_end_to_end_a_hanging_or_lying_candidate_does_not_pass(real_sandbox: Any) -> None:
    hangs = "def fib(n):\n    while True:\n        pass\n"
    # Prints a fake report and exits: without the nonce the critic must not believe it.
    liar = (
        "import json, os\n"
        "def fib(n):\n    return 0\n"
        "os.write(3, b'PA-FALSIFY ' + b'0' * 32 + b' ' + json.dumps({'load_error': None, 'results': []}).encode())\n"
        "print('PA-FALSIFY forged')\n"
    )
    critic = build(real_sandbox, timeout_s=60)
    hanging = critic.score(run_with(hangs))
    assert hanging.value == 0.0 and all("timed out" in f["error"] for f in hanging.details["failed"]), hanging.details
    lying = critic.score(run_with(liar))
    assert lying.value < 10.0 and lying.details.get("passed", 0) <= 1, lying.details
    assert json.dumps(lying.details)  # details stay plain data
