"""Critic ``falsification``: the model writes assertions, a sandbox runs them, the score is arithmetic.

1. Find the candidate: the last Python code block of the final answer, else the final answer
   itself if it is Python, else the newest tool call's ``code`` (or ``content``/``source``)
   argument that defines a function or class. Parsed with :mod:`ast` on the host; never executed
   here.
2. Ask the model for assertions from the task and the candidate's *signatures* only: it does not
   see the bodies, so the tests follow the task rather than the candidate's behaviour.
3. Falsify the assertions first: run them against two known-bad stubs of the candidate (every
   function returns ``None``; every function raises ``NotImplementedError``). An assertion that
   passes on either stub cannot tell good from bad and is discarded (Reflexion found 16% of
   self-written MBPP tests wrong; this catches the vacuous ones, not the wrong ones).
4. Run the kept assertions against the candidate. Φ = 10 × passed / kept.

All code runs through the ``Sandbox`` component; with no sandbox the critic refuses, and it never
falls back to ``exec`` or a plain subprocess. Assertions are cached per (task, signatures) and
results per (assertions, candidate), so re-scoring an unchanged state costs nothing.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import secrets
import threading
from collections import OrderedDict
from importlib import resources
from typing import Any

from .judging import ReplyError, ask_json, clip, extract_json_object

NAME = "falsification"
NO_SANDBOX = "no sandbox available: refusing to run model-written code unconfined"

#: The two known-bad stubs every kept assertion must fail on.
STUB_RETURNS_NONE = "returns None"
STUB_RAISES = "raises NotImplementedError"

ASSERTIONS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "assertions": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "code": {"type": "string"}},
                "required": ["name", "code"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["assertions"],
    "additionalProperties": False,
}

SYSTEM_PROMPT = (
    "You write falsification tests for code another agent wrote for a task. Each test is a short Python "
    "snippet with assert statements. It runs with the candidate's top-level names already defined: do not "
    "import the candidate and do not define the functions yourself. Test what the task asks for: ordinary "
    "cases, edge cases and exact values. Each test must fail on a wrong solution: tests that also pass on a "
    "stub whose functions return None, or raise NotImplementedError, are discarded. Do not catch exceptions "
    "broadly. Write at most {max_assertions} tests.\n"
    'Reply with only a JSON object: {{"assertions": [{{"name": "<short name>", "code": "<python>"}}, ...]}}'
)

_FENCED = re.compile(r"```[ \t]*(?:python|py|python3)?[ \t]*\n(.*?)```", re.DOTALL | re.IGNORECASE)
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


# --------------------------------------------------------------------------- candidate


def _defines_something(source: str) -> ast.Module | None:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    return tree if any(isinstance(node, _DEFS) for node in tree.body) else None


def find_candidate(trajectory: Any) -> tuple[str, ast.Module, str] | None:
    """Return ``(source, tree, where)`` of the code to judge, or ``None`` if there is none."""
    answer = trajectory.final_answer or ""
    for block in reversed(_FENCED.findall(answer)):
        tree = _defines_something(block)
        if tree is not None:
            return block, tree, "the final answer's last code block"
    tree = _defines_something(answer)
    if tree is not None:
        return answer, tree, "the final answer"
    for step in reversed(trajectory.steps):
        for key in ("code", "content", "source"):
            value = step.action.arguments.get(key)
            if isinstance(value, str):
                tree = _defines_something(value)
                if tree is not None:
                    return value, tree, f"the '{key}' argument of step {step.index}"
    return None


def signatures(tree: ast.Module) -> list[str]:
    """The candidate's public surface as ``def name(args)`` / ``class Name`` lines."""
    lines: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            prefix = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
            lines.append(f"{prefix} {node.name}({ast.unparse(node.args)})")
        elif isinstance(node, ast.ClassDef):
            lines.append(f"class {node.name}")
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and (
                    not item.name.startswith("_") or item.name == "__init__"
                ):
                    lines.append(f"    def {item.name}({ast.unparse(item.args)})")
    return lines


