"""What the optimizer's tests share: arithmetic tasks, a critic that checks the answer, and a
model whose success depends on the instructions in its system prompt."""

from __future__ import annotations

import re
from typing import Any

import purpose_agent as pa
import purpose_agent_optimize
from purpose_agent.models import Score
from purpose_agent.testing import FunctionBackend, make_kernel
from purpose_agent_optimize.traces import wait_for_recordings

#: The words a pack must contain for the model to compute carefully.
CAREFUL = "double-check the arithmetic"
#: Words that make the model sloppy on every task.
SLOPPY = "answer fast, a rough estimate is fine"


def task(number: int) -> str:
    return f"What is {number} + {number * 3}?"


class ArithmeticCritic:
    """10 when the answer is the task's sum, 1 otherwise."""

    name = "arithmetic"

    def score(self, trajectory: Any) -> Score:
        a, b = (int(x) for x in re.findall(r"\d+", trajectory.task)[:2])
        right = (trajectory.final_answer or "").strip() == str(a + b)
        return Score(value=10.0 if right else 1.0, critic=self.name,
                     reason="the sum is right" if right else f"expected {a + b}")


def instruction_sensitive_reply(request: Any) -> str:
    """Right on every task with the careful pack, wrong on all with the sloppy one, and without
    either right only when the first number is even (half the tasks)."""
    system = request.messages[0].content
    user = next(m.content for m in request.messages if m.role == "user")
    a, b = (int(x) for x in re.findall(r"\d+", user)[:2])
    if SLOPPY in system:
        correct = False
    elif CAREFUL in system:
        correct = True
    else:
        correct = a % 2 == 0
    return FunctionBackend.answer(str(a + b if correct else a + b + 1))


def optimize_kernel(*extra: Any, settings: dict | None = None) -> Any:
    """A kernel with the optimizer (and ``extra`` plugins), isolated from what is installed."""
    return make_kernel({"optimize": purpose_agent_optimize}, *extra,
                       config={"plugins": {"optimize": settings or {}}})


def store_with_solver_packs(kernel: Any, *texts: str) -> tuple[Any, list[Any]]:
    """The kernel's optimize store with a manual pack for the solver role for each text, the first
    adopted; the store and the packs in that order."""
    store = purpose_agent_optimize.open_store(kernel)
    packs = [store.add_pack("solver", text, origin="manual") for text in texts]
    store.adopt("solver", packs[0].version, "manual")
    return store, packs


def immune_plugins() -> dict:
    """The immune plugin's real rule scanners."""
    from purpose_agent_immune import plugins as immune

    return {"immune-injection": immune.injection, "immune-tools": immune.tools}


def arithmetic_team(kernel: Any, *, roles: tuple[str, ...] = ("solver",), model: Any = None, tools: list | None = None) -> Any:
    return pa.purpose("Do arithmetic", model=model or FunctionBackend(instruction_sensitive_reply), roles=list(roles),
                      kernel=kernel, critic=ArithmeticCritic(), memory=False, tools=tools or [])


def run_and_record(team: Any, tasks: list[str]) -> list[Any]:
    results = [team.run(t) for t in tasks]
    assert wait_for_recordings(), "a recording did not finish"
    return results
