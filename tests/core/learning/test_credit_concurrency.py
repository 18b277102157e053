"""Crediting lessons from several processes at once: every use counts.

The learner credits each injected lesson after a run. A read-then-``update`` would keep only the
last writer's increment when two processes credit the same lesson at once; the learner goes
through the store's atomic ``record_use`` instead. Real processes on one SQLite file.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from purpose_agent.learning.learner import Learner
from purpose_agent.models import MemoryItem, MemoryStatus
from purpose_agent.testing import ScriptedBackend, make_kernel
from purpose_agent_sqlite.store import SQLiteStore

PROCESSES = 4
CREDITS_EACH = 40


def _credit_many(path: str, item_id: str, value: float, start: multiprocessing.synchronize.Event) -> None:
    store = SQLiteStore(path)
    learner = Learner(make_kernel(), store, ScriptedBackend([]))
    item = store.get(item_id)
    assert item is not None
    start.wait()
    for _ in range(CREDITS_EACH):
        learner.credit([item], value)  # the item as retrieved before the run: an old read
    store.close()


def test_credits_from_concurrent_processes_all_count(tmp_path: Path) -> None:
    path = str(tmp_path / "memory.db")
    store = SQLiteStore(path)
    item = store.add(MemoryItem(text="Check the inputs before the loop.", status=MemoryStatus.PROMOTED))
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    # half the processes credit successes, half failures
    workers = [context.Process(target=_credit_many, args=(path, item.id, 9.0 if n % 2 else 2.0, start))
               for n in range(PROCESSES)]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    counters = store.get(item.id).counters
    assert counters.uses == PROCESSES * CREDITS_EACH
    assert counters.helpful == counters.harmful == PROCESSES // 2 * CREDITS_EACH
    store.close()


def test_a_lesson_removed_since_retrieval_is_skipped(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "memory.db"))
    kept = store.add(MemoryItem(text="Pin the versions.", status=MemoryStatus.PROMOTED))
    ghost = MemoryItem(text="Never stored.", status=MemoryStatus.PROMOTED)
    Learner(make_kernel(), store, ScriptedBackend([])).credit([ghost, kept], 9.0)
    assert store.get(kept.id).counters.uses == 1
    assert store.get(ghost.id) is None
    store.close()
