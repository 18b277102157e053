"""The easy API: ``pa.purpose(...)`` returns a :class:`Team`; ``pa.Spark`` is one agent.

    import purpose_agent as pa
    team = pa.purpose("Help me write Python code")
    result = team.run("Write a fibonacci function")

A team is composed from its purpose (code → architect, coder, tester; research → researcher,
analyst; data → analyst, reporter; writing → writer, editor; otherwise assistant, reviewer).
Members run in order, each seeing the task and what the members before it produced; the last
member's answer is the team's. Everything runs through the kernel: the backend, tools, critic
and memory store are plugins chosen by name or by configuration.
"""

from __future__ import annotations

import asyncio
import functools
import re
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import LessonRejected
from ..models import ChatRequest, ChatResponse, Event, Message, Score, StreamChunk, Trajectory, Usage
from . import events as ev
from .actor import Actor
from .events import EventBus
from .loop import Budget, Runner, RunResult, reply_shape_hint, run_sync, why_no_answer
from .runs import TeamRun

if TYPE_CHECKING:
    from ..interfaces import Backend, Critic, MemoryStore, Sandbox
    from ..kernel import Kernel
    from ..models import Finding, MemoryItem

__all__ = [
    "DeferredBackend", "LessonRejected", "Spark", "Team", "TeamResult", "add_team_arguments", "compose_roles", "purpose",
    "team_from_arguments",
]

ROLE_BRIEFS: dict[str, str] = {
    "architect": "a software architect: you plan the solution — functions, signatures, edge cases — briefly, without writing the full code",
    "coder": "a careful Python programmer: you write complete, working code and check it by running it when a tool allows",
    "tester": "a tester: you write and run unit tests for the code you are given and reply with the final, corrected code",
    "researcher": "a researcher: you gather the relevant facts and sources for the question",
    "analyst": "an analyst: you reason over the material you are given and draw careful, quantified conclusions",
    "reporter": "a reporter: you present findings clearly for the reader",
    "writer": "a writer: you draft clear, well-structured text for the request",
    "editor": "an editor: you tighten and correct the draft you are given and reply with the final text",
    "assistant": "a capable assistant: you do the task",
    "reviewer": "a reviewer: you check the work you are given, fix what is wrong, and reply with the final result",
}

_COMPOSITIONS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("code", "python", "program", "function", "script", "debug", "bug", "implement", "refactor", "api"),
     ("architect", "coder", "tester")),
    (("research", "investigate", "literature", "survey", "find out", "sources"), ("researcher", "analyst")),
    (("data", "dataset", "csv", "statistic", "spreadsheet", "sql", "chart", "metrics"), ("analyst", "reporter")),
    (("write", "writing", "essay", "blog", "article", "story", "copy", "newsletter", "edit"), ("writer", "editor")),
)
DEFAULT_ROLES = ("assistant", "reviewer")


def compose_roles(purpose: str) -> tuple[str, ...]:
    """Pick team roles from the words of a purpose (first matching theme wins)."""
    words = purpose.lower()
    for keywords, roles in _COMPOSITIONS:
        if any(re.search(rf"\b{re.escape(k)}", words) for k in keywords):
            return roles
    return DEFAULT_ROLES


def _kernel(kernel: Any) -> Kernel:
    if kernel is not None:
        return kernel
    from ..kernel import Kernel

    return Kernel.load()


def resolve_model(model: Any, kernel: Any) -> Backend:
    """A backend from a backend object, a ``provider:model`` string, or ``None`` (the default)."""
    if model is not None and not isinstance(model, str):
        return model
    from ..resolve import resolve_backend

    return resolve_backend(model, kernel).backend


