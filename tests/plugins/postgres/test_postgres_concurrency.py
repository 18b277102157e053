"""Several real worker processes on one PostgreSQL schema: uses, decisions, edits and rollbacks at
once lose nothing; workers killed with SIGKILL mid-promotion lose no committed promotion."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from purpose_agent.models import MemoryItem, MemoryStatus

WORKER = Path(__file__).with_name("postgres_worker.py")


def start_worker(options: dict[str, Any], mode: str, seed: int, ops: int, ids: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), options["dsn"], options["password_env"], options["schema"], mode, str(seed),
         str(ops), ",".join(ids)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def lines_of(output: str) -> list[dict[str, Any]]:
    """The complete JSON lines a worker printed (a killed one may leave half a line)."""
    records = []
    for line in output.splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


@pytest.mark.slow
def test_workers_using_deciding_editing_and_rolling_back_at_once_lose_no_update(store: Any,
                                                                               options: dict[str, Any]) -> None:
    ids = [store.add(MemoryItem(text=f"shared lesson {n} about retries", status=MemoryStatus.QUARANTINED)).id
           for n in range(3)]  # few items, so the workers collide on them constantly
    workers = [start_worker(options, "mixed", seed, 120, ids) for seed in range(6)]
    records: list[dict[str, Any]] = []
    for worker in workers:
        out, err = worker.communicate(timeout=240)
        assert worker.returncode == 0, err[-2000:]
        records += lines_of(out)
    assert sum(r["op"] == "done" for r in records) == 6

    uses = Counter(r["id"] for r in records if r["op"] == "use")
    helpful = Counter(r["id"] for r in records if r["op"] == "use" and r["helpful"] is True)
    harmful = Counter(r["id"] for r in records if r["op"] == "use" and r["helpful"] is False)
    for item_id in ids:
        item = store.get(item_id)
        assert (item.counters.uses, item.counters.helpful, item.counters.harmful) == (
            uses[item_id], helpful[item_id], harmful[item_id]), f"lost a use of {item_id}"
        history = store.history(item_id)
        assert [v.version for v in history] == list(range(1, item.version + 1))
        for record in records:  # every edit and rollback a worker saw committed is in the history, as written
            if record.get("id") == item_id and record["op"] in ("edit", "rollback"):
                assert history[record["version"] - 1].text == record["text"], record
    writes = sum(r["op"] in ("edit", "rollback") for r in records)
    assert writes > 50 and sum(uses.values()) > 200  # the workers did collide, many times
    assert store.integrity_check() == "ok"


@pytest.mark.slow
def test_workers_killed_mid_promotion_lose_no_promoted_item(store: Any, options: dict[str, Any]) -> None:
    ids = [store.add(MemoryItem(text=f"candidate lesson {n}", status=MemoryStatus.QUARANTINED)).id for n in range(20)]
    rng = random.Random(15)
    records: list[dict[str, Any]] = []
    kills = 0
    for round_ in range(3):  # each round: 4 workers, each killed at its own random moment while it works
        workers = [start_worker(options, "promote", round_ * 10 + n, 100_000, ids) for n in range(4)]
        for worker in workers:
            assert worker.stdout is not None
            ready = worker.stdout.readline()  # kill it while it works, not while Python starts
            assert json.loads(ready)["op"] == "ready", ready
        started = time.monotonic()
        for moment, worker in sorted(((rng.uniform(0.1, 1.5), w) for w in workers), key=lambda p: p[0]):
            time.sleep(max(0.0, started + moment - time.monotonic()))
            os.kill(worker.pid, signal.SIGKILL)
        for worker in workers:
            # Read the rest through the reader readline() used: communicate() reads the raw pipes
            # and would drop the lines readline() had already buffered (seen: 23 uses "missing").
            assert worker.stdout is not None and worker.stderr is not None
            out = worker.stdout.read()
            worker.wait(timeout=30)
            worker.stderr.close()
            assert worker.returncode == -signal.SIGKILL
            kills += 1
            records += lines_of(out)
    assert kills == 12
    worked = [r for r in records if r["op"] in ("add", "use", "promote")]
    assert len(worked) > 50, "the workers were killed before doing anything; nothing was tested"

    assert store.integrity_check() == "ok"
    for record in records:
        if record["op"] == "promote":
            assert store.get(record["id"]).status == MemoryStatus.PROMOTED, record
        elif record["op"] == "add":
            assert store.get(record["id"]) is not None, record
    uses = Counter(r["id"] for r in records if r["op"] == "use")
    stored = sum(store.get(i).counters.uses for i in ids)
    # A killed worker may have committed one use it never got to print; none may vanish.
    assert sum(uses.values()) <= stored <= sum(uses.values()) + kills
    # No row lock outlived its killed worker: every item can still be written at once.
    for item_id in ids:
        store.record_use(item_id, True)
