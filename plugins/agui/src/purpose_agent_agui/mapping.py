"""From the runtime's events to AG-UI 1.0 events (the official ``ag-ui-protocol`` models).

One :class:`RunMapper` follows one team run. The team's members run one after another, each an
agent run with its own kernel ``run_id``; AG-UI sees a single run (``RUN_STARTED`` …
``RUN_FINISHED`` / ``RUN_ERROR``) in which:

==========================  ==============================================================
kernel event                AG-UI events
==========================  ==============================================================
team run starts             RUN_STARTED, STATE_SNAPSHOT (purpose, roles, empty lists)
run.started (a member)      STEP_STARTED ``<role>``, STATE_DELTA (member working)
step.started / finished     STATE_DELTA (the member's step count)
model.finished + thought    REASONING_START, REASONING_MESSAGE_START/CONTENT/END, REASONING_END
tool.called                 TOOL_CALL_START, TOOL_CALL_ARGS (JSON), TOOL_CALL_END
tool.finished               TOOL_CALL_RESULT (ok, or the error), STATE_DELTA (tool call row)
tool.flagged                STATE_DELTA (scanner findings), CUSTOM ``purpose_agent.tool.flagged``
critic.scored               STATE_DELTA (scores), CUSTOM ``purpose_agent.critic.scored``
memory.* / error / other    CUSTOM ``purpose_agent.<type>``
run.finished (a member)     STATE_DELTA (member finished: why), STEP_FINISHED ``<role>``
team run ends               TEXT_MESSAGE_START/CONTENT/END (the answer), STATE_DELTA (lessons
                            proposed, memory CI decisions, or learning off), RUN_FINISHED (answer, score)
team run raises             RUN_ERROR (the reason)
==========================  ==============================================================

The state document is what the web page draws; deltas are RFC 6902 JSON Patch operations.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

#: Texts put on the stream are capped: a UI needs the gist, and a tool's error can be huge.
MAX_TEXT = 2000


def _cap(text: Any, limit: int = MAX_TEXT) -> str:
    value = str(text)
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _now_ms() -> int:
    return int(time.time() * 1000)


class RunMapper:
    """Translates one team run's kernel events into AG-UI events."""

    def __init__(self, *, thread_id: str, run_id: str, purpose: str, roles: list[str], learning: str = "unknown") -> None:
        self.thread_id = thread_id
        self.run_id = run_id
        self.roles = list(roles)
        self._member_runs: dict[str, int] = {}  # kernel run_id -> index into state["members"]
        # "learning": "on", "off: why", or "unknown" (a run of another team, until it ends).
        self.state: dict[str, Any] = {
            "purpose": purpose, "roles": list(roles), "status": "running", "members": [], "tool_calls": [],
            "scores": [], "findings": [], "lessons": [], "decisions": [], "answer": None, "learning": learning,
        }

    # ------------------------------------------------------------------ the run's edges

    def started(self, task: str) -> list[Any]:
        from ag_ui.core import RunStartedEvent, StateSnapshotEvent

        self.state["task"] = _cap(task)
        return [RunStartedEvent(thread_id=self.thread_id, run_id=self.run_id, protocol_version="1.0",
                                timestamp=_now_ms()),
                StateSnapshotEvent(snapshot=json.loads(json.dumps(self.state)), timestamp=_now_ms())]

    def finished(self, result: Any) -> list[Any]:
        from ag_ui.core import (
            RunFinishedEvent,
            TextMessageContentEvent,
            TextMessageEndEvent,
            TextMessageStartEvent,
        )

        events: list[Any] = []
        answer = result.answer
        if answer:
            message_id = uuid.uuid4().hex
            events += [TextMessageStartEvent(message_id=message_id, role="assistant"),
                       TextMessageContentEvent(message_id=message_id, delta=_cap(answer, 100_000)),
                       TextMessageEndEvent(message_id=message_id)]
        patch: list[dict[str, Any]] = [{"op": "replace", "path": "/answer", "value": _cap(answer, 100_000) if answer else None},
                 {"op": "replace", "path": "/status", "value": "answered" if answer else "no answer"}]
        if result.score is not None:  # the team's critic scores the whole run once, after the members
            patch.append({"op": "add", "path": "/scores/-", "value": {
                "role": "team", "score": result.score.value, "critic": result.score.critic,
                "reason": _cap(result.score.reason, 400)}})
        learning = getattr(result, "learning", None)
        if learning is not None:
            decisions = [{"id": item.id, "text": _cap(item.text, 400), "status": str(item.status.value),
                          "reason": _cap(item.status_reason, 400)} for item in learning.decisions]
            patch += [{"op": "replace", "path": "/lessons", "value": {"proposed": learning.proposed,
                                                                      "edits": dict(learning.edits)}},
                      {"op": "replace", "path": "/decisions", "value": decisions},
                      {"op": "replace", "path": "/learning", "value": "on"}]
        elif not str(self.state["learning"]).startswith("off"):  # nothing was learned: say so, not "0 lessons"
            why = "off: the run was not scored" if self.state["learning"] == "on" else "off"
            patch.append({"op": "replace", "path": "/learning", "value": why})
        events.append(self._delta(patch))
        score = result.score.value if result.score is not None else None
        events.append(RunFinishedEvent(thread_id=self.thread_id, run_id=self.run_id, timestamp=_now_ms(),
                                       result={"answer": answer, "score": score,
                                               "why_no_answer": result.no_answer_reason}))
        return events

    def failed(self, message: str) -> list[Any]:
        from ag_ui.core import RunErrorEvent

        return [self._delta([{"op": "replace", "path": "/status", "value": "error"}]),
                RunErrorEvent(message=_cap(message), code="run_failed", timestamp=_now_ms())]

    # ------------------------------------------------------------------ events during the run

    def map(self, event: Any) -> list[Any]:
        """The AG-UI events for one kernel event (possibly none)."""
        handler = getattr(self, "_on_" + event.type.replace(".", "_"), None)
        if handler is not None:
            return list(handler(event))
        return [self._custom(event)]

    def _member(self, event: Any) -> int | None:
        return self._member_runs.get(event.run_id)

    def _on_run_started(self, event: Any) -> list[Any]:
        from ag_ui.core import StepStartedEvent

        index = len(self.state["members"])
        role = self.roles[index] if index < len(self.roles) else f"member {index + 1}"
        self._member_runs[event.run_id] = index
        member = {"role": role, "run_id": event.run_id, "status": "working", "steps": 0, "stopped": None}
        self.state["members"].append(dict(member))
        return [StepStartedEvent(step_name=role, timestamp=_now_ms()),
                self._delta([{"op": "add", "path": "/members/-", "value": member}])]

    _on_run_resumed = _on_run_started

    def _on_step_finished(self, event: Any) -> list[Any]:
        index = self._member(event)
        if index is None:
            return []
        steps = (event.step or 0) + 1
        self.state["members"][index]["steps"] = steps
        return [self._delta([{"op": "replace", "path": f"/members/{index}/steps", "value": steps}])]

    def _on_team_started(self, event: Any) -> list[Any]:
        return []  # RUN_STARTED was sent when the run was started

    def _on_team_finished(self, event: Any) -> list[Any]:
        return []  # RUN_FINISHED / RUN_ERROR come from the run's result, with the learning report

    def _on_step_started(self, event: Any) -> list[Any]:
        return []  # the member's row counts finished steps; nothing to draw yet

    def _on_model_called(self, event: Any) -> list[Any]:
        return []

    def _on_model_finished(self, event: Any) -> list[Any]:
        from ag_ui.core import (
            ReasoningEndEvent,
            ReasoningMessageContentEvent,
            ReasoningMessageEndEvent,
            ReasoningMessageStartEvent,
            ReasoningStartEvent,
        )

        thought = event.data.get("thought")
        if not thought:
            return []
        message_id = uuid.uuid4().hex
        return [ReasoningStartEvent(message_id=message_id),
                ReasoningMessageStartEvent(message_id=message_id, role="reasoning"),
                ReasoningMessageContentEvent(message_id=message_id, delta=_cap(thought)),
                ReasoningMessageEndEvent(message_id=message_id),
                ReasoningEndEvent(message_id=message_id)]

    def _tool_call_id(self, event: Any) -> str:
        return f"{event.run_id}:{event.step}:{event.data.get('attempt', 1)}"

    def _on_tool_called(self, event: Any) -> list[Any]:
        from ag_ui.core import ToolCallArgsEvent, ToolCallEndEvent, ToolCallStartEvent

        call_id = self._tool_call_id(event)
        arguments = json.dumps(event.data.get("arguments", {}), default=str)
        return [ToolCallStartEvent(tool_call_id=call_id, tool_call_name=str(event.data.get("tool", "?"))),
                ToolCallArgsEvent(tool_call_id=call_id, delta=_cap(arguments)),
                ToolCallEndEvent(tool_call_id=call_id)]

    def _on_tool_finished(self, event: Any) -> list[Any]:
        from ag_ui.core import ToolCallResultEvent

        data = event.data
        index = self._member(event)
        role = self.state["members"][index]["role"] if index is not None else None
        content = "ok" if data.get("ok") else f"failed: {data.get('error')}"
        row = {"role": role, "step": event.step, "tool": data.get("tool"), "ok": bool(data.get("ok")),
               "error": _cap(data["error"], 300) if data.get("error") else None, "origin": data.get("origin"),
               "flagged": list(data.get("flagged", []))}
        return [ToolCallResultEvent(message_id=uuid.uuid4().hex, tool_call_id=self._tool_call_id(event),
                                    content=_cap(content), role="tool"),
                self._delta([{"op": "add", "path": "/tool_calls/-", "value": row}])]

    def _on_tool_flagged(self, event: Any) -> list[Any]:
        data = event.data
        findings = [{"tool": data.get("tool"), "scanner": f.get("scanner"), "category": f.get("category"),
                     "severity": f.get("severity"), "shown": data.get("shown")} for f in data.get("findings", [])]
        return [self._delta([{"op": "add", "path": "/findings/-", "value": f} for f in findings]),
                self._custom(event)]

    def _on_critic_scored(self, event: Any) -> list[Any]:
        data = event.data
        index = self._member(event)
        role = self.state["members"][index]["role"] if index is not None else "team"
        score = {"role": role, "score": data.get("score"), "critic": data.get("critic"),
                 "reason": _cap(data.get("reason", ""), 400)}
        return [self._delta([{"op": "add", "path": "/scores/-", "value": score}]), self._custom(event)]

    def _on_run_finished(self, event: Any) -> list[Any]:
        from ag_ui.core import StepFinishedEvent

        index = self._member(event)
        if index is None:
            return [self._custom(event)]
        member = self.state["members"][index]
        member["status"], member["stopped"] = "finished", event.data.get("stopped")
        return [self._delta([{"op": "replace", "path": f"/members/{index}/status", "value": "finished"},
                             {"op": "replace", "path": f"/members/{index}/stopped", "value": member["stopped"]}]),
                StepFinishedEvent(step_name=member["role"], timestamp=_now_ms())]

    # ------------------------------------------------------------------ helpers

    def _delta(self, patch: list[dict[str, Any]]) -> Any:
        from ag_ui.core import StateDeltaEvent

        return StateDeltaEvent(delta=json.loads(json.dumps(patch, default=str)), timestamp=_now_ms())

    def _custom(self, event: Any) -> Any:
        from ag_ui.core import CustomEvent

        value = json.loads(json.dumps({"run_id": event.run_id, "step": event.step, "data": event.data}, default=str))
        return CustomEvent(name=f"purpose_agent.{event.type}", value=value, timestamp=_now_ms())
