"""A worker process for the concurrency and crash tests: it opens the PostgreSQL store as a real
worker would (its own kernel, pool and connections) and works on shared items, printing one JSON
line per operation *after* the store returned, flushed, so the test knows what was committed.

    python postgres_worker.py DSN PASSWORD_ENV SCHEMA MODE SEED OPS ID[,ID...]

MODE ``mixed``: record uses (directly, and as the learner credits them: read, add one, update), status decisions from a read a moment old, text edits and rollbacks on
the given items. MODE ``promote``: add new items, record uses, and promote quarantined items
(the crash test kills these mid-way).
"""

from __future__ import annotations

import json
import random
import sys
import time


def emit(**fields: object) -> None:
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def main() -> int:
    dsn, password_env, schema, mode, seed, ops, ids = sys.argv[1:8]
    import purpose_agent_postgres
    from purpose_agent.models import MemoryItem, MemoryStatus
    from purpose_agent.testing import make_kernel

    kernel = make_kernel({"postgres": purpose_agent_postgres}, strict=True)
    store = kernel.memory_store("postgres", dsn=dsn, password_env=password_env, schema=schema, pool_max=2)
    rng = random.Random(int(seed))
    items = ids.split(",")
    emit(op="ready")
    for n in range(int(ops)):
        item_id = rng.choice(items)
        choice = rng.random()
        if mode == "promote":
            if choice < 0.3:
                added = store.add(MemoryItem(text=f"worker {seed} lesson {n}: {rng.random()}", status=MemoryStatus.PROMOTED))
                emit(op="add", id=added.id)
            elif choice < 0.7:
                helpful = rng.random() < 0.5
                store.record_use(item_id, helpful)
                emit(op="use", id=item_id, helpful=helpful)
            else:
                read = store.get(item_id)
                stored = store.update(read.model_copy(update={"status": MemoryStatus.PROMOTED,
                                                              "status_reason": f"promoted by worker {seed}"}))
                emit(op="promote", id=item_id, status=stored.status.value)
            continue
        if choice < 0.4:
            helpful = None if rng.random() < 0.2 else rng.random() < 0.5
            store.record_use(item_id, helpful)
            emit(op="use", id=item_id, helpful=helpful)
        elif choice < 0.5:
            # The kernel's Learner.credit: read the item, write it back with one more (helpful) use.
            read = store.get(item_id)
            counters = read.counters.model_copy(update={"uses": read.counters.uses + 1,
                                                        "helpful": read.counters.helpful + 1})
            store.update(read.model_copy(update={"counters": counters}))
            emit(op="use", id=item_id, helpful=True)
        elif choice < 0.7:
            read = store.get(item_id)
            time.sleep(rng.random() * 0.005)  # a decision takes a moment; others write meanwhile
            target = rng.choice([MemoryStatus.PROMOTED, MemoryStatus.REJECTED, MemoryStatus.QUARANTINED])
            stored = store.update(read.model_copy(update={"status": target, "status_reason": f"worker {seed} op {n}"}))
            emit(op="decide", id=item_id, version=stored.version)
        elif choice < 0.85:
            read = store.get(item_id)
            text = f"{read.text.split(' (rev')[0]} (rev {seed}.{n})"
            stored = store.update(read.model_copy(update={"text": text}))
            emit(op="edit", id=item_id, version=stored.version, text=text)
        else:
            current = store.get(item_id)
            if current.version > 1:
                back = store.rollback(item_id, rng.randint(1, current.version - 1), reason=f"worker {seed}")
                emit(op="rollback", id=item_id, version=back.version, text=back.text)
    store.close()
    emit(op="done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
