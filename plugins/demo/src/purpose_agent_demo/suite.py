"""The graded task suite of the learning demo: 40 small Python functions with hidden tests.

The tasks are data, in ``tasks.toml`` beside this module. Written for this project (not taken
from a public benchmark), so no model has seen the exact prompts and tests. Each task names the
function and its parameters, and states what it must return; its hidden tests are Python ``assert`` lines run in the sandbox against the reply.

Difficulty (``level``): 1 is a one-line expression, 2 needs a loop or a condition, 3 needs
parsing or several steps. The split is fixed and disjoint: ``TRAIN_TASKS`` are the tasks the
learner learns from, ``EVAL_TASKS`` are only ever attempted (lessons must transfer to them).
Each split holds the same mix of levels and kinds.

:func:`classify_attempt` says why an attempt failed, one of :data:`FAILURE_KINDS`.
"""

from __future__ import annotations

import ast
import random
import re
from dataclasses import dataclass

#: Why an attempt did not pass, in the order they are checked.
FAILURE_KINDS: tuple[str, ...] = (
    "no code",             # the reply holds no Python at all
    "unparseable",         # Python-looking text that does not parse
    "wrong name",          # parses, but defines no function of the required name
    "wrong signature",     # the function exists but takes a different number of arguments
    "exception",           # loading the code or calling the function raises (not an assert)
    "timeout",             # the tests did not finish in the sandbox's time
    "prints instead of returns",  # the function printed and returned None where a value was due
    "wrong result",        # it runs and returns, but some hidden test fails
)
PASSED = "passed"

#: A general rule against each failure kind that has one: what a lesson learned from such a
#: failure says. Short and free of any task's code, so it may help any task of the suite (a
#: quoted attempt leaked one task's broken code into others, see docs/learning-benchmark.md).
#: "wrong result" has none: it is the task's own logic, which no general rule fixes.
REMEDIES: dict[str, str] = {
    "no code": "Reply with the function's code in a ```python block.",
    "unparseable": "Write complete Python: close every bracket, quote and block.",
    "wrong name": "Name the function exactly as the task writes it.",
    "wrong signature": "Give the function exactly the parameters the task lists.",
    "exception": "Use only the function's parameters; do not call input() or undefined names.",
    "timeout": "Make every loop end; avoid recursion without a base case.",
    "prints instead of returns": "Return the result with return; do not print it.",
}


@dataclass(frozen=True)
class CodingTask:
    """A task: the prompt, the function it asks for, and hidden tests (Python asserts).

    ``family`` names the task (the function name for suite tasks); ``function`` and ``arity``
    are what :func:`classify_attempt` checks statically (empty/``None`` skip those checks).
    """

    family: str
    prompt: str
    tests: tuple[str, ...]
    function: str = ""
    arity: int | None = None
    level: int = 1
    split: str = "train"


def _task(level: int, signature: str, does: str, *tests: str) -> CodingTask:
    """A suite task from ``def name(params)`` and what it returns."""
    name, params = signature.split("(", 1)
    arity = len([p for p in params.rstrip(")").split(",") if p.strip()])
    prompt = f"Write a Python function {signature} that {does}"
    return CodingTask(family=name, prompt=prompt, tests=tuple(tests), function=name, arity=arity, level=level)


def _load_tasks() -> tuple[CodingTask, ...]:
    """The suite's tasks, in the order of ``tasks.toml`` (data beside this module: the table is
    read, not written as code, so adding a task is adding four keys)."""
    import tomllib
    from importlib.resources import files

    table = tomllib.loads(files(__package__).joinpath("tasks.toml").read_text(encoding="utf-8"))
    return tuple(_task(entry["level"], entry["signature"], entry["does"], *entry["tests"]) for entry in table["task"])


def _split(tasks: tuple[CodingTask, ...]) -> tuple[CodingTask, ...]:
    """Alternate tasks of each level go to train and evaluation (fixed, disjoint)."""
    out: list[CodingTask] = []
    seen: dict[int, int] = {}
    for task in tasks:
        index = seen.get(task.level, 0)
        seen[task.level] = index + 1
        out.append(CodingTask(**{**task.__dict__, "split": "train" if index % 2 == 0 else "eval"}))
    return tuple(out)


