"""A run that checkpoints into SQLite; started, killed and resumed by test_kill_and_resume.py.

Usage: python resumable_worker.py DB JOURNAL RUN_ID (resume|fresh)
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import purpose_agent as pa
from purpose_agent.builtins import checkpointers
from purpose_agent.runtime.actor import Actor
from purpose_agent.runtime.loop import Budget, Runner
from purpose_agent.testing import FunctionBackend, make_kernel

STEPS = 6


def main() -> None:
    db, journal, run_id, mode = sys.argv[1], Path(sys.argv[2]), sys.argv[3], sys.argv[4]

    @pa.tool
    def work(n: int) -> str:
        """Do one unit of work; the host reads the journal to judge."""
        with journal.open("a") as handle:
            handle.write(f"start {n}\n")
            handle.flush()
        time.sleep(0.25)
        with journal.open("a") as handle:
            handle.write(f"end {n}\n")
            handle.flush()
        return f"done {n}"

    def reply(request: pa.models.ChatRequest) -> str:
        done = sum(1 for m in request.messages if m.content.startswith("Observation from work"))
        if done >= STEPS:
            return json.dumps({"thought": "", "action": "answer", "answer": f"did {done}"})
        return json.dumps({"thought": "", "action": "tool", "tool": "work", "arguments": {"n": done}})

    kernel = make_kernel({"checkpointers": checkpointers})
    runner = Runner(actor=Actor(backend=FunctionBackend(reply), tools=[work]),
                    checkpointer=kernel.checkpointer("sqlite", path=db), budget=Budget(max_steps=20))
    result = runner.run("do the work", run_id=run_id, resume=mode == "resume")
    print(json.dumps({"answer": result.answer, "steps": len(result.trajectory.steps), "stopped": result.stopped}))


if __name__ == "__main__":
    main()
