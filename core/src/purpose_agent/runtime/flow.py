"""Compositions beyond a team: graphs of steps (:class:`Flow`), many tasks at once
(:func:`swarm`), and deliberation (:class:`Council`)."""

from __future__ import annotations

import asyncio
import inspect
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ..errors import PurposeAgentError
from ..models import ChatRequest, Message
from .loop import run_sync

if TYPE_CHECKING:
    from ..config import Config
    from ..kernel import Kernel

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


async def aswarm(tasks: Sequence[Any], worker: Callable[[Any], Awaitable[Any]] | Any, *, concurrency: int = 8,
                 executor: Any = None, retries: int = 0) -> list[Any]:
    """Run ``worker`` on every task, at most ``concurrency`` at a time; results keep task order.

    ``worker`` is an async function, or an agent with ``arun`` (a :class:`Spark`, a team), or a
    :class:`purpose_agent.interfaces.WorkerSpec` that each process builds its own agent from.
    An exception in one task is returned in its place, not raised, so one failure does not
    lose the other results; a task that raises is run again up to ``retries`` more times first.

    ``executor`` says where the tasks run: a registered executor's name (``"ray"`` with
    purpose-agent-ray), an :class:`purpose_agent.interfaces.Executor` object, or ``None`` for
    ``[runtime] executor`` from the worker's configuration, else this process (``in-process``).
    ``concurrency`` is then the executor's bound on tasks in flight.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    if retries < 0:
        raise ValueError(f"retries must be 0 or more, not {retries}")
    if executor is None:
        executor = _configured_executor(worker)
    if executor is None or executor == IN_PROCESS:  # the default, without building a component
        return await run_here(tasks, worker, max_in_flight=concurrency, retries=retries)
    if not isinstance(executor, str):
        return list(await executor.amap(worker, tasks, retries=retries))
    chosen = _kernel_of(worker).executor(executor, max_in_flight=concurrency)
    try:
        return list(await chosen.amap(worker, tasks, retries=retries))
    finally:
        chosen.close()


def swarm(tasks: Sequence[Any], worker: Any, *, concurrency: int = 8, executor: Any = None, retries: int = 0) -> list[Any]:
    """Synchronous twin of :func:`aswarm`."""
    return run_sync(aswarm(tasks, worker, concurrency=concurrency, executor=executor, retries=retries))


#: The built-in executor's name: tasks run on the caller's event loop.
IN_PROCESS = "in-process"


async def run_here(tasks: Sequence[Any], worker: Any, *, max_in_flight: int, retries: int = 0) -> list[Any]:
    """The in-process executor: every task on this event loop, at most ``max_in_flight`` at a time."""
    call = resolve_worker(worker)
    gate = asyncio.Semaphore(max_in_flight)

    async def one(task: Any) -> Any:
        async with gate:
            failure: Exception | None = None
            for _attempt in range(retries + 1):
                try:
                    result = call(task)
                    return (await result) if inspect.isawaitable(result) else result
                except Exception as exc:
                    failure = exc
            return failure

    return list(await asyncio.gather(*(one(t) for t in tasks)))


# Workers built from a WorkerSpec in this process, each once (a Ray worker runs many batches).
_BUILT_WORKERS: dict[Any, Any] = {}


def resolve_worker(worker: Any) -> Callable[[Any], Any]:
    """What to call with one task: ``worker.arun`` for an agent, the function itself, or, for a
    :class:`purpose_agent.interfaces.WorkerSpec`, the worker its factory builds on a kernel loaded
    from its ``config_path`` (built once per process). The call's result may be awaitable."""
    from ..interfaces import WorkerSpec

    if isinstance(worker, WorkerSpec):
        key = _spec_key(worker)
        built = _BUILT_WORKERS.get(key)
        if built is None:
            built = _BUILT_WORKERS[key] = worker.factory(load_worker_kernel(worker.config_path))
        worker = built
    if hasattr(worker, "arun"):
        return worker.arun  # type: ignore[no-any-return]
    if not callable(worker):
        raise TypeError(f"a swarm worker must be an agent (with arun), a function of one task or a WorkerSpec, "
                        f"not {type(worker).__name__}")
    return worker  # type: ignore[no-any-return]


def _spec_key(spec: Any) -> Any:
    """The same spec unpickled twice is two objects: key a named factory by its name, so a worker
    process builds it once however often it arrives."""
    name = getattr(spec.factory, "__qualname__", "")
    if name and "<" not in name:  # not a lambda or a local function: the name says which
        return (getattr(spec.factory, "__module__", ""), name, spec.config_path)
    return spec


