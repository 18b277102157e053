"""Recording finished team runs: one record per member (the role that ran), written atomically.

The ``watch_run`` hook hands each team run to :func:`watch`. The run's events give its purpose
(the task family) and its end; its result (``run.result()``) gives each member's trajectory,
usage and stop reason. The record is written by the process's recorder thread once the result is
there (the result is set just after ``team.finished``), all members of a run in one transaction.
:func:`wait_for_recordings` waits for writes in flight (tests, the end of a benchmark); an
interpreter that exits normally finishes them first (``atexit``).
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import queue
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["FAILURE_KINDS", "failure_kind", "member_records", "wait_for_recordings", "watch"]

#: Why a member run did not count as a success (``""`` for a success).
FAILURE_KINDS = ("low_score", "unscored", "budget", "unusable_reply", "gave_up", "error", "cancelled",
                 "no_answer", "team_error")


def failure_kind(stopped: str, answered: bool, score: float | None, success_score: float) -> str:
    """The failure kind of one member run from its stop reason, whether it answered, and the score."""
    if stopped == "cancelled":
        return "cancelled"
    if stopped.startswith("budget: "):
        return "budget"
    if "reply could not be used" in stopped:
        return "unusable_reply"
    if stopped.startswith("error: "):
        return "error"
    if stopped.startswith("done: "):
        return "gave_up"
    if not answered:
        return "no_answer"
    if score is None:
        return "unscored"
    return "" if score >= success_score else "low_score"


def _clip(text: str | None, limit: int) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[:limit] + f"\n[… {len(text) - limit} characters not recorded]"


def _steps(trajectory: Any, limit: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The steps as plain data, and the provenance of every untrusted text among them."""
    steps: list[dict[str, Any]] = []
    untrusted: list[dict[str, Any]] = []
    for step in trajectory.steps:
        action = step.action
        entry: dict[str, Any] = {"action": action.kind, "tool": action.tool, "arguments": action.arguments,
                                 "text": _clip(action.text, limit), "thought": _clip(action.thought, limit)}
        observation = step.observation
        if observation is not None:
            origin = observation.origin
            flagged = [f"{f.scanner}/{f.category}" for f in observation.flagged]
            entry["observation"] = {"ok": observation.ok, "output": _clip(observation.output, limit),
                                    "error": observation.error, "origin": origin.label,
                                    "untrusted": origin.untrusted, "screened": observation.screened,
                                    "flagged": flagged}
            if origin.untrusted:
                untrusted.append({"step": len(steps), "origin": origin.label, "screened": observation.screened,
                                  "flagged": flagged})
        steps.append(entry)
    return steps, untrusted


def member_records(result: Any, *, run_id: str, task: str, purpose: str, success_score: float,
                   shadow: bool = False, packs: dict[str, int | None] | None = None,
                   limit: int = 20_000) -> list[dict[str, Any]]:
    """One record per member of a finished team run (a ``TeamResult``)."""
    score = result.score.value if result.score is not None else None
    records = []
    now = time.time()
    for role, member in result.members.items():
        answered = member.trajectory.final_answer is not None
        kind = failure_kind(member.stopped, answered, score, success_score)
        steps, untrusted = _steps(member.trajectory, limit)
        records.append({
            "member_run_id": member.trajectory.run_id, "run_id": run_id, "recorded_at": now,
            "role": role, "task": _clip(task, limit), "task_family": purpose[:80], "purpose": purpose,
            "steps": len(member.trajectory.steps), "tool_calls": member.tool_calls,
            "prompt_tokens": member.usage.prompt_tokens, "completion_tokens": member.usage.completion_tokens,
            "score": score, "critic_reason": result.score.reason if result.score is not None else "",
            "success": kind == "", "failure_kind": kind, "stopped": member.stopped,
            "answer": _clip(member.trajectory.final_answer, limit), "shadow": shadow,
            "pack_version": (packs or {}).get(role), "trajectory": steps, "untrusted": untrusted,
        })
    return records


