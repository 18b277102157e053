"""The step loop: decide, act, observe, checkpoint, repeat — within budgets, cancellable.

Every transition emits an event. After each completed step the run is checkpointed (when a
checkpointer is given) *with the tool call it completed*, so a run killed at any moment resumes
from its last completed step and a tool call whose result was checkpointed never runs again.
A tool call that was in flight when the process died had no recorded result; on resume the
actor decides that step afresh.

With a kernel, every tool output is screened by the immune scanners (``source="tool_output"``)
before the actor reads it; findings at or above ``high`` are kept on the observation
(``flagged``) and reported in a ``tool.flagged`` event. The actor still sees a flagged output, as
data with a warning (or not at all: ``[runtime] flagged_tool_output = "withhold"``), and lessons
learned from the run are held for review (docs/learning.md).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..models import Action, Checkpoint, Event, Observation, Score, Step, Trajectory, Usage, new_id
from . import events as ev
from .actor import Actor
from .events import EventBus
from .untrusted import can_screen, flag_summary, screen_observations


@dataclass
class Budget:
    """Limits of one run. ``None`` means unlimited (steps are always limited)."""

    max_steps: int = 12
    max_tokens: int | None = None
    max_seconds: float | None = None
    max_cost_usd: float | None = None


@dataclass
class RunResult:
    """The outcome of a run."""

    trajectory: Trajectory
    score: Score | None
    usage: Usage
    stopped: str
    duration_s: float
    tool_calls: int = 0

    @property
    def answer(self) -> str | None:
        """The final answer, if the run produced one."""
        return self.trajectory.final_answer

    @property
    def no_answer_reason(self) -> str | None:
        """``None`` when the run answered; otherwise one sentence saying why it did not."""
        if self.answer is not None:
            return None
        return f"no answer: {why_no_answer(self.stopped)}{reply_shape_hint(self.stopped)}"

    def __str__(self) -> str:
        score = f"score {self.score.value:.1f}/10" if self.score is not None else "not scored"
        facts = f"{score}, {len(self.trajectory.steps)} step(s), {self.tool_calls} tool call(s)"
        if self.answer is not None:
            return f"answer: {self.answer} ({facts})"
        return f"{self.no_answer_reason} ({facts})"


#: Appended to a no-answer reason when the model's replies were unusable: what the actor accepts.
REPLY_SHAPE_HINT = (
    " A model without native tool calling must reply with one JSON object: "
    '{"thought": "...", "action": "answer", "answer": "..."} to answer, or '
    '{"thought": "...", "action": "tool", "tool": "<name>", "arguments": {...}} to call a tool '
    "(docs/runtime.md, 'What the model must reply'; in tests, ScriptedBackend.answer(...) and "
    "ScriptedBackend.tool_call(...) build these replies)."
)


def why_no_answer(stopped: str) -> str:
    """What a run's ``stopped`` record means for a run without an answer, as a clause."""
    if stopped.startswith("done: "):
        detail = stopped[len("done: "):]
        return detail.removeprefix("stopped safely: ")
    if stopped.startswith("budget: "):
        return f"the run reached its budget ({stopped[len('budget: '):]}) before the model answered"
    if stopped.startswith("error: "):
        return f"the run failed: {stopped[len('error: '):]}"
    if stopped == "cancelled":
        return "the run was cancelled before the model answered"
    if stopped == "answer":
        return "the model's answer was empty"
    return f"the run stopped ({stopped or 'before its first step'})"


def reply_shape_hint(stopped: str) -> str:
    """The hint on the reply shape, when the run stopped because the model's replies were unusable."""
    return REPLY_SHAPE_HINT if "reply could not be used" in stopped else ""


class Cancelled(Exception):
    """Raised inside the loop when the run is cancelled (never escapes :meth:`Runner.arun`)."""


