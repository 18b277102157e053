"""Insert and retrieval costs of the SQLite memory store at 10,000 and 100,000 items.

    .venv/bin/python tests/benchmarks/bench_memory_store.py [--sizes 10000,100000] [--queries 300]

Items are lesson-like texts generated deterministically (fixed seed) from templates and a
vocabulary of programming topics, spread over the seven kinds, five statuses and four scope
levels. For each size, in a fresh database file:

* bulk insert throughput (``add_many``, batches of 1,000) and single-transaction ``add``
  throughput (1,000 items, one commit each);
* file size per 1,000 items after a WAL checkpoint;
* latency of ``store.search`` (BM25, top 10) and of the full ``memory.retrieval.retrieve`` (50
  candidates, scope, usefulness, budget) for lesson-like queries: p50 and p99.

Targets at 100,000 items: retrieval p50 <= 5 ms and p99 <= 20 ms. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from purpose_agent.builtins.sqlite_store import SQLiteStore
from purpose_agent.memory.retrieval import RetrievalPolicy, RunScope, retrieve
from purpose_agent.models import Counters, MemoryItem, MemoryKind, MemoryStatus, Provenance, Scope

TOPICS = [
    "unit tests", "network calls", "database migrations", "file paths", "unicode text", "date parsing",
    "configuration files", "logging", "retries", "timeouts", "caching", "thread pools", "subprocesses",
    "json schemas", "http clients", "sql queries", "regular expressions", "floating point math", "csv exports",
    "docker images", "git branches", "dependency pins", "virtual environments", "async tasks", "file locks",
    "error messages", "command line flags", "environment variables", "memory leaks", "profiling",
    "pagination", "rate limits", "authentication tokens", "tls certificates", "time zones", "decimal money",
    "large uploads", "streaming responses", "template rendering", "search indexes", "sorting stability",
    "recursion depth", "fibonacci numbers", "binary search", "graph traversal", "hash maps", "queues",
    "serialization", "compression", "encryption keys",
]
ADVICE = [
    "check the return code before using the output", "set an explicit timeout", "retry with exponential backoff",
    "validate the input at the boundary", "write a failing test first", "prefer the standard library",
    "log the full context of the failure", "close resources in a finally block", "pin the exact version",
    "normalise the text before comparing", "use a context manager", "avoid global mutable state",
    "measure before optimising", "keep the function small and pure", "read the documentation of the edge cases",
    "iterate instead of recursing", "escape user input", "use parameterised queries", "batch the writes",
    "handle the empty case explicitly",
]
REASONS = [
    "the last run failed silently without it", "it made the tests flaky", "the critic flagged a regression",
    "it doubled the runtime", "the output was truncated", "it leaked a file handle", "it broke on windows",
    "the reviewer asked for it", "it hid the real error", "the data had trailing whitespace",
]
TEMPLATES = [
    "When working with {topic}, {advice}; {reason}.",
    "{Advice} for {topic}: {reason}.",
    "Lesson on {topic}: always {advice}, because {reason}.",
    "Before touching {topic} and {topic2}, {advice}. Otherwise {reason}.",
    "If {topic} misbehave, {advice} and compare with {topic2}; {reason}.",
]
KINDS = list(MemoryKind)
STATUS_WEIGHTS = [(MemoryStatus.PROMOTED, 0.6), (MemoryStatus.CANDIDATE, 0.15), (MemoryStatus.QUARANTINED, 0.1),
                  (MemoryStatus.REJECTED, 0.05), (MemoryStatus.ARCHIVED, 0.1)]
SCOPES = [Scope()] * 6 + [Scope(level="purpose", value="build"), Scope(level="agent", value="coder"),
                          Scope(level="task_family", value="data"), Scope(level="agent", value="reviewer")]


def lesson(rng: random.Random, n: int) -> MemoryItem:
    advice = rng.choice(ADVICE)
    text = rng.choice(TEMPLATES).format(topic=rng.choice(TOPICS), topic2=rng.choice(TOPICS), advice=advice,
                                        Advice=advice.capitalize(), reason=rng.choice(REASONS))
    status = rng.choices([s for s, _ in STATUS_WEIGHTS], [w for _, w in STATUS_WEIGHTS])[0]
    uses = rng.randint(0, 20)
    helpful = rng.randint(0, uses)
    return MemoryItem(
        id=f"{n:08d}{rng.getrandbits(96):024x}", text=f"{text} (#{n})", kind=rng.choice(KINDS), status=status,
        scope=rng.choice(SCOPES), counters=Counters(uses=uses, helpful=helpful, harmful=rng.randint(0, uses - helpful)),
        usefulness=round(rng.uniform(-1, 1), 3), tags=rng.sample(["python", "io", "testing", "ops", "data"], 2),
        provenance=Provenance(run_id=f"run-{n % 997}", step=n % 30, extractor="bench", created_at=1.7e9 + n),
        updated_at=1.7e9 + n,
    )


def queries(rng: random.Random, count: int) -> list[str]:
    out = []
    for _ in range(count):
        words = rng.choice(TOPICS).split() + rng.choice(ADVICE).split()[:rng.randint(1, 4)]
        rng.shuffle(words)
        out.append("how do I " + " ".join(words))
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def bench_size(size: int, query_count: int, workdir: Path) -> dict[str, float]:
    rng = random.Random(size)
    items = [lesson(rng, n) for n in range(size)]
    path = workdir / f"bench-{size}.db"
    store = SQLiteStore(path)
    start = time.perf_counter()
    for offset in range(0, size, 1000):
        store.add_many(items[offset:offset + 1000])
    bulk_s = time.perf_counter() - start

    singles = [lesson(rng, size + n) for n in range(1000)]
    start = time.perf_counter()
    for item in singles:
        store.add(item)
    single_s = time.perf_counter() - start

    store._conn().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    total = size + len(singles)
    bytes_per_1000 = path.stat().st_size / total * 1000

    qs = queries(random.Random(7), query_count)
    scope = RunScope(purpose="build", agent="coder", task_family="data")
    policy = RetrievalPolicy()
    for q in qs[:20]:  # warm the page cache and statement cache
        retrieve(store, q, scope=scope, policy=policy)
    search_ms, retrieve_ms, returned = [], [], []
    for q in qs:
        t0 = time.perf_counter()
        store.search(q, limit=10, status=MemoryStatus.PROMOTED)
        t1 = time.perf_counter()
        got = retrieve(store, q, scope=scope, policy=policy)
        t2 = time.perf_counter()
        search_ms.append((t1 - t0) * 1000)
        retrieve_ms.append((t2 - t1) * 1000)
        returned.append(len(got))
    store.close()
    return {
        "items": total,
        "bulk_insert_per_s": round(size / bulk_s),
        "single_add_per_s": round(len(singles) / single_s),
        "bytes_per_1000_items": round(bytes_per_1000),
        "search_p50_ms": round(percentile(search_ms, 50), 2),
        "search_p99_ms": round(percentile(search_ms, 99), 2),
        "retrieve_p50_ms": round(percentile(retrieve_ms, 50), 2),
        "retrieve_p99_ms": round(percentile(retrieve_ms, 99), 2),
        "mean_items_returned": round(statistics.mean(returned), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            results[str(size)] = r = bench_size(size, args.queries, Path(tmp))
            print(f"{size:>7} items: bulk {r['bulk_insert_per_s']:,}/s, single add {r['single_add_per_s']:,}/s, "
                  f"{r['bytes_per_1000_items'] / 1024:.0f} KiB per 1,000 items; search p50 {r['search_p50_ms']} ms "
                  f"p99 {r['search_p99_ms']} ms; retrieve p50 {r['retrieve_p50_ms']} ms p99 {r['retrieve_p99_ms']} ms "
                  f"({r['mean_items_returned']} items returned on average)", flush=True)
    largest = results[max(results, key=int)]
    ok = largest["retrieve_p50_ms"] <= 5 and largest["retrieve_p99_ms"] <= 20
    print(f"targets at {max(results, key=int)} items (retrieve p50 <= 5 ms, p99 <= 20 ms): {'met' if ok else 'MISSED'}; "
          f"total {time.perf_counter() - started:.0f} s")
    print(json.dumps({"sizes": results, "targets_met": ok}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