def load_worker_kernel(config_path: str | None) -> Kernel:
    """The kernel a worker process runs on: configured by the TOML file ``config_path`` (on top of
    the user's file), or by the configuration found from the working directory when ``None``."""
    from ..kernel import Kernel

    return Kernel.load(config=worker_config(config_path))


def worker_config(config_path: str | None) -> Config:
    """The configuration :func:`load_worker_kernel` reads."""
    import os
    from pathlib import Path

    from ..config import ENV_CONFIG, load_config

    if config_path is None:
        return load_config()
    path = Path(config_path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"the worker's configuration {path} does not exist on this machine; copy the TOML "
                                "file there (the same path on every machine) or pass config_path=None")
    return load_config(cwd=path.parent, environ={**os.environ, ENV_CONFIG: str(path)})


def _configured_executor(worker: Any) -> str | None:
    """``[runtime] executor`` from the worker's own configuration, read without loading a kernel
    when the worker has none (a plain function reads the layered files)."""
    from ..interfaces import WorkerSpec

    kernel = getattr(worker, "kernel", None)
    if kernel is not None and hasattr(kernel, "config"):
        return kernel.config.get("runtime.executor")  # type: ignore[no-any-return]
    return worker_config(worker.config_path if isinstance(worker, WorkerSpec) else None).get("runtime.executor")


def _kernel_of(worker: Any) -> Any:
    from ..interfaces import WorkerSpec

    kernel = getattr(worker, "kernel", None)
    if kernel is not None and hasattr(kernel, "executor"):
        return kernel
    if isinstance(worker, WorkerSpec):
        return load_worker_kernel(worker.config_path)
    from ..kernel import Kernel

    return Kernel.load()


#: Events a council emits on its bus (and so to observer plugins when it has a kernel).
COUNCIL_ROUND = "council.round"  # data: round, kind, agreement, measure, decision
COUNCIL_FINISHED = "council.finished"  # data: agreement (the trajectory), outcome, rounds, measure

#: How agreement is measured: identical positions, cosine of their embeddings, or a judge model's verdict.
AGREEMENT_MEASURES = ("auto", "exact", "semantic", "judge")
#: Where a council that stays split goes: one debate round, then the chair; or the chair at once.
ESCALATIONS = ("chair", "debate")

