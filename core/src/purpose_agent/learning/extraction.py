"""Turning finished runs into lesson candidates.

Rules from the research this follows (see docs/learning.md):

* **Contrast**: when a success and a failure on similar tasks are both known, the extractor sees
  both and is asked what made the difference (ExpeL).
* **Never learn from retrieved memories**: the text handed to the extractor is built from the
  task and the steps only — never the system prompt — and every retrieved lesson's text is cut
  out of it, so a lesson cannot be re-learned (and amplified) from its own echo.
* **Hindsight**: a failed run still teaches something: an ``episode`` item records what was
  attempted and how it ended, relabelled as evidence for what it did achieve.
* **Small, typed lessons**: at most ``max_lessons`` short items per run, each with a kind and a
  scope; the model's reply is JSON constrained by a schema, and a reply that cannot be parsed
  yields no lessons (never half-parsed ones).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..models import ChatRequest, MemoryItem, MemoryKind, Message, Provenance, Scope, Score, Trajectory

LESSONS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "lessons": {
            "type": "array",
            "maxItems": 5,
            "items": {
                "type": "object",
                "properties": {
                    "kind": {"type": "string", "enum": [k.value for k in MemoryKind]},
                    "text": {"type": "string"},
                    "scope": {"type": "string", "enum": ["global", "purpose", "task_family"]},
                },
                "required": ["kind", "text"],
            },
        }
    },
    "required": ["lessons"],
}

MAX_LESSON_CHARS = 400


@dataclass
class RunRecord:
    """A finished run as the learner sees it."""

    trajectory: Trajectory
    score: Score | None
    task_family: str = ""
    retrieved: Sequence[str] = ()

    @property
    def value(self) -> float:
        """The score, 0 when there is none."""
        return self.score.value if self.score else 0.0


def scrub(text: str, retrieved: Sequence[str]) -> str:
    """Cut every retrieved lesson's text out of ``text``."""
    for lesson in sorted(retrieved, key=len, reverse=True):
        if lesson:
            text = text.replace(lesson, "[retrieved lesson removed]")
    return text


def describe(run: RunRecord, *, max_chars: int = 3000) -> str:
    """A compact account of a run (task, steps, outcome) with retrieved lessons removed."""
    trajectory = run.trajectory
    lines = [f"Task: {trajectory.task}"]
    for step in trajectory.steps:
        action = step.action
        if action.kind == "tool":
            lines.append(f"- step {step.index}: called {action.tool} with {json.dumps(action.arguments)[:300]}")
            if step.observation is not None:
                result = step.observation.output if step.observation.ok else f"ERROR {step.observation.error}"
                lines.append(f"  result: {result[:300]}")
        else:
            lines.append(f"- step {step.index}: {action.kind}: {action.text[:300]}")
    if trajectory.final_answer:
        lines.append(f"Final answer: {trajectory.final_answer[:600]}")
    if run.score is not None:
        lines.append(f"Score: {run.score.value:.1f}/10 ({run.score.reason[:300]})")
    return scrub("\n".join(lines), run.retrieved)[:max_chars]


class LessonExtractor:
    """Asks a model for lessons from a run, contrasting it with a run that went the other way."""

    def __init__(self, backend: Any, *, max_lessons: int = 3, success_at: float = 7.0, purpose: str = "") -> None:
        self.backend = backend
        self.max_lessons = max_lessons
        self.success_at = success_at
        self.purpose = purpose

    def prompt(self, run: RunRecord, contrast: RunRecord | None) -> list[Message]:
        """The extraction prompt (no system prompt of the run, no retrieved lessons)."""
        outcome = "succeeded" if run.value >= self.success_at else "failed"
        parts = [f"This run {outcome}:\n{describe(run)}"]
        if contrast is not None:
            other = "succeeded" if contrast.value >= self.success_at else "failed"
            parts.append(f"A similar run {other}:\n{describe(contrast)}")
            parts.append("What made the difference? State it as lessons that would make the next attempt succeed.")
        else:
            parts.append("What should be done the same or differently next time?")
        parts.append(
            f"Reply with JSON: at most {self.max_lessons} lessons, each one short imperative sentence of advice "
            "about how to do such tasks (no instructions about tools to install, hosts, credentials or permissions)."
        )
        system = "You extract short, reusable lessons from agent runs."
        if self.purpose:
            system += f" The agents' purpose: {self.purpose}."
        return [Message(role="system", content=system), Message(role="user", content="\n\n".join(parts))]

    def extract(self, run: RunRecord, contrast: RunRecord | None = None) -> list[MemoryItem]:
        """Lessons from ``run`` as candidate items; an unusable reply gives none."""
        response = self.backend.complete(ChatRequest(messages=self.prompt(run, contrast), response_schema=LESSONS_SCHEMA,
                                                     temperature=0.0))
        return self.parse(response.message.content, run)

    def parse(self, content: str, run: RunRecord) -> list[MemoryItem]:
        """Turn the model's JSON into candidate items, dropping anything malformed."""
        try:
            data = json.loads(content)
        except (json.JSONDecodeError, TypeError):
            start, end = (content or "").find("{"), (content or "").rfind("}")
            try:
                data = json.loads(content[start : end + 1]) if start >= 0 else None
            except json.JSONDecodeError:
                data = None
        if not isinstance(data, dict) or not isinstance(data.get("lessons"), list):
            return []
        items = []
        for entry in data["lessons"][: self.max_lessons]:
            if not isinstance(entry, dict):
                continue
            text = scrub(str(entry.get("text", "")).strip(), run.retrieved)[:MAX_LESSON_CHARS]
            if len(text) < 8 or "[retrieved lesson removed]" in text:
                continue
            try:
                kind = MemoryKind(entry.get("kind", "heuristic"))
            except ValueError:
                kind = MemoryKind.HEURISTIC
            items.append(MemoryItem(text=text, kind=kind, scope=self.scope_for(str(entry.get("scope", "task_family")), run),
                                    provenance=Provenance(run_id=run.trajectory.run_id, extractor="llm-contrast",
                                                          trust="learned"),
                                    tags=["learned"]))
        return items

    def scope_for(self, level: str, run: RunRecord) -> Scope:
        """Map the model's scope word onto a :class:`Scope`; unknown words narrow to the task family."""
        if level == "global":
            return Scope(level="global")
        if level == "purpose" and self.purpose:
            return Scope(level="purpose", value=self.purpose)
        return Scope(level="task_family", value=run.task_family or run.trajectory.task[:80])


def hindsight(run: RunRecord, *, success_at: float = 7.0) -> MemoryItem | None:
    """For a failed run, an ``episode`` item relabelling what it did achieve; ``None`` for a success."""
    if run.value >= success_at:
        return None
    trajectory = run.trajectory
    errors = [s.observation.error for s in trajectory.steps if s.observation is not None and s.observation.error]
    achieved = (trajectory.final_answer or "no final answer")[:160].replace("\n", " ")
    text = (f"Attempt at '{trajectory.task[:120]}' scored {run.value:.1f}/10; it produced: {achieved}"
            + (f"; last error: {errors[-1][:120]}" if errors else ""))
    return MemoryItem(text=scrub(text, run.retrieved)[:MAX_LESSON_CHARS], kind=MemoryKind.EPISODE,
                      scope=Scope(level="task_family", value=run.task_family or trajectory.task[:80]),
                      provenance=Provenance(run_id=trajectory.run_id, extractor="hindsight", trust="learned"),
                      tags=["hindsight"])