class DeferredBackend:
    """A backend chosen at its first use, not when it is named.

    A team is built, taught, inspected (``status()``, its memory) and given a critic without a
    model; only a run, ``ask()`` or a judge call needs one. So a machine with no API key, no
    Ollama and no local model can still curate a team's memory, and the "no model available"
    sentence comes from the first call that needs a model. Resolution happens once.
    """

    def __init__(self, spec: str | None, kernel: Any) -> None:
        self.spec = spec
        self.kernel = kernel
        self._backend: Any = None
        self._lock = threading.Lock()

    def resolve(self) -> Backend:
        """The backend itself, choosing it now if not yet done (raises if none is available)."""
        if self._backend is None:
            with self._lock:
                if self._backend is None:
                    self._backend = resolve_model(self.spec, self.kernel)
        return self._backend

    @property
    def resolved(self) -> bool:
        """Whether the backend has been chosen yet."""
        return self._backend is not None

    def describe(self) -> str:
        """The backend's name once chosen; before that, what will be asked for."""
        if self._backend is not None:
            return str(getattr(self._backend, "name", type(self._backend).__name__))
        return f"{self.spec} (not resolved yet)" if self.spec else "the default model (chosen at the first run)"

    @property
    def name(self) -> str:
        """The ``provider:model`` of the chosen backend."""
        return str(self.resolve().name)

    def complete(self, request: ChatRequest) -> ChatResponse:
        """Send one request through the chosen backend."""
        return self.resolve().complete(request)

    async def acomplete(self, request: ChatRequest) -> ChatResponse:
        """Async twin of :meth:`complete`."""
        return await self.resolve().acomplete(request)

    def stream(self, request: ChatRequest) -> Iterator[StreamChunk]:
        """Stream one reply from the chosen backend."""
        return self.resolve().stream(request)

    def astream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        """Async twin of :meth:`stream`."""
        return self.resolve().astream(request)

    def __getattr__(self, attribute: str) -> Any:
        # Optional backend attributes (supports_tools, health, …) come from the chosen backend;
        # private names are not forwarded, so copying or pickling never resolves a model.
        if attribute.startswith("_"):
            raise AttributeError(attribute)
        return getattr(self.resolve(), attribute)


@dataclass
class Spark:
    """One agent: a role, a backend, tools, and optionally a critic and a checkpointer."""

    role: str = "assistant"
    purpose: str = ""
    model: Any = None
    tools: Sequence[Any] | None = None
    kernel: Any = None
    critic: Any = None
    checkpointer: Any = None
    budget: Budget = field(default_factory=Budget)
    lessons: Sequence[str] = ()
    instructions: Sequence[str] = ()
    bus: EventBus | None = None
    #: The team run this agent works for: its events carry it as ``parent_run_id``, and its
    #: ``stop_signal`` stops the run (see :class:`purpose_agent.runtime.runs.TeamRun`).
    team_run: Any = None
    #: Plan the tool calls at once and run independent ones concurrently (runtime/planner.py);
    #: an unusable plan falls back to the step loop.
    planner: bool = False

    def __post_init__(self) -> None:
        self.kernel = _kernel(self.kernel)
        self.backend = resolve_model(self.model, self.kernel)
        # Without tools=, each run also gets the protocol adapters' tools (see Team).
        self.protocol_tools = self.tools is None
        if self.tools is None:
            self.tools = self.kernel.tools()
        if isinstance(self.critic, str):
            self.critic = self.kernel.critic(self.critic, backend=self.backend, sandbox=first_sandbox(self.kernel))
        if isinstance(self.checkpointer, str):
            from ..config import state_dir

            default = str(state_dir() / "checkpoints" / self.checkpointer)
            path = self.kernel.config.get("runtime.checkpoint_path", default)
            self.checkpointer = self.kernel.checkpointer(self.checkpointer, path=path)
        self.bus = self.bus or EventBus(kernel=self.kernel)

    def runner(self, *, lessons: Sequence[str] | None = None, extra_instructions: Sequence[str] = (),
               extra_tools: Sequence[Any] = ()) -> Runner:
        """The loop for one run of this agent (tool outputs screened by the kernel's scanners)."""
        from .untrusted import UntrustedTextSettings

        untrusted = UntrustedTextSettings.from_config(self.kernel.config)
        actor = Actor(
            backend=self.backend,
            tools=[*(self.tools or ()), *extra_tools],
            role=ROLE_BRIEFS.get(self.role, self.role),
            purpose=self.purpose,
            instructions=[*self.instructions, *extra_instructions],
            lessons=list(self.lessons if lessons is None else lessons),
            flagged_tool_output=untrusted.flagged_tool_output,
            spotlight=untrusted.spotlight,
        )
        team_run = self.team_run
        return Runner(actor=actor, bus=self.bus or EventBus(), critic=self.critic,
                      checkpointer=self.checkpointer, budget=self.budget, kernel=self.kernel,
                      parent_run_id=team_run.run_id if team_run is not None else "",
                      stop=team_run.stop_signal if team_run is not None else None)

    async def arun(self, task: str, **kwargs: Any) -> RunResult:
        """Run one task (async), with the standing instructions plugins give for it (AGENTS.md …)."""
        import os

        extra = self.kernel.instructions(task, os.getcwd(), role=self.role)
        if not self.protocol_tools:
            return await self._launch(self.runner(extra_instructions=extra), task, kwargs)
        offered, problems = await asyncio.to_thread(self.kernel.acquire_protocol_tools)
        own = {tool.name for tool in self.tools or ()}
        try:
            runner = self.runner(extra_instructions=extra, extra_tools=[t for t in offered if t.name not in own])
            for protocol, reason in problems:
                runner.bus.emit(Event(type=ev.PROTOCOL_UNAVAILABLE, data={"protocol": protocol, "reason": reason}))
            return await self._launch(runner, task, kwargs)
        finally:
            await asyncio.to_thread(self.kernel.release_protocol_tools)

    async def _launch(self, runner: Runner, task: str, kwargs: dict[str, Any]) -> RunResult:
        if not self.planner or kwargs.get("resume"):  # a resumed run continues in the step loop it was saved from
            return await runner.arun(task, **kwargs)
        from .planner import Planner

        return await Planner(runner).arun(task, run_id=kwargs.get("run_id"))

    def run(self, task: str, **kwargs: Any) -> RunResult:
        """Run one task."""
        return run_sync(self.arun(task, **kwargs))


