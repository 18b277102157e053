"""A writer killed with SIGKILL mid-write, 50 times: the file stays intact and nothing committed is lost."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from purpose_agent.models import MemoryStatus
from purpose_agent_sqlite.store import SQLiteStore

WORKER = Path(__file__).with_name("store_worker.py")
KILLS = 50

pytestmark = [pytest.mark.slow, pytest.mark.skipif(os.name != "posix", reason="needs SIGKILL")]


def _committed(lines: list[str], added: dict[str, str], promoted: set[str]) -> None:
    """Fold the writer's complete report lines into what must now be in the database."""
    for line in lines:
        parts = line.split()
        if len(parts) == 3 and parts[0] == "added":
            added[parts[1]] = parts[2]
            if parts[2] == "promoted":
                promoted.add(parts[1])
        elif len(parts) == 2 and parts[0] == "promoted":
            promoted.add(parts[1])


def test_sigkill_during_writes_loses_nothing_committed(tmp_path: Path) -> None:
    path = tmp_path / "crash.db"
    rng = random.Random(1234)
    added: dict[str, str] = {}
    promoted: set[str] = set()
    for round_number in range(KILLS):
        proc = subprocess.Popen([sys.executable, str(WORKER), "churn", str(path), str(round_number)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        ready = proc.stdout.readline()
        assert ready.strip() == "ready", proc.stderr.read() if proc.stderr else ""
        time.sleep(rng.uniform(0.005, 0.15))  # kill at a random point among the writes
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL, "the writer finished or failed before it was killed"
        # only whole lines count: a line cut short by the kill was not reported
        lines = out.split("\n")[:-1]
        _committed(lines, added, promoted)

        conn = sqlite3.connect(path)  # a plain connection: recovery must not depend on our code
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok", f"corrupt after kill {round_number}"
        finally:
            conn.close()
    assert len(added) > KILLS, "the writer committed too little to test anything; lengthen the delays"
    store = SQLiteStore(path)
    try:
        assert store.integrity_check() == "ok"  # includes the FTS index's own consistency check
        current = {item.id: item for item in store.list()}
        lost = set(added) - set(current)
        assert not lost, f"{len(lost)} reported items are missing, e.g. {sorted(lost)[:3]}"
        demoted = [i for i in promoted if current[i].status is not MemoryStatus.PROMOTED]
        assert not demoted, f"{len(demoted)} reported promotions are missing"
        for item_id in list(added)[:: max(1, len(added) // 50)]:  # the history agrees with the current row
            history = store.history(item_id)
            assert history and history[-1].version == current[item_id].version
    finally:
        store.close()