def _error_records(run_id: str, task: str, purpose: str, roles: list[str], error: str, shadow: bool) -> list[dict[str, Any]]:
    """A team run that raised: one record per planned role, all ``team_error``."""
    now = time.time()
    return [{"member_run_id": f"{run_id}:{role}", "run_id": run_id, "recorded_at": now, "role": role,
             "task": task, "task_family": purpose[:80], "purpose": purpose, "steps": 0, "tool_calls": 0,
             "prompt_tokens": 0, "completion_tokens": 0, "score": None, "critic_reason": "",
             "success": False, "failure_kind": "team_error", "stopped": error, "answer": None,
             "shadow": shadow, "pack_version": None, "trajectory": [], "untrusted": []} for role in roles]


def watch(run: Any, store_for: Any, *, success_score: float, shadow: bool, packs: Any, limit: int) -> None:
    """Record ``run`` when it finishes (called from ``watch_run``; returns at once).

    ``store_for()`` opens the store (only when there is something to write); ``packs(roles)`` gives
    the pack versions the roles run with (asked at the start of the run)."""
    seen: dict[str, Any] = {}

    def on_event(event: Any) -> None:
        # Called in the run's own thread: an exception here would end the run, so none escapes.
        if event.type == "team.started":
            seen["purpose"] = str(event.data.get("purpose", ""))
            seen["roles"] = list(event.data.get("roles", []))
            try:
                seen["packs"] = packs(seen["roles"])
            except Exception as exc:  # the store cannot be read: record the run without pack versions
                _warn(f"run {run.run_id}: the packs in use are unknown ({type(exc).__name__}: {exc})")
        elif event.type == "team.finished":
            _writer.submit(functools.partial(_record, run, dict(seen), store_for, success_score, shadow, limit))

    run.listen(on_event)


def _warn(message: str) -> None:
    print(f"purpose-agent optimize: {message}", file=sys.stderr)


def _result(run: Any) -> Any:
    """The finished run's ``TeamResult`` (raises what the run raised)."""
    # The job is handed over at ``team.finished``, just before the run's thread records the
    # outcome, so it is nearly always there after a sleep or two; ``asyncio.run(run.result())``
    # would start an event loop and a helper thread for that wait. It stays the fallback.
    deadline = time.monotonic() + 1.0
    while not run.done and time.monotonic() < deadline:
        time.sleep(0.0005)
    if run.done:
        # result() of a finished run completes without suspending: step it once, no event loop.
        coroutine = run.result()
        try:
            coroutine.send(None)
        except StopIteration as finished:
            return finished.value
        coroutine.close()
    return asyncio.run(run.result())


def _record(run: Any, seen: dict[str, Any], store_for: Any, success_score: float, shadow: bool, limit: int) -> None:
    purpose = seen.get("purpose", "")
    try:
        result = _result(run)
    except BaseException as exc:  # the run raised: still a run of these roles, and a failure
        records = _error_records(run.run_id, run.task, purpose, seen.get("roles", []),
                                 f"{type(exc).__name__}: {exc}", shadow)
    else:
        records = member_records(result, run_id=run.run_id, task=run.task, purpose=purpose,
                                 success_score=success_score, shadow=shadow, packs=seen.get("packs"), limit=limit)
    if records:
        store_for().add_runs(records)


class _Writer:
    """One thread per process writes the recordings, in the order the runs finished.

    A run only hands its recording over (its result is set just after ``team.finished``, so it
    cannot be read in the run's own thread at that moment); the thread starts at the first run
    and lives as long as the process; at exit, the recordings in flight are finished first."""

    def __init__(self) -> None:
        self._queue: queue.Queue[Callable[[], None]] = queue.Queue()
        self._idle = threading.Condition()
        self._pending = 0
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, job: Callable[[], None]) -> None:
        with self._idle:
            self._pending += 1
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="purpose-agent-optimize recorder", daemon=True)
                self._thread.start()
                atexit.register(self.wait, 30.0)
        self._queue.put(job)

    def _loop(self) -> None:
        while True:
            job = self._queue.get()
            try:
                job()
            except Exception as exc:  # a recording that cannot be written must not look like a crash of the run
                _warn(f"a run was not recorded: {type(exc).__name__}: {exc}")
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def wait(self, timeout: float = 30.0) -> bool:
        """Wait until every recording handed over so far is written; ``False`` on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)


_writer = _Writer()


def wait_for_recordings(timeout: float = 30.0) -> bool:
    """Wait until every run that finished so far is written; ``False`` if some still are not."""
    return _writer.wait(timeout)