def first_sandbox(kernel: Any) -> Sandbox | None:
    """The first registered sandbox, or ``None`` (critics that need one then refuse)."""
    names = sorted(kernel.components("sandbox"))
    return kernel.sandbox(names[0]) if names else None


@dataclass
class TeamResult:
    """A team run: each member's result, the combined trajectory, its score, and what was learned."""

    answer: str | None
    score: Score | None
    members: dict[str, RunResult]
    trajectory: Trajectory
    usage: Usage
    learning: Any = None

    @property
    def no_answer_reason(self) -> str | None:
        """``None`` when the team answered; otherwise one sentence saying why no member did."""
        if self.answer is not None:
            return None
        if not self.members:
            return "no answer: the team has no members"
        why = "; ".join(f"{role}: {why_no_answer(result.stopped)}" for role, result in self.members.items())
        hint = next((reply_shape_hint(r.stopped) for r in self.members.values() if reply_shape_hint(r.stopped)), "")
        return f"no answer: no member of the team answered ({why}).{hint}"

    def __str__(self) -> str:
        score = f"score {self.score.value:.1f}/10" if self.score is not None else "not scored"
        if self.answer is not None:
            return f"answer: {self.answer} ({score})"
        return f"{self.no_answer_reason} ({score})"


class Team:
    """Agents composed for a purpose, sharing a backend, tools, critic and memory."""

    def __init__(
        self,
        purpose: str,
        *,
        model: Any = None,
        roles: Sequence[str] | None = None,
        tools: Sequence[Any] | None = None,
        knowledge: Any = None,
        critic: Any = None,
        kernel: Any = None,
        budget: Budget | None = None,
        memory: Any = None,
        learn: bool = True,
        planner: bool = False,
    ) -> None:
        self.purpose = purpose
        self.kernel = _kernel(kernel)
        # Chosen at the first run: teaching, status() and memory need no model (DeferredBackend).
        self.backend: Any = model if model is not None and not isinstance(model, str) else DeferredBackend(model, self.kernel)
        self.roles = tuple(roles or compose_roles(purpose))
        self.tools = list(self.kernel.tools() if tools is None else tools)
        # Without tools=, each run also gets the protocol adapters' tools (MCP servers, remote
        # agents), asked for at the run's start and closed when the last run using them ends.
        self.protocol_tools = tools is None
        # Texts are standing instructions; directories and vaults are sources the team searches
        # (a tool in runs) and cites (ask()).
        from .knowledge import source_tools, split_knowledge

        self.knowledge, self.sources = split_knowledge(knowledge, self.kernel)
        self.tools.extend(source_tools(self.sources))
        self.bus = EventBus(kernel=self.kernel)
        self.budget = budget or Budget(max_steps=6)
        if critic is None:
            critic = self._default_critic()
        elif isinstance(critic, str):
            critic = self.kernel.critic(critic, backend=self.backend, sandbox=first_sandbox(self.kernel))
        self.critic = critic
        self.history: list[TeamResult] = []
        self._run_tools: list[Any] | None = None
        self.store = self._open_memory(memory)
        self.learn = learn
        self.planner = planner  # each member plans its tool calls at once (Spark.planner)
        self.learner = None
        if self.store is not None:
            from ..learning.learner import Learner

            replayer = self._replay if critic is not None else None
            self.learner = Learner(self.kernel, self.store, self.backend, purpose=purpose, replayer=replayer)
            # A process that died mid-way through teach() or learning left items that nothing
            # else would move on: finish them now (screen, then replay or promote as taught).
            self.learner.ci.resume()

    def _open_memory(self, memory: Any) -> MemoryStore | None:
        """The team's memory store: an object, a registered store name, ``False`` for none, or
        ``None`` for ``[memory] store`` (default: the embedded SQLite store of
        ``purpose-agent-sqlite``, if installed and enabled; else none, said once with a warning
        unless the embedded store was disabled on purpose; see ``kernel.default_memory_store``).
        A named store that is not installed is an error naming its package."""
        from ..kernel import default_memory_store, missing_store_advice

        if memory is False:
            return None
        if memory is not None and not isinstance(memory, str):
            return memory
        name = memory or default_memory_store(self.kernel)
        if name is None:
            advice = missing_store_advice(self.kernel)
            if advice is not None:
                _warn_no_memory_store(advice)
            return None
        return self.kernel.memory_store(name)

    @property
    def task_family(self) -> str:
        """The family the team's tasks are learned and replayed under: its purpose."""
        return self.purpose[:80]

    def _default_critic(self) -> Critic | None:
        configured = self.kernel.config.get("runtime.critic")
        available = self.kernel.components("critic")
        name = configured or ("standard" if "standard" in available else None)
        if name is None:
            return None
        return self.kernel.critic(name, backend=self.backend, sandbox=first_sandbox(self.kernel))

    def member(self, role: str, lessons: Sequence[str] = (), *, tools: Sequence[Any] | None = None,
               bus: EventBus | None = None, team_run: Any = None) -> Spark:
        """The agent that plays ``role`` in this team (with ``lessons`` injected)."""
        return Spark(role=role, purpose=self.purpose, model=self.backend,
                     tools=list(self.tools if tools is None else tools), kernel=self.kernel, budget=self.budget,
                     instructions=self.knowledge, bus=bus or self.bus, lessons=lessons, team_run=team_run,
                     planner=self.planner)

    def start(self, task: str, *, lessons: Sequence[str] | None = None, run_id: str | None = None) -> TeamRun:
        """Start a run of ``task`` on the running event loop; return its handle at once.

        The handle (:class:`purpose_agent.runtime.runs.TeamRun`) streams the run's events live
        (``handle.events()``), cancels it (``handle.cancel()``) and gives its result
        (``await handle.result()``). Protocol servers start runs this way. Must be called from
        a coroutine (there must be a running event loop).
        """
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError("team.start() needs a running event loop; call it from a coroutine, "
                               "or use team.run() from synchronous code") from None
        handle = TeamRun(task, run_id=run_id)
        self.kernel.watch_run(handle)  # before the first event, so watchers see the whole run
        task_ = loop.create_task(self._arun(task, lessons, handle), name=f"team run {handle.run_id}")
        # The outcome is kept on the handle; retrieving it here stops asyncio's "never retrieved" warning.
        task_.add_done_callback(lambda done: done.cancelled() or done.exception())
        handle.attach(task_)
        return handle

    async def arun(self, task: str, *, lessons: Sequence[str] | None = None) -> TeamResult:
        """Run the members in order on ``task``, score the result, and learn from it.

        Without explicit ``lessons``, the team's memory supplies the promoted lessons relevant
        to the task (at most 10, within a token budget); they are injected into every member's
        prompt. After a scored run, the learner extracts lessons and sends them through memory CI.
        """
        handle = TeamRun(task)
        self.kernel.watch_run(handle)
        result: TeamResult = await self._arun(task, lessons, handle)
        return result

    async def _arun(self, task: str, lessons: Sequence[str] | None, handle: TeamRun) -> TeamResult:
        """One team run, its events delivered to the team's bus and to ``handle``."""
        bus = EventBus()  # this run's own bus: everything on it belongs to the handle
        bus.listen(self.bus.emit)  # the team's bus: kernel observers (on_event) and team listeners
        bus.listen(handle.emit)
        started = time.monotonic()

        def emit(type_: str, **data: Any) -> None:
            bus.emit(Event(type=type_, run_id=handle.run_id, data=data))

        emit(ev.TEAM_STARTED, task=task, purpose=self.purpose, roles=list(self.roles))
        team_result: TeamResult | None = None
        error: BaseException | None = None
        acquired = False
        try:
            if isinstance(self.backend, DeferredBackend):
                self.backend.resolve()  # a run needs a model: say so before anything starts
            retrieved: list[Any] = []
            if lessons is None and self.learner is not None:
                retrieved = self.learner.retrieve(task, family=self.task_family)
            texts = list(lessons) if lessons is not None else [item.text for item in retrieved]
            tools = list(self.tools)
            if self.protocol_tools:
                offered, problems = await asyncio.to_thread(self.kernel.acquire_protocol_tools)
                acquired = True
                tools.extend(tool for tool in offered if tool.name not in {t.name for t in tools})
                for protocol, reason in problems:
                    emit(ev.PROTOCOL_UNAVAILABLE, protocol=protocol, reason=reason)
            team_result = await self._run_members(task, texts, tools=tools, bus=bus, team_run=handle)
            team_result.trajectory.memory_ids = [item.id for item in retrieved]
            if self.learn and self.learner is not None and team_result.score is not None:
                from ..learning.extraction import RunRecord

                record = RunRecord(team_result.trajectory, team_result.score, task_family=self.task_family,
                                   retrieved=texts)
                self._run_tools = tools  # replays during learning use this run's tools
                try:
                    team_result.learning = await asyncio.to_thread(self.learner.after_run, record, retrieved)
                finally:
                    self._run_tools = None
            self.history.append(team_result)
            return team_result
        except BaseException as exc:
            error = exc
            emit(ev.ERROR, error=f"{type(exc).__name__}: {exc}")
            raise
        finally:
            if acquired:
                await asyncio.to_thread(self.kernel.release_protocol_tools)
            emit(ev.TEAM_FINISHED, **_finished_data(team_result, error, handle, time.monotonic() - started))
            handle.finish(team_result, error)

    async def _run_members(self, task: str, lessons: Sequence[str], *, tools: Sequence[Any] | None = None,
                           bus: EventBus | None = None, team_run: TeamRun | None = None) -> TeamResult:
        results: dict[str, RunResult] = {}
        notes: list[str] = []
        usage = Usage()
        combined = Trajectory(task=task, purpose=self.purpose)
        for role in self.roles:
            if team_run is not None and team_run.cancelled:
                break
            brief = task if not notes else task + "\n\nWork so far from your team:\n" + "\n\n".join(notes)
            result = await self.member(role, lessons, tools=tools, bus=bus, team_run=team_run).arun(brief)
            results[role] = result
            usage = usage + result.usage
            offset = len(combined.steps)
            for step in result.trajectory.steps:
                combined.steps.append(step.model_copy(update={"index": offset + step.index}))
            if result.answer:
                notes.append(f"[{role}] {result.answer}")
                combined.final_answer = result.answer
        score = None
        if self.critic is not None:
            try:
                score = self.critic.score(combined)
            except Exception as exc:  # the answer stands even if the critic fails
                score = Score(value=0.0, reason=f"critic failed: {type(exc).__name__}: {exc}")
        return TeamResult(combined.final_answer, score, results, combined, usage)

    def _replay(self, task: str, lessons: list[str]) -> float:
        """Memory CI's replay: run a stored task with exactly these lessons, no learning."""
        result = run_sync(self._run_members(task, lessons, tools=self._run_tools))
        return result.score.value if result.score is not None else 0.0

    def run(self, task: str, *, lessons: Sequence[str] | None = None) -> TeamResult:
        """Run the team on one task."""
        return run_sync(self.arun(task, lessons=lessons))

    def ask(self, question: str) -> str:
        """Answer a question from the team's purpose and knowledge, with one model call, no tools.

        With document sources (``knowledge="./docs/"``) the answer cites ``file:start-end`` of the
        passages it rests on, or says plainly that the documents hold no support (a
        :class:`~purpose_agent.runtime.knowledge.CitedAnswer`, whose ``supported`` tells which)."""
        if self.sources:
            from .knowledge import answer_with_citations

            return answer_with_citations(question, self.sources, backend=self.backend, purpose=self.purpose,
                                         instructions=self.knowledge,
                                         spotlight=self.kernel.config.get("runtime.spotlight", "delimit"))
        system = f"You answer questions for a team whose purpose is: {self.purpose}."
        if self.knowledge:
            system += "\nWhat the team knows:\n" + "\n".join(f"- {k}" for k in self.knowledge)
        request = ChatRequest(messages=[Message(role="system", content=system), Message(role="user", content=question)])
        return self.backend.complete(request).message.content

    def teach(self, text: str) -> MemoryItem | list[Finding]:
        """Teach the team a lesson; it is trusted only after every active immune scanner read it.

        With a memory store the lesson becomes a ``taught`` item that goes through memory CI
        (screened; promoted when clean) and is retrieved like any lesson; the promoted item is
        returned. Without one it joins the team's standing knowledge after the same screening.
        Raises :class:`LessonRejected` when a scanner blocks it (its ``findings`` are the
        scanners' findings), when no scanner is active or one the configuration enables cannot
        run (:meth:`Kernel.screening_refusal`), and when the text is longer than ``[memory]
        max_lesson_chars``: unscreened text never reaches the team's prompts. Needs no model.

        With memory, the item is screened before it is stored and written once, already promoted
        or rejected, so a crash cannot leave it half-way; only when there are stored tasks to
        replay is it written ``quarantined`` first (and a crash then is finished by the next team
        that opens the memory: :meth:`MemoryCI.resume`).
        """
        from ..models import MemoryItem, MemoryKind, MemoryStatus, Provenance, ScanRequest, Scope, Severity

        if not text.strip():
            raise ValueError("teach() needs non-blank text")
        from ..learning.ci import oversize_reason

        # Both refusals come before anything is scanned or written: an oversized text would cost
        # every scanner its full length, and a broken scanner must not be screened around.
        refusal = oversize_reason(text, self.kernel.config.max_lesson_chars) or self.kernel.screening_refusal()
        if refusal:
            raise LessonRejected(f"lesson not kept: {refusal}", [])
        if not self.kernel.scanners():
            raise LessonRejected(
                "no immune scanner is active, so this lesson cannot be screened and was not kept; "
                "install purpose-agent-immune (or enable its scanners) and teach it again", [])
        if self.learner is None:
            findings = self.kernel.scan(ScanRequest(text=text, source="lesson"))
            blocking = [f for f in findings if f.severity.rank >= Severity.HIGH.rank]
            if blocking:
                reasons = "; ".join(f"{f.scanner}: {f.explanation}" for f in blocking)
                raise LessonRejected(f"lesson rejected by the immune scanners: {reasons}", findings)
            self.knowledge.append(text)
            return findings
        item = MemoryItem(text=text, kind=MemoryKind.PREFERENCE, scope=Scope(level="purpose", value=self.purpose),
                          provenance=Provenance(trust="taught", extractor="team.teach"), tags=["taught"])
        assert self.store is not None  # a learner is only made for a team with a store
        ci = self.learner.ci
        screened, findings = ci.decide_taught(item)
        stored = self.store.add(self.kernel.write_memory(screened))
        [decided] = ci.process([stored]) if stored.status == MemoryStatus.QUARANTINED else [stored]
        if decided.status != MemoryStatus.PROMOTED:
            raise LessonRejected(f"lesson not kept ({decided.status.value}): {decided.status_reason}", findings)
        return decided

    def search_memory(self, query: str, *, limit: int = 5) -> list[Any]:
        """The promoted lessons most relevant to ``query``, best first (``ScoredItem`` list;
        empty when the team has no memory). What runs would retrieve, without the token budget."""
        if self.store is None:
            return []
        from ..models import MemoryStatus

        return list(self.store.search(query, limit=limit, status=MemoryStatus.PROMOTED))

    def status(self) -> dict[str, Any]:
        """What the team is: purpose, roles, model, tools, critic, and how its runs went."""
        return {
            "purpose": self.purpose,
            "roles": list(self.roles),
            "model": self._model_label(),
            "tools": [t.name for t in self.tools],
            "critic": getattr(self.critic, "name", None),
            "runs": len(self.history),
            "scores": [r.score.value if r.score else None for r in self.history],
            "knowledge": len(self.knowledge),
            "memory": self._memory_status(),
        }

    def _model_label(self) -> str:
        if isinstance(self.backend, DeferredBackend):
            return self.backend.describe()  # status() must not choose a model
        return str(getattr(self.backend, "name", type(self.backend).__name__))

    def _memory_status(self) -> dict[str, Any]:
        if self.learner is None:
            return {"enabled": False, "why": "no memory store (memory=False, or no store plugin enabled)"}
        status = {"enabled": True, **self.learner.ci.status()}
        if self.critic is None:
            status["learning"] = "off: the team has no critic, so runs cannot be scored"
        elif not self.learn:
            status["learning"] = "off: learn=False"
        else:
            status["learning"] = "on"
        return status