def known_bad_stubs(tree: ast.Module) -> dict[str, str]:
    """Two stubs with the candidate's names and imports but no behaviour."""
    stubs: dict[str, list[str]] = {STUB_RETURNS_NONE: [], STUB_RAISES: []}
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            for lines in stubs.values():
                lines.append(ast.unparse(node))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            keyword = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
            stubs[STUB_RETURNS_NONE].append(f"{keyword} {node.name}(*args, **kwargs):\n    return None")
            stubs[STUB_RAISES].append(
                f"{keyword} {node.name}(*args, **kwargs):\n    raise NotImplementedError('known-bad stub')"
            )
        elif isinstance(node, ast.ClassDef):
            stubs[STUB_RETURNS_NONE].append(
                f"class {node.name}:\n    def __init__(self, *args, **kwargs):\n        pass\n"
                "    def __getattr__(self, name):\n        return lambda *args, **kwargs: None"
            )
            stubs[STUB_RAISES].append(
                f"class {node.name}:\n    def __init__(self, *args, **kwargs):\n"
                "        raise NotImplementedError('known-bad stub')"
            )
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    for lines in stubs.values():
                        lines.append(f"{target.id} = None")
    return {name: "\n\n".join(lines) + "\n" for name, lines in stubs.items()}


# --------------------------------------------------------------------------- assertions


def parse_assertions(text: str, limit: int) -> list[dict[str, str]]:
    """Validate the model's assertions: a list of ``{"name", "code"}`` with code that parses."""
    data = extract_json_object(text)
    items = data.get("assertions")
    if not isinstance(items, list) or not items:
        raise ReplyError("'assertions' must be a non-empty list of {\"name\", \"code\"} objects")
    out: list[dict[str, str]] = []
    for number, item in enumerate(items[:limit], start=1):
        if not isinstance(item, dict) or not isinstance(item.get("code"), str):
            raise ReplyError(f"assertion {number} is not an object with a 'code' string")
        name = str(item.get("name") or f"assertion {number}")[:80]
        out.append({"name": f"{number}:{name}", "code": item["code"]})
    return out


def _syntax_problem(code: str) -> str | None:
    try:
        ast.parse(code)
    except SyntaxError as exc:
        return f"does not parse: {exc.msg} (line {exc.lineno})"
    return None


# --------------------------------------------------------------------------- the critic


class HarnessError(RuntimeError):
    """A sandbox run that produced no usable report; the message says why."""


