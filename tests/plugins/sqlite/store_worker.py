"""A separate process that writes to a SQLite memory store, for the multi-process tests.

    python store_worker.py write PATH TAG COUNT   add COUNT items, one transaction each
    python store_worker.py use PATH ID COUNT      record COUNT helpful uses of one item
    python store_worker.py churn PATH SEED        write forever (adds, batches, promotions, uses)

After each commit it prints what was committed, one line each, and flushes, so a parent that
kills it knows exactly which writes finished: ``added ID STATUS`` and ``promoted ID``.
"""

from __future__ import annotations

import random
import sys

from purpose_agent.models import MemoryItem, MemoryStatus
from purpose_agent_sqlite.store import SQLiteStore


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main(argv: list[str]) -> None:
    mode, path = argv[0], argv[1]
    store = SQLiteStore(path, busy_timeout_ms=30_000)
    if mode == "write":
        tag, count = argv[2], int(argv[3])
        for i in range(count):
            item = store.add(MemoryItem(text=f"{tag} lesson number {i}: check the inputs before the loop"))
            say(f"added {item.id} {item.status.value}")
    elif mode == "use":
        item_id, count = argv[2], int(argv[3])
        for _ in range(count):
            store.record_use(item_id, True)
        say("done")
    elif mode == "churn":
        rng = random.Random(int(argv[2]))
        candidates: list[str] = []
        say("ready")
        n = 0
        while True:
            n += 1
            choice = rng.random()
            text = f"seed {argv[2]} lesson {n}: " + " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 40)))
            if choice < 0.4:
                status = rng.choice([MemoryStatus.CANDIDATE, MemoryStatus.PROMOTED])
                item = store.add(MemoryItem(text=text, status=status))
                say(f"added {item.id} {item.status.value}")
                if status is MemoryStatus.CANDIDATE:
                    candidates.append(item.id)
            elif choice < 0.6:
                batch = [MemoryItem(text=f"{text} (batch {j})", status=MemoryStatus.PROMOTED) for j in range(5)]
                store.add_many(batch)
                for item in batch:
                    say(f"added {item.id} promoted")
            elif choice < 0.8 and candidates:
                item_id = candidates.pop(rng.randrange(len(candidates)))
                current = store.get(item_id)
                assert current is not None
                store.update(current.model_copy(update={"status": MemoryStatus.PROMOTED, "status_reason": "test"}))
                say(f"promoted {item_id}")
            else:
                done = store.list(status=MemoryStatus.PROMOTED, limit=1)
                if done:
                    store.record_use(done[0].id, rng.random() < 0.7)
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    store.close()


WORDS = ("retry", "timeout", "cache", "pathlib", "fixture", "assert", "parse", "schema", "index", "query",
         "lock", "thread", "process", "unicode", "encoding", "decimal", "rounding", "network", "backoff", "token")

if __name__ == "__main__":
    main(sys.argv[1:])