def _finished_data(result: TeamResult | None, error: BaseException | None, handle: TeamRun,
                   duration_s: float) -> dict[str, Any]:
    """What ``team.finished`` says: the answer, or why there is none, and what was learned."""
    data: dict[str, Any] = {"duration_s": round(duration_s, 3), "cancelled": handle.cancelled}
    if error is not None:
        data.update(answer=None, score=None, error=f"{type(error).__name__}: {error}")
        return data
    assert result is not None
    data.update(answer=result.answer, score=result.score.value if result.score is not None else None,
                no_answer_reason=result.no_answer_reason, members=list(result.members),
                prompt_tokens=result.usage.prompt_tokens, completion_tokens=result.usage.completion_tokens)
    learning = result.learning
    if learning is not None:
        data["learning"] = {"proposed": learning.proposed, "edits": dict(learning.edits),
                            "decisions": [{"id": item.id, "status": item.status.value, "reason": item.status_reason}
                                          for item in learning.decisions]}
    return data


#: The purpose a served team has when the command line names none.
DEFAULT_SERVED_PURPOSE = "Help with the task you are given"


def add_team_arguments(parser: Any) -> None:
    """Add the options that choose the team a protocol server serves (``purpose-agent mcp serve``,
    ``a2a serve``, ``ui``): ``--purpose``, ``--model``, ``--roles``, ``--no-memory``, ``--no-learn``."""
    parser.add_argument("--purpose", default=None,
                        help=f"what the served team is for (default: {DEFAULT_SERVED_PURPOSE!r})")
    parser.add_argument("--model", default=None, help="provider:model for the team (default: the configured chain)")
    parser.add_argument("--roles", default=None, help="comma-separated member roles (default: from the purpose)")
    parser.add_argument("--no-memory", action="store_true", help="serve without a memory store")
    parser.add_argument("--no-learn", action="store_true", help="do not learn from served runs")


def team_from_arguments(args: Any, kernel: Any) -> Team:
    """The team :func:`add_team_arguments`' options describe, on ``kernel`` (a command's
    ``context.kernel``). The model is resolved at the first run, so serving starts without one."""
    purpose_text = args.purpose or DEFAULT_SERVED_PURPOSE
    roles = [role.strip() for role in args.roles.split(",") if role.strip()] if args.roles else None
    return Team(purpose_text, model=args.model, roles=roles, kernel=kernel,
                memory=False if args.no_memory else None, learn=not args.no_learn)


def purpose(description: str, *, model: Any = None, knowledge: Any = None, **kwargs: Any) -> Team:
    """Build a team for a purpose: ``pa.purpose("Help me write Python code").run("...")``.

    ``knowledge``: standing instructions (texts), directories of documents the team searches and
    cites (``"./docs/"``), vaults, or a list of these."""
    return Team(description, model=model, knowledge=knowledge, **kwargs)


@functools.cache
def _warn_no_memory_store(advice: str) -> None:
    """Say once per process (per reason) that teams run without memory: the kernel ships no store."""
    import warnings

    warnings.warn(f"lessons are not remembered: {advice}; the team runs without memory", RuntimeWarning, stacklevel=4)