class FalsificationCritic:
    """Scores code by the model-written assertions that survive a known-bad check."""

    name = NAME

    def __init__(self, backend: Any, sandbox: Any, settings: Any, *, sandbox_problem: str = "") -> None:
        self.backend = backend
        self.sandbox = sandbox
        self.settings = settings
        self.sandbox_problem = sandbox_problem
        self._harness = resources.files(__package__).joinpath("sandbox_harness.py").read_text(encoding="utf-8")
        self._assertions: OrderedDict[str, list[dict[str, str]]] = OrderedDict()
        self._results: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ caches

    def _cached(self, cache: OrderedDict[str, Any], key: str) -> Any:
        with self._lock:
            if key in cache:
                cache.move_to_end(key)
                return cache[key]
        return None

    def _store(self, cache: OrderedDict[str, Any], key: str, value: Any) -> None:
        with self._lock:
            cache[key] = value
            while len(cache) > self.settings.cache_size:
                cache.popitem(last=False)

    # ------------------------------------------------------------------ sandbox

    def run_assertions(self, candidate: str, assertions: list[dict[str, str]]) -> dict[str, Any]:
        """Run ``assertions`` against ``candidate`` in the sandbox; return the harness report."""
        nonce = secrets.token_hex(16)
        per_assertion = max(0.5, self.settings.timeout_s / (len(assertions) + 2))
        spec = {"nonce": nonce, "candidate": candidate, "assertions": assertions, "per_assertion_timeout": per_assertion}
        result = self.sandbox.run(
            self._harness + "\nmain()\n",
            timeout=self.settings.timeout_s,
            files={"falsify_input.json": json.dumps(spec)},
        )
        mark = f"PA-FALSIFY {nonce} "
        reports = [line[len(mark) :] for line in result.stdout.splitlines() if line.startswith(mark)]
        if len(reports) > 1:
            raise HarnessError("the harness report appeared more than once; the candidate may have forged it")
        if not reports:
            why = "timed out" if result.timed_out else f"ended ({result.reason or f'exit code {result.exit_code}'})"
            raise HarnessError(
                f"the sandbox run {why} without a report; stderr: {clip(result.stderr.strip(), 300) or '(empty)'}"
            )
        try:
            report = json.loads(reports[0])
        except json.JSONDecodeError as exc:
            raise HarnessError(f"the harness report is not JSON ({exc})") from exc
        if [r.get("name") for r in report.get("results", [])] != [a["name"] for a in assertions]:
            raise HarnessError("the harness report does not match the assertions that were sent")
        return report

    # ------------------------------------------------------------------ scoring

    def score(self, trajectory: Any) -> Any:
        """Φ = 10 × (kept assertions the candidate passes) / (kept assertions)."""
        from purpose_agent.errors import SandboxUnavailable
        from purpose_agent.models import Score

        def fail(reason: str, **details: Any) -> Any:
            return Score(value=0.0, critic=self.name, reason=reason, details={"error": reason, **details})

        if self.sandbox is None:
            reason = NO_SANDBOX + (f" ({self.sandbox_problem})" if self.sandbox_problem else "")
            return fail(reason)
        found = find_candidate(trajectory)
        if found is None:
            return Score(value=0.0, critic=self.name,
                         reason="no candidate code: neither the final answer nor any tool call defines a function "
                         "or class, so there is nothing to falsify",
                         details={"kept": 0, "discarded": 0})
        source, tree, where = found
        sigs = signatures(tree)

        details: dict[str, Any] = {"candidate_from": where, "signatures": sigs}
        tests_key = hashlib.sha256(json.dumps([trajectory.task, sigs]).encode()).hexdigest()
        assertions = self._cached(self._assertions, tests_key)
        if assertions is None:
            user = (
                f"TASK:\n{clip(trajectory.task, self.settings.max_task_chars)}\n\n"
                "The candidate defines (signatures only; you do not see the bodies, so write tests from the "
                "task, not from the candidate):\n" + "\n".join(sigs)
            )
            limit = self.settings.max_assertions
            asked = ask_json(
                self.backend, SYSTEM_PROMPT.format(max_assertions=limit), user, ASSERTIONS_SCHEMA,
                lambda text: parse_assertions(text, limit),
                temperature=self.settings.temperature, max_tokens=max(self.settings.max_reply_tokens, 1500),
            )
            details.update(attempts=asked.attempts, usage=asked.usage())
            if asked.error is not None:
                return fail(f"no score: {asked.error}", **details)
            assertions = asked.value
            self._store(self._assertions, tests_key, assertions)

        results_key = hashlib.sha256(json.dumps([assertions, source]).encode()).hexdigest()
        cached = self._cached(self._results, results_key)
        if cached is not None:
            return cached.model_copy(update={"details": {**cached.details, "cached": True}})

        discarded: list[dict[str, str]] = []
        runnable: list[dict[str, str]] = []
        for assertion in assertions:
            problem = _syntax_problem(assertion["code"])
            if problem:
                discarded.append({"name": assertion["name"], "why": problem})
            else:
                runnable.append(assertion)
        runs = 0
        try:
            for stub_name, stub in known_bad_stubs(tree).items():
                if not runnable:
                    break
                runs += 1
                report = self.run_assertions(stub, runnable)
                survivors = []
                for assertion, outcome in zip(runnable, report["results"], strict=True):
                    if outcome["passed"]:
                        discarded.append({"name": assertion["name"], "why": f"passed on the known-bad stub that {stub_name}"})
                    else:
                        survivors.append(assertion)
                runnable = survivors
            kept = runnable
            details.update(kept=len(kept), discarded=len(discarded), discarded_assertions=discarded, sandbox_runs=runs)
            if not kept:
                return Score(value=0.0, critic=self.name,
                             reason=f"all {len(discarded)} model-written assertions were discarded (they passed on a "
                             "known-bad stub or did not parse), so nothing can tell this candidate from a wrong one",
                             details=details)
            runs += 1
            report = self.run_assertions(source, kept)
        except SandboxUnavailable as exc:
            return fail(f"the sandbox refused to run: {exc}", **details)
        except HarnessError as exc:
            return fail(f"no score: {exc}", **details)

        outcomes = report["results"]
        passed = [o["name"] for o in outcomes if o["passed"]]
        failed = [{"name": o["name"], "error": o["error"]} for o in outcomes if not o["passed"]]
        value = 10.0 * len(passed) / len(kept)
        details.update(passed=len(passed), failed=failed, load_error=report.get("load_error"), sandbox_runs=runs)
        reason = (
            f"{len(passed)} of {len(kept)} assertions passed ({len(discarded)} discarded as vacuous or invalid)"
            + (f"; the candidate did not load: {report['load_error']}" if report.get("load_error") else "")
        )
        evidence = [f"PASS {name}" for name in passed] + [f"FAIL {f['name']}: {f['error']}" for f in failed]
        score = Score(value=value, critic=self.name, reason=reason, evidence=evidence[:20], details=details)
        self._store(self._results, results_key, score)
        return score.model_copy(update={"details": {**details, "cached": False}})
