"""Compositions beyond a team: graphs of steps (:class:`Flow`), many tasks at once
(:func:`swarm`), and deliberation (:class:`Council`)."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from ..errors import PurposeAgentError
from ..models import ChatRequest, Message
from .loop import run_sync

BEGIN = "__begin__"
DONE_SIGNAL = "__done__"

State = TypeVar("State")
Node = Callable[[Any], Any]


class FlowError(PurposeAgentError):
    """A flow is malformed or looped past its guard."""


@dataclass
class Flow(Generic[State]):
    """A graph of nodes over a typed state.

    Each node is a function (sync or async) taking the state and returning the new state (or a
    dict of updates for a dict / pydantic state). Edges say what runs next; a conditional edge
    is a function of the state that returns the next node's name. ``BEGIN`` is where a run enters
    and ``DONE_SIGNAL`` where it ends. A node visited more than ``max_visits`` times stops the run
    with :class:`FlowError` — the cycle guard — instead of looping forever.
    """

    state_type: type | None = None
    max_visits: int = 25
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: dict[str, str | Callable[[Any], str]] = field(default_factory=dict)

    def node(self, name: str, function: Node) -> Flow[State]:
        """Add a node."""
        if name in (BEGIN, DONE_SIGNAL):
            raise FlowError(f"'{name}' is reserved")
        self.nodes[name] = function
        return self

    def edge(self, source: str, target: str) -> Flow[State]:
        """Run ``target`` after ``source``."""
        self._check_source(source)
        self.edges[source] = target
        return self

    def conditional_edge(self, source: str, choose: Callable[[Any], str]) -> Flow[State]:
        """After ``source``, run the node ``choose(state)`` names (or ``DONE_SIGNAL``)."""
        self._check_source(source)
        self.edges[source] = choose
        return self

    def _check_source(self, source: str) -> None:
        if source in self.edges:
            raise FlowError(f"node '{source}' already has an outgoing edge; use conditional_edge to branch")

    def validate(self) -> None:
        """Check every static edge points at a node; raise :class:`FlowError` otherwise."""
        if BEGIN not in self.edges:
            raise FlowError("the flow has no entry: add flow.edge(BEGIN, '<first node>')")
        for source, target in self.edges.items():
            if source != BEGIN and source not in self.nodes:
                raise FlowError(f"edge from unknown node '{source}'")
            if isinstance(target, str) and target != DONE_SIGNAL and target not in self.nodes:
                raise FlowError(f"edge from '{source}' to unknown node '{target}'")

    async def arun(self, state: State) -> State:
        """Run from ``BEGIN`` to ``DONE_SIGNAL``; return the final state."""
        self.validate()
        if self.state_type is not None and not isinstance(state, self.state_type):
            raise FlowError(f"state must be a {self.state_type.__name__}, not {type(state).__name__}")
        visits: dict[str, int] = {}
        current = self._next(BEGIN, state)
        while current != DONE_SIGNAL:
            visits[current] = visits.get(current, 0) + 1
            if visits[current] > self.max_visits:
                raise FlowError(f"node '{current}' ran {self.max_visits} times: stopping a probable cycle "
                                "(raise max_visits if the loop is intended)")
            result = self.nodes[current](state)
            if inspect.isawaitable(result):
                result = await result
            state = _apply(state, result)
            current = self._next(current, state)
        return state

    def run(self, state: State) -> State:
        """Synchronous twin of :meth:`arun`."""
        return run_sync(self.arun(state))

    def _next(self, source: str, state: Any) -> str:
        target = self.edges.get(source, DONE_SIGNAL)
        name = target(state) if callable(target) else target
        if name != DONE_SIGNAL and name not in self.nodes:
            raise FlowError(f"after '{source}' the flow chose '{name}', which is not a node")
        return name


def _apply(state: Any, result: Any) -> Any:
    if result is None:
        return state
    if isinstance(result, dict) and not isinstance(state, dict) and hasattr(state, "model_copy"):
        return state.model_copy(update=result)
    if isinstance(result, dict) and isinstance(state, dict):
        return {**state, **result}
    return result


async def aswarm(tasks: Sequence[Any], worker: Callable[[Any], Awaitable[Any]] | Any, *, concurrency: int = 8) -> list[Any]:
    """Run ``worker`` on every task, at most ``concurrency`` at a time; results keep task order.

    ``worker`` is an async function, or an agent with ``arun`` (a :class:`Spark`, a team).
    An exception in one task is returned in its place, not raised, so one failure does not
    lose the other results.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    call = worker.arun if hasattr(worker, "arun") else worker
    gate = asyncio.Semaphore(concurrency)

    async def one(task: Any) -> Any:
        async with gate:
            try:
                return await call(task)
            except Exception as exc:
                return exc

    return list(await asyncio.gather(*(one(t) for t in tasks)))


def swarm(tasks: Sequence[Any], worker: Any, *, concurrency: int = 8) -> list[Any]:
    """Synchronous twin of :func:`aswarm`."""
    return run_sync(aswarm(tasks, worker, concurrency=concurrency))


@dataclass
class CouncilResult:
    """What the council concluded, and where its members still disagree."""

    synthesis: str
    rounds: list[dict[str, str]]
    disagreement: list[str]


@dataclass
class Council:
    """Members deliberate in rounds, each seeing the others' last answers; a chair synthesises.

    The synthesis must list the points on which members still disagree; those are returned in
    ``disagreement`` instead of being averaged away.
    """

    members: dict[str, Any]
    chair: Any
    rounds: int = 2

    async def adeliberate(self, question: str) -> CouncilResult:
        """Run the rounds and the synthesis."""
        if not self.members:
            raise ValueError("a council needs at least one member")
        history: list[dict[str, str]] = []
        answers: dict[str, str] = {}
        for round_index in range(self.rounds):
            prompt = question
            if answers:
                others = "\n\n".join(f"[{name}] {text}" for name, text in answers.items())
                prompt = (f"{question}\n\nThe council's answers in round {round_index}:\n{others}\n\n"
                          "Reconsider. Keep your position where you still think it right, and say why.")
            replies = await asyncio.gather(*(self._ask(backend, name, prompt) for name, backend in self.members.items()))
            answers = dict(zip(self.members, replies, strict=True))
            history.append(dict(answers))
        final = "\n\n".join(f"[{name}] {text}" for name, text in answers.items())
        synthesis_prompt = (
            f"Question: {question}\n\nFinal positions of the council:\n{final}\n\n"
            "Write the council's synthesis. Then, on lines starting with 'DISAGREEMENT:', list every point "
            "on which members still disagree (write 'DISAGREEMENT: none' if they agree)."
        )
        text = await self._ask(self.chair, "chair", synthesis_prompt)
        disagreement = [line.split(":", 1)[1].strip() for line in text.splitlines()
                        if line.upper().startswith("DISAGREEMENT:")]
        disagreement = [d for d in disagreement if d and d.lower() != "none"]
        synthesis = "\n".join(line for line in text.splitlines() if not line.upper().startswith("DISAGREEMENT:")).strip()
        return CouncilResult(synthesis=synthesis, rounds=history, disagreement=disagreement)

    def deliberate(self, question: str) -> CouncilResult:
        """Synchronous twin of :meth:`adeliberate`."""
        return run_sync(self.adeliberate(question))

    @staticmethod
    async def _ask(backend: Any, name: str, prompt: str) -> str:
        request = ChatRequest(messages=[
            Message(role="system", content=f"You are {name}, a member of a council. Answer in your own view."),
            Message(role="user", content=prompt)])
        response = await backend.acomplete(request)
        return response.message.content