@dataclass
class Runner:
    """Runs one agent on tasks: an actor, its tools, an optional critic and checkpointer."""

    actor: Actor
    bus: EventBus = field(default_factory=EventBus)
    critic: Any = None
    checkpointer: Any = None
    budget: Budget = field(default_factory=Budget)
    tool_retries: int = 1
    score_each_step: bool = False
    kernel: Any = None
    parent_run_id: str = ""
    #: Set from outside (a team run's handle) to stop this run after the step in progress; unlike
    #: :meth:`cancel` it is not cleared when a run starts, so a cancel that comes first still counts.
    stop: threading.Event | None = None
    # A flag, not a threading.Event: nothing waits on it, and a swarm builds a runner per run.
    _cancel_requested: bool = field(default=False, init=False)

    def cancel(self) -> None:
        """Ask the current run to stop after the step in progress (thread-safe)."""
        self._cancel_requested = True

    def _cancelled(self) -> bool:
        return self._cancel_requested or (self.stop is not None and self.stop.is_set())

    def run(self, task: str, *, run_id: str | None = None, resume: bool = False) -> RunResult:
        """Synchronous twin of :meth:`arun`."""
        return run_sync(self.arun(task, run_id=run_id, resume=resume))

    async def arun(self, task: str, *, run_id: str | None = None, resume: bool = False) -> RunResult:
        """Run ``task`` to an answer, a safe stop, a budget limit or cancellation."""
        started = time.monotonic()
        self._cancel_requested = False
        trajectory, completed = self._start(task, run_id, resume)
        run_id = trajectory.run_id
        usage = Usage()
        for step in trajectory.steps:
            usage = usage + step.usage
        tools = {t.name: t for t in self.actor.tools}
        tool_calls = 0
        stopped = ""
        self._emit(ev.RUN_RESUMED if trajectory.steps else ev.RUN_STARTED, run_id, data={
            "task": task, "resumed_at_step": len(trajectory.steps), "lessons": len(self.actor.injected_lessons())})
        try:
            while not stopped:
                stopped = self._budget_exceeded(trajectory, usage, started)
                if stopped:
                    break
                index = len(trajectory.steps)
                step_started = time.monotonic()
                self._emit(ev.STEP_STARTED, run_id, index)
                self._emit(ev.MODEL_CALLED, run_id, index)
                decision = await self._with_deadline(self.actor.decide(trajectory), started)
                usage = usage + decision.usage
                self._emit(ev.MODEL_FINISHED, run_id, index, {
                    "action": decision.action.kind, "tool": decision.action.tool,
                    "prompt_tokens": decision.usage.prompt_tokens, "completion_tokens": decision.usage.completion_tokens})
                if decision.repaired:
                    self._emit(ev.MODEL_REPAIR, run_id, index, {"recovered": decision.action.kind != "done"})
                action = decision.action
                observation = None
                if action.kind == "tool":
                    call_id = f"{run_id}:{index}"
                    if call_id in completed:  # only reachable if a checkpoint lagged its trajectory
                        self._emit(ev.TOOL_SKIPPED, run_id, index, {"call_id": call_id})
                        observation = Observation(ok=False, error="already completed before resume; not run twice")
                    else:
                        observation = await self._call_tool(tools, action, run_id, index)
                        tool_calls += 1
                        completed.append(call_id)
                step = Step(index=index, action=action, observation=observation, usage=decision.usage,
                            duration_s=time.monotonic() - step_started)
                trajectory.steps.append(step)
                if action.kind in ("answer", "done"):
                    trajectory.final_answer = action.text if action.kind == "answer" else None
                    stopped = action.kind if action.kind == "answer" else f"done: {action.text}"
                self._checkpoint(trajectory, completed)
                self._emit(ev.STEP_FINISHED, run_id, index, {"action": action.kind})
                if self.score_each_step and self.critic is not None:
                    self._score(trajectory)
                if self._cancelled() and not stopped:
                    stopped = "cancelled"
        except Cancelled:
            stopped = "cancelled"
        except TimeoutError:
            stopped = "budget: wall time"
        except Exception as exc:  # a backend outage ends the run with a reason, never a crash
            stopped = f"error: {type(exc).__name__}: {exc}"
            self._emit(ev.ERROR, run_id, len(trajectory.steps), {"error": stopped})
        score = self._score(trajectory) if self.critic is not None else None
        duration = time.monotonic() - started
        self._emit(ev.RUN_FINISHED, run_id, len(trajectory.steps), {
            "stopped": stopped, "score": score.value if score else None, "steps": len(trajectory.steps),
            "prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
            "duration_s": round(duration, 3)})
        if self.bus.dropped:
            self._emit(ev.BUS_DROPPED, run_id, None, {"dropped": self.bus.dropped})
        return RunResult(trajectory, score, usage, stopped, duration, tool_calls)

    # ------------------------------------------------------------------ pieces

    def _start(self, task: str, run_id: str | None, resume: bool) -> tuple[Trajectory, list[str]]:
        if resume and run_id and self.checkpointer is not None:
            checkpoint = self.checkpointer.latest(run_id)
            if checkpoint is not None:
                return checkpoint.trajectory.model_copy(deep=True), list(checkpoint.completed_tool_calls)
        purpose = self.actor.purpose
        return Trajectory(run_id=run_id or new_id(), task=task, purpose=purpose), []

    def _budget_exceeded(self, trajectory: Trajectory, usage: Usage, started: float) -> str:
        budget = self.budget
        if self._cancelled():
            return "cancelled"
        if len(trajectory.steps) >= budget.max_steps:
            return f"budget: {budget.max_steps} steps"
        if budget.max_tokens is not None and usage.total_tokens >= budget.max_tokens:
            return f"budget: {budget.max_tokens} tokens"
        if budget.max_seconds is not None and time.monotonic() - started >= budget.max_seconds:
            return f"budget: {budget.max_seconds:g} s"
        if budget.max_cost_usd is not None and (usage.cost_usd or 0.0) >= budget.max_cost_usd:
            return f"budget: ${budget.max_cost_usd:g}"
        return ""

    async def _with_deadline(self, awaitable: Any, started: float) -> Any:
        if self.budget.max_seconds is None:
            return await awaitable
        remaining = self.budget.max_seconds - (time.monotonic() - started)
        return await asyncio.wait_for(awaitable, timeout=max(remaining, 0.001))

    async def _call_tool(self, tools: dict[str, Any], action: Action, run_id: str, index: int) -> Observation:
        tool = tools[action.tool or ""]
        attempts = 1 + max(self.tool_retries, 0)
        observation = Observation(ok=False, error="not run")
        for attempt in range(1, attempts + 1):
            self._emit(ev.TOOL_CALLED, run_id, index, {"tool": tool.name, "attempt": attempt, "arguments": action.arguments})
            try:
                observation = await asyncio.to_thread(tool.run, dict(action.arguments))
            except Exception as exc:  # a tool that raises is retried, then reported
                observation = Observation(ok=False, error=f"tool '{tool.name}' raised {type(exc).__name__}: {exc}",
                                          data={"retryable": True})
            observation = await self._screen(observation, tool.name)
            self._emit(ev.TOOL_FINISHED, run_id, index, {
                "tool": tool.name, "ok": observation.ok, "attempt": attempt, "error": observation.error,
                "origin": observation.origin.label, "screened": observation.screened,
                "flagged": [f"{f.scanner}/{f.category}" for f in observation.flagged]})
            if observation.flagged:
                self._emit(ev.TOOL_FLAGGED, run_id, index, {
                    "tool": tool.name, "origin": observation.origin.label, "attempt": attempt,
                    "shown": "withheld" if self.actor.flagged_tool_output == "withhold" else "as data, with a warning",
                    "reason": flag_summary(observation.flagged),
                    "findings": [{"scanner": f.scanner, "category": f.category, "severity": f.severity.value,
                                  "rule_id": f.rule_id} for f in observation.flagged]})
            if observation.ok or not observation.data.get("retryable"):
                break
            await asyncio.sleep(min(0.05 * 2 ** (attempt - 1), 1.0))
        return observation

    async def _screen(self, observation: Observation, tool_name: str) -> Observation:
        """The observation with its origin named and, with a kernel, its screening result.

        Whatever a tool says about its own screening is discarded: only the kernel's scanners decide."""
        origin = observation.origin if observation.origin.name else observation.origin.model_copy(update={"name": tool_name})
        observation = observation.model_copy(update={"origin": origin, "screened": False, "flagged": []})
        if self.kernel is None or not can_screen(self.kernel):
            return observation
        # The scan waits on the kernel's scan worker (under its deadline): keep the event loop free.
        [screened] = await asyncio.to_thread(screen_observations, self.kernel, [observation])
        return screened

    def _checkpoint(self, trajectory: Trajectory, completed: list[str]) -> None:
        if self.checkpointer is None:
            return
        self.checkpointer.save(Checkpoint(run_id=trajectory.run_id, step=len(trajectory.steps) - 1,
                                          trajectory=trajectory.model_copy(deep=True), completed_tool_calls=list(completed)))

    def _score(self, trajectory: Trajectory) -> Score | None:
        try:
            score = self.critic.score(trajectory)
        except Exception as exc:  # a broken critic must not lose the run; the score says why
            score = Score(value=0.0, critic=getattr(self.critic, "name", "critic"),
                          reason=f"critic failed: {type(exc).__name__}: {exc}", details={"error": str(exc)})
        self._emit(ev.CRITIC_SCORED, trajectory.run_id, len(trajectory.steps), {
            "score": score.value, "critic": score.critic, "reason": score.reason, "details": score.details})
        return score

    def _emit(self, type_: str, run_id: str, step: int | None = None, data: dict[str, Any] | None = None) -> None:
        if self.bus.listening():  # an event nobody receives is not built (six or more a run)
            self.bus.emit(Event(type=type_, run_id=run_id, step=step, data=data or {}, parent_run_id=self.parent_run_id))


def run_sync(awaitable: Any) -> Any:
    """Run a coroutine to completion from synchronous code, even inside a running event loop
    (a notebook): then it runs on a private loop in a worker thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(awaitable)
    result: dict[str, Any] = {}

    def worker() -> None:
        try:
            result["value"] = asyncio.run(awaitable)
        except BaseException as exc:
            result["error"] = exc

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]


def tools_named(tools: Sequence[Any]) -> dict[str, Any]:
    """Map tool names to tools; duplicate names are an error naming the name."""
    named: dict[str, Any] = {}
    for tool in tools:
        if tool.name in named:
            raise ValueError(f"two tools are named '{tool.name}'; tool names must be unique")
        named[tool.name] = tool
    return named
