"""Code the Ray tests' worker processes run (they import it by name through ``PYTHONPATH``, so a
:class:`purpose_agent.WorkerSpec` naming one of these factories is built once per process)."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

#: What one worker teaches and the others must then know.
LESSON = "Roll back a failed deployment before investigating the release."
QUESTION = "A deployment failed. What first?"


def reply(request: Any) -> str:
    """The model: answers 'roll back first' only when the lesson is in its prompt; proposes no lessons."""
    from purpose_agent.testing import ScriptedBackend

    if request.response_schema and "lessons" in request.response_schema.get("properties", {}):
        return json.dumps({"lessons": []})
    knows = LESSON in request.messages[0].content
    return ScriptedBackend.answer("roll back first" if knows else "investigate first")


class Judge:
    """A critic that needs no model."""

    name = "judge"

    def score(self, trajectory: Any) -> Any:
        from purpose_agent.models import Score

        return Score(value=7.0, critic="judge", reason="scripted")


def deployment_team(kernel: Any) -> Any:
    """A WorkerSpec factory: a team on the worker's kernel (its memory store is whatever the TOML
    says), answering with a function model. Tasks: ``("teach", text)`` or ``("ask", question)``."""
    import purpose_agent as pa
    from purpose_agent.testing import FunctionBackend

    team = pa.purpose("Handle failed deployments", model=FunctionBackend(reply), kernel=kernel, tools=[],
                      critic=Judge(), roles=["assistant"], learn=False)

    async def handle(task: tuple[str, str]) -> dict[str, Any]:
        kind, text = task
        if kind == "teach":
            item = await asyncio.to_thread(team.teach, text)
            return {"pid": os.getpid(), "taught": item.id, "store": type(team.store).__name__}
        result = await team.arun(text)
        return {"pid": os.getpid(), "answer": result.answer, "store": type(team.store).__name__}

    return handle


def die_once(marker: str) -> str:
    """Kills its worker process the first time (``marker`` does not exist yet), succeeds after."""
    path = Path(marker)
    if not path.exists():
        path.touch()
        os._exit(1)
    return f"survived in {os.getpid()}"


def pid(_task: Any) -> int:
    return os.getpid()


#: Replay: the lesson that helps the deployment task, and one that hurts it.
HELPFUL = "Check the health endpoint before switching traffic."
HARMFUL = "Switch all traffic at once to save time."


def replay_score(job: tuple[str, list[str]]) -> float:
    """A scripted replay run (memory CI's ``ReplayJob``): the score of a task with these lessons.

    Deployment tasks score 5, +3 with the helpful lesson, -2 with the harmful one; other tasks 6
    whatever the lessons. A task ending ``@ DIR`` leaves this process's id in ``DIR`` (so a test
    sees which processes ran the jobs).
    """
    task, lessons = job
    if " @ " in task:
        Path(task.rsplit(" @ ", 1)[1], f"{os.getpid()}-{os.urandom(4).hex()}").touch()
    if "deploy" not in task:
        return 6.0
    return 5.0 + (3.0 if HELPFUL in lessons else 0.0) - (2.0 if HARMFUL in lessons else 0.0)