SUITE: tuple[CodingTask, ...] = _split(_load_tasks())
TRAIN_TASKS: tuple[CodingTask, ...] = tuple(t for t in SUITE if t.split == "train")
EVAL_TASKS: tuple[CodingTask, ...] = tuple(t for t in SUITE if t.split == "eval")


def sample_tasks(tasks: tuple[CodingTask, ...], count: int, seed: int) -> tuple[CodingTask, ...]:
    """``count`` tasks drawn from ``tasks`` by ``seed``, spread over the levels, easiest first."""
    if count < 1:
        raise ValueError(f"the number of tasks must be at least 1, got {count}")
    chosen = random.Random(seed).sample(list(tasks), min(count, len(tasks)))
    return tuple(sorted(chosen, key=lambda t: (t.level, t.family)))


def _defined(tree: ast.Module, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | bool | None:
    """The top-level definition of ``name``: a def, a lambda assignment, ``True`` for another
    assignment, or ``None`` when the module does not define it."""
    found: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | bool | None = None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            found = node
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            found = node.value if isinstance(node.value, ast.Lambda) else True
    return found


def _accepts(arguments: ast.arguments, arity: int) -> bool:
    """Whether a function with these parameters can be called with ``arity`` positional args."""
    positional = [*arguments.posonlyargs, *arguments.args]
    required = len(positional) - len(arguments.defaults)
    required_keywords = sum(default is None for default in arguments.kw_defaults)
    return required <= arity and (arguments.vararg is not None or len(positional) >= arity) and not required_keywords


_CODE_LIKE = re.compile(r"^\s*(?:def|class|import|from|return|for|while|if)\b|=|\(", re.MULTILINE)


def static_failure(code: str, task: CodingTask) -> tuple[str, str] | None:
    """``(kind, reason)`` when ``code`` fails before running: no code, unparseable, wrong name or
    wrong signature; ``None`` when it should be run."""
    if not code.strip():
        return "no code", "no code in the reply"
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        if not _CODE_LIKE.search(code):
            return "no code", "the reply is prose: no Python in it"
        return "unparseable", f"the code does not run: SyntaxError: {exc.msg} (line {exc.lineno})"
    if not task.function:
        return None
    definition = _defined(tree, task.function)
    if definition is None:
        names = [n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
        if not names and not any(isinstance(n, ast.Assign | ast.Import | ast.ImportFrom) for n in tree.body):
            return "no code", "the reply holds no function definition"
        return "wrong name", f"no function named {task.function} (defined: {', '.join(names) or 'none'})"
    if task.arity is not None and isinstance(definition, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
        if not _accepts(definition.args, task.arity):
            got = len(definition.args.posonlyargs) + len(definition.args.args)
            return "wrong signature", f"{task.function} takes {got} argument(s), the task calls it with {task.arity}"
    return None


def classify_attempt(code: str, task: CodingTask, outcome: dict[str, object] | None) -> tuple[str, str]:
    """``(kind, reason)`` of an attempt: :data:`PASSED` or one of :data:`FAILURE_KINDS`.

    ``outcome`` is the harness's report from the sandbox (``None`` when the code was not run);
    its keys: ``loaded``, ``error``, ``results`` (per test ``"pass"``, ``"fail"`` or an
    exception name), ``returned_none`` and ``printed`` (calls that returned ``None`` / printed),
    ``timed_out``.
    """
    static = static_failure(code, task)
    if static is not None:
        return static
    if outcome is None:
        return "no code", "the code was not run"
    if outcome.get("timed_out"):
        return "timeout", "the tests did not finish in time (an endless loop?)"
    if not outcome.get("loaded"):
        return "exception", f"the code does not run: {outcome.get('error')}"
    results = [str(r) for r in outcome.get("results", [])]  # type: ignore[attr-defined]
    passed = results.count("pass")
    if results and passed == len(results):
        return PASSED, f"{passed}/{len(results)} hidden tests passed"
    summary = f"{passed}/{len(results)} hidden tests passed"
    if int(outcome.get("printed", 0)) and int(outcome.get("returned_none", 0)):  # type: ignore[call-overload]
        return "prints instead of returns", f"{summary}; the function printed its result and returned None"
    errors = [r for r in results if r not in ("pass", "fail")]
    if errors:
        return "exception", f"{summary}; a call raised {errors[0]}"
    return "wrong result", summary
