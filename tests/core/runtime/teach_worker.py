"""A separate process that teaches or learns into a SQLite memory, for the crash tests.

    python teach_worker.py teach PATH KILL_AFTER         teach one lesson
    python teach_worker.py teach-replay PATH KILL_AFTER  run a scored task first (so there is a task
                                                          to replay), then teach one lesson
    python teach_worker.py learn PATH KILL_AFTER         run a scored task and learn from it
    python teach_worker.py reopen PATH [TASK]            open a new team on PATH (and run TASK);
                                                          print every item's status as JSON

The worker kills itself with SIGKILL right after the KILL_AFTER-th store write of the step under
test has committed (0 = never), so the parent sees exactly the state a crash between two writes
leaves. The kill switch lives here, in the test's process, not in the library. A worker that
finishes prints ``finished`` with its number of writes.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from typing import Any

import purpose_agent as pa
from purpose_agent_conformance import scenario_team
from purpose_agent_sqlite.store import SQLiteStore

TAUGHT = "Keep Friday afternoons free of meetings."


def open_team(path: str) -> tuple[pa.Team, SQLiteStore]:
    store = SQLiteStore(path)
    # the team of the in-process team tests and of the memory-store conformance scenario, crashed
    return scenario_team(store), store


def arm(store: SQLiteStore, kill_after: int) -> list[int]:
    """Count the store's writes from now on; SIGKILL this process after write number ``kill_after``."""
    writes = [0]
    for name in ("add", "update"):
        original = getattr(store, name)

        def counted(item: Any, _original: Any = original) -> Any:
            result = _original(item)  # committed when this returns
            writes[0] += 1
            if writes[0] == kill_after:
                os.kill(os.getpid(), signal.SIGKILL)
            return result

        setattr(store, name, counted)
    return writes


def main(argv: list[str]) -> None:
    mode, path = argv[0], argv[1]
    team, store = open_team(path)
    if mode == "reopen":
        if len(argv) > 2:
            team.run(argv[2])
        print(json.dumps({item.id: [item.status.value, item.status_reason, item.text] for item in store.list()}))
        return
    kill_after = int(argv[2])
    if mode == "teach-replay":
        team.run("Plan Monday around the meetings")
    writes = arm(store, kill_after)
    if mode in ("teach", "teach-replay"):
        try:
            team.teach(TAUGHT)
        except pa.LessonRejected:  # replay may find no gain; a decided lesson is what counts here
            pass
    elif mode == "learn":
        team.run("Plan Monday around the meetings")
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    print(f"finished {writes[0]}")


if __name__ == "__main__":
    main(sys.argv[1:])
