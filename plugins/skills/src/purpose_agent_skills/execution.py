"""Running a code skill and its tests in the sandbox, never in this process.

A batch of calls is one sandbox run: the skill's source is a file in the jail's work directory,
a small harness imports it, calls the entry function once per argument set (the skill's own
prints captured), and prints the results as one JSON line after a marker. Checks (``check``
code of tests) run in a second, separate sandbox run that is given only the results and the
arguments, so a skill cannot reach the code that judges it. Expected values are compared here,
on the host, after the JSON round trip.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .card import SkillCard, SkillTest

#: Starts the line the harness prints its results on (the last such line counts).
RESULT_MARKER = "__purpose_agent_skills_result__ "
#: How much of a skill's own printed output or error is kept per call.
_KEEP_CHARS = 2000

# Each harness starts with the marker and the size cap as constants (see _harness).
_CALL_HARNESS = """
import contextlib, importlib.util, io, json, sys
with open("calls.json", encoding="utf-8") as handle:
    job = json.load(handle)
results = []
buffer = io.StringIO()
try:
    with contextlib.redirect_stdout(buffer):
        spec = importlib.util.spec_from_file_location("skill", "skill.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    function = getattr(module, job["entry"])
    load_error = None
except BaseException as exc:
    load_error = "loading the skill failed: {}: {}".format(type(exc).__name__, exc)
for arguments in job["calls"]:
    if load_error is not None:
        results.append({"ok": False, "error": load_error[:KEEP], "printed": buffer.getvalue()[-KEEP:]})
        continue
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            value = function(**arguments)
        results.append({"ok": True, "result": json.loads(json.dumps(value)), "printed": buffer.getvalue()[-KEEP:]})
    except BaseException as exc:
        results.append({"ok": False, "error": "{}: {}".format(type(exc).__name__, exc)[:KEEP],
                        "printed": buffer.getvalue()[-KEEP:]})
sys.stdout.write("\\n" + MARKER + json.dumps(results) + "\\n")
sys.stdout.flush()
"""

_CHECK_HARNESS = """
import json, sys
with open("checks.json", encoding="utf-8") as handle:
    checks = json.load(handle)
results = []
for item in checks:
    try:
        exec(compile(item["check"], "<check>", "exec"), {"result": item["result"], "arguments": item["arguments"]})
        results.append({"ok": True})
    except BaseException as exc:
        results.append({"ok": False, "error": "{}: {}".format(type(exc).__name__, exc)[:KEEP]})
sys.stdout.write("\\n" + MARKER + json.dumps(results) + "\\n")
sys.stdout.flush()
"""


def _harness(body: str) -> str:
    """A harness's source with its constants."""
    return f"MARKER = {RESULT_MARKER!r}\nKEEP = {_KEEP_CHARS}\n{body}"


@dataclass(frozen=True)
class CallResult:
    """One call of a skill: ``ok`` with the JSON ``result``, or the ``error``; what it printed."""

    ok: bool
    result: Any = None
    error: str = ""
    printed: str = ""


@dataclass(frozen=True)
class CaseOutcome:
    """One test case run against one version: passed, and why not."""

    key: str
    name: str
    arguments: dict[str, Any]
    passed: bool
    detail: str = ""
    result: Any = None
    origin: str = field(default="test", compare=False)

    def as_data(self) -> dict[str, Any]:
        """Plain data for reports."""
        return {"key": self.key, "name": self.name, "arguments": self.arguments, "passed": self.passed,
                "detail": self.detail, "result": self.result, "origin": self.origin}


def _results(execution: Any, expected: int, what: str) -> list[dict[str, Any]] | str:
    """The harness's result list from a sandbox run, or why there is none."""
    for line in reversed(execution.stdout.splitlines()):
        if line.startswith(RESULT_MARKER):
            try:
                results = json.loads(line[len(RESULT_MARKER):])
            except json.JSONDecodeError:
                break
            if isinstance(results, list) and len(results) == expected and all(isinstance(r, dict) for r in results):
                return results
            break
    tail = execution.stderr.strip().splitlines()[-1:] or [""]
    return (f"the {what} ended without a result ({execution.reason or f'exit code {execution.exit_code}'})"
            + (f": {tail[0][:300]}" if tail[0] else ""))


def call_skill(sandbox: Any, card: SkillCard, calls: list[dict[str, Any]], *, timeout: float) -> list[CallResult]:
    """Call the skill's entry once per argument set, in one sandbox run.

    Raises ``purpose_agent.errors.SandboxUnavailable`` when the sandbox refuses to run.
    """
    if not calls:
        return []
    files = {"skill.py": card.code, "calls.json": json.dumps({"entry": card.entry, "calls": calls})}
    execution = sandbox.run(_harness(_CALL_HARNESS), timeout=timeout, files=files)
    results = _results(execution, len(calls), "skill's sandbox run")
    if isinstance(results, str):
        return [CallResult(ok=False, error=results) for _ in calls]
    return [CallResult(ok=bool(r.get("ok")), result=r.get("result"), error=str(r.get("error", "")),
                       printed=str(r.get("printed", ""))) for r in results]


def run_cases(sandbox: Any, card: SkillCard, cases: list[tuple[SkillTest, str]], *, timeout: float) -> list[CaseOutcome]:
    """Run test cases ``(test, origin)`` against ``card``: the calls in one sandbox run, the
    checks in another, expected values compared here."""
    calls = call_skill(sandbox, card, [test.arguments for test, _ in cases], timeout=timeout)
    outcomes: list[CaseOutcome | None] = []
    pending: list[tuple[int, SkillTest, CallResult]] = []
    for index, ((test, origin), call) in enumerate(zip(cases, calls, strict=True)):
        label = test.name or f"#{index + 1}"
        if not call.ok:
            outcomes.append(CaseOutcome(test.key(), label, test.arguments, False, call.error, None, origin))
        elif test.has_expected:
            expected = json.loads(json.dumps(test.expected))
            passed = call.result == expected
            detail = "" if passed else f"expected {json.dumps(expected)[:300]}, got {json.dumps(call.result)[:300]}"
            outcomes.append(CaseOutcome(test.key(), label, test.arguments, passed, detail, call.result, origin))
        else:
            outcomes.append(None)
            pending.append((index, test, call))
    if pending:
        checks = [{"check": test.check, "result": call.result, "arguments": test.arguments} for _, test, call in pending]
        execution = sandbox.run(_harness(_CHECK_HARNESS), timeout=timeout, files={"checks.json": json.dumps(checks)})
        verdicts = _results(execution, len(checks), "checks' sandbox run")
        for position, (index, test, call) in enumerate(pending):
            test_origin = cases[index][1]
            label = test.name or f"#{index + 1}"
            if isinstance(verdicts, str):
                passed, detail = False, verdicts
            else:
                passed = bool(verdicts[position].get("ok"))
                detail = "" if passed else f"check failed: {verdicts[position].get('error', '')}".rstrip(": ")
            outcomes[index] = CaseOutcome(test.key(), label, test.arguments, passed, detail, call.result, test_origin)
    return [outcome for outcome in outcomes if outcome is not None]