_ANSWER_LINE = re.compile(r"^\s*answer\s*:\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)


def member_position(text: str) -> str:
    """What a member's reply says, for comparing: its last ``ANSWER:`` line, else the whole reply."""
    found = _ANSWER_LINE.findall(text)
    return (found[-1] if found else text).strip()


def _normalised(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def exact_agreement(positions: Sequence[str]) -> float:
    """The share of member pairs whose positions are the same text (case, spacing and punctuation ignored)."""
    keys = [_normalised(p) for p in positions]
    pairs = [(a, b) for i, a in enumerate(keys) for b in keys[i + 1:]]
    return 1.0 if not pairs else sum(a == b for a, b in pairs) / len(pairs)


def semantic_agreement(positions: Sequence[str], embedder: Any) -> float:
    """The mean cosine similarity of the positions' embeddings over member pairs (negatives count as 0)."""
    if len(positions) < 2:
        return 1.0
    vectors = embedder.embed(list(positions))
    pairs = [(i, j) for i in range(len(positions)) for j in range(i + 1, len(positions))]
    return sum(max(0.0, float(vectors[i] @ vectors[j])) for i, j in pairs) / len(pairs)


@dataclass
class CouncilResult:
    """What the council concluded, where its members still disagree, and how agreement moved.

    ``agreement`` holds one figure per round (0 = no two members agree, 1 = all agree), measured
    with ``measure``; ``decisions`` says what the council did after each round; ``outcome`` is
    ``consensus`` (stopped once members agreed), ``converged`` (agreed after extra rounds),
    ``debate`` (split, so members debated before the chair decided) or ``chair`` (split, the
    chair decided).
    """

    synthesis: str
    rounds: list[dict[str, str]]
    disagreement: list[str]
    agreement: list[float] = field(default_factory=list)
    measure: str = "exact"
    decisions: list[str] = field(default_factory=list)
    outcome: str = ""


@dataclass
class Council:
    """Members deliberate in rounds, each seeing the others' last answers; a chair synthesises.

    After every round the council measures how far its members agree (``agreement``: ``exact``
    positions, ``semantic`` similarity through the kernel's embedder, a ``judge`` model, or
    ``auto``: semantic when ``kernel`` has an embedder, else exact) and switches course:

    * agreement at or above ``consensus``: stop at once, even before ``rounds`` rounds;
    * below it after ``rounds`` rounds but rising by at least ``min_gain``: add a round (up to
      ``max_rounds`` in all);
    * not rising: the council is split; ``escalate="debate"`` gives one debate round (each member
      answers the strongest opposing position point by point) before the chair, ``"chair"`` goes
      to the chair at once, telling it the members did not converge.

    The synthesis must list the points on which members still disagree; those are returned in
    ``disagreement`` instead of being averaged away. The agreement trajectory is in the result and
    in ``council.round`` / ``council.finished`` events on ``bus``.
    """

    members: dict[str, Any]
    chair: Any
    rounds: int = 2
    agreement: str = "auto"
    consensus: float | None = None
    min_gain: float = 0.05
    max_rounds: int | None = None
    escalate: str = "chair"
    judge: Any = None
    kernel: Any = None
    bus: Any = None

    def __post_init__(self) -> None:
        if self.agreement not in AGREEMENT_MEASURES:
            raise ValueError(f"agreement={self.agreement!r} is not a measure; use one of {', '.join(AGREEMENT_MEASURES)}")
        if self.escalate not in ESCALATIONS:
            raise ValueError(f"escalate={self.escalate!r} is not a way to escalate; use one of {', '.join(ESCALATIONS)}")
        if self.rounds < 1:
            raise ValueError("a council needs at least one round (rounds=1 or more)")
        if self.bus is None:
            from .events import EventBus

            self.bus = EventBus(kernel=self.kernel)

    def _measure_name(self) -> str:
        if self.agreement != "auto":
            return self.agreement
        return "semantic" if self.kernel is not None and self.kernel.components("embedder") else "exact"

    def _threshold(self, measure: str) -> float:
        # Paraphrases of one position rarely embed closer than ~0.85; identical positions are 1.
        if self.consensus is not None:
            return self.consensus
        return {"exact": 1.0, "semantic": 0.85, "judge": 0.8}[measure]

    async def adeliberate(self, question: str) -> CouncilResult:
        """Run the rounds (as many as agreement calls for) and the synthesis."""
        if not self.members:
            raise ValueError("a council needs at least one member")
        from ..models import Event, new_id

        council_id = new_id()
        measure = self._measure_name()
        threshold = self._threshold(measure)
        max_rounds = self.max_rounds if self.max_rounds is not None else self.rounds + 2
        history: list[dict[str, str]] = []
        trajectory: list[float] = []
        decisions: list[str] = []
        answers: dict[str, str] = {}
        outcome = ""
        kind = "initial"
        while True:
            prompt = question if kind == "initial" else self._round_prompt(question, answers, len(history), kind)
            replies = await asyncio.gather(*(self._ask(backend, name, prompt) for name, backend in self.members.items()))
            answers = dict(zip(self.members, replies, strict=True))
            history.append(dict(answers))
            score, used = await self._agreement(measure, question, answers)
            trajectory.append(round(score, 4))
            rising = len(trajectory) > 1 and trajectory[-1] - trajectory[-2] >= self.min_gain
            if score >= threshold:
                decision, outcome = "consensus: stop", "consensus" if len(history) <= self.rounds else "converged"
            elif kind == "debate":
                decision, outcome = "still split after the debate: to the chair", "debate"
            elif len(history) < self.rounds:
                decision = "below consensus: next round"
            elif rising and len(history) < max_rounds:
                decision = "converging: extra round"
            elif self.escalate == "debate" and len(history) < max_rounds:
                decision = "split: debate"
            else:
                decision, outcome = "split: to the chair", "chair"
            decisions.append(decision)
            self.bus.emit(Event(type=COUNCIL_ROUND, run_id=council_id, step=len(history) - 1, data={
                "round": len(history), "kind": kind, "agreement": trajectory[-1], "measure": used,
                "decision": decision}))
            if outcome:
                break
            kind = "debate" if decision == "split: debate" else "deliberation"
        synthesis, disagreement = await self._synthesise(question, answers, outcome, trajectory)
        self.bus.emit(Event(type=COUNCIL_FINISHED, run_id=council_id, data={
            "agreement": trajectory, "outcome": outcome, "rounds": len(history), "measure": measure,
            "disagreement": len(disagreement)}))
        return CouncilResult(synthesis=synthesis, rounds=history, disagreement=disagreement, agreement=trajectory,
                             measure=measure, decisions=decisions, outcome=outcome)

    def deliberate(self, question: str) -> CouncilResult:
        """Synchronous twin of :meth:`adeliberate`."""
        return run_sync(self.adeliberate(question))

    @staticmethod
    def _round_prompt(question: str, answers: dict[str, str], round_index: int, kind: str) -> str:
        others = "\n\n".join(f"[{name}] {text}" for name, text in answers.items())
        if kind == "debate":
            return (f"{question}\n\nThe council is split. Its answers in round {round_index}:\n{others}\n\n"
                    "Debate: take the strongest position that differs from yours and answer it point by point. "
                    "Concede what it gets right; hold what you still think right, and say why. "
                    "End with a line 'ANSWER: <your position in a few words>'.")
        return (f"{question}\n\nThe council's answers in round {round_index}:\n{others}\n\n"
                "Reconsider. Keep your position where you still think it right, and say why.")

    async def _agreement(self, measure: str, question: str, answers: dict[str, str]) -> tuple[float, str]:
        """The round's agreement and the measure really used (a judge whose reply cannot be read
        falls back to exact for that round, and says so)."""
        positions = [member_position(text) for text in answers.values()]
        if measure == "semantic":
            kernel = self.kernel
            if kernel is None:
                from ..kernel import Kernel

                kernel = self.kernel = Kernel.load()
            try:
                embedder = kernel.embedder()
                return await asyncio.to_thread(semantic_agreement, positions, embedder), "semantic"
            except Exception as exc:  # a broken embedder must not end the deliberation: exact, and say so
                return exact_agreement(positions), f"exact (the embedder failed: {type(exc).__name__}: {exc})"
        if measure == "judge":
            listed = "\n\n".join(f"[{name}] {text}" for name, text in answers.items())
            reply = await self._ask(self.judge or self.chair, "judge", system="You judge how far a council agrees.", prompt=(
                f"Question: {question}\n\nThe members' answers:\n{listed}\n\n"
                "How far do these answers agree on the substance (not the wording)? Reply with one JSON object "
                'and nothing else: {"agreement": <a number from 0, no two agree, to 1, all agree>}.'))
            from .actor import _extract_json_object

            data, _ = _extract_json_object(reply)
            value = data.get("agreement") if data else None
            if isinstance(value, int | float) and not isinstance(value, bool) and 0.0 <= value <= 1.0:
                return float(value), "judge"
            return exact_agreement(positions), "exact (the judge's reply could not be read)"
        return exact_agreement(positions), "exact"

    async def _synthesise(self, question: str, answers: dict[str, str], outcome: str,
                          trajectory: list[float]) -> tuple[str, list[str]]:
        final = "\n\n".join(f"[{name}] {text}" for name, text in answers.items())
        split = ""
        if outcome in ("chair", "debate"):
            moved = " -> ".join(f"{a:.2f}" for a in trajectory)
            split = (f"\n\nThe members did not converge (agreement by round: {moved}). Decide the question "
                     "yourself on the strength of the arguments, and say which position you chose and why.")
        synthesis_prompt = (
            f"Question: {question}\n\nFinal positions of the council:\n{final}{split}\n\n"
            "Write the council's synthesis. Then, on lines starting with 'DISAGREEMENT:', list every point "
            "on which members still disagree (write 'DISAGREEMENT: none' if they agree)."
        )
        text = await self._ask(self.chair, "chair", synthesis_prompt,
                               system="You chair a council: you write its synthesis from the members' positions.")
        disagreement = [line.split(":", 1)[1].strip() for line in text.splitlines()
                        if line.upper().startswith("DISAGREEMENT:")]
        disagreement = [d for d in disagreement if d and d.lower() != "none"]
        synthesis = "\n".join(line for line in text.splitlines() if not line.upper().startswith("DISAGREEMENT:")).strip()
        return synthesis, disagreement

    @staticmethod
    async def _ask(backend: Any, name: str, prompt: str, *, system: str | None = None) -> str:
        if system is None:
            system = (f"You are {name}, a member of a council. Answer in your own view. End your reply with a "
                      "line 'ANSWER: <your position in a few words>', so the council can compare positions.")
        request = ChatRequest(messages=[Message(role="system", content=system), Message(role="user", content=prompt)])
        response = await backend.acomplete(request)
        return response.message.content
