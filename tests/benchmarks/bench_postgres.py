"""The PostgreSQL memory store beside the SQLite one, in one run, on the same items and queries.

    .venv/bin/python tests/benchmarks/bench_postgres.py [--sizes 10000,100000] [--queries 200]
        [--clients 1,4,16] [--seconds 5] [--corpus realistic|templates]

A throwaway PostgreSQL cluster is started for the run (purpose_agent_postgres.testing: initdb in a
temporary directory, loopback TCP, the server's default settings — fsync and synchronous_commit
on); the SQLite store is a file in a temporary directory (WAL, synchronous NORMAL, its default).
For each size, in a fresh database of each store:

* ``add``: bulk (``add_many``, batches of 1,000, one transaction each) and single (500 ``add``
  calls, one transaction each), in items per second;
* ``first``: the first ``retrieve`` of a store object opened on the loaded database (for
  PostgreSQL, the process reads every item's search facts then);
* ``retrieve``: the kernel's whole retrieval (``memory.retrieval.retrieve``: 50 candidates of the
  run's scopes, usefulness, token budget) for lesson-like queries, p50 and p99, one client,
  after 20 queries of warm-up (a stem a PostgreSQL process has not met yet is read on first use,
  so the tail includes such reads); ``again``: p50 and p99 of a second pass over the same queries
  (every stem met once), what a long-running worker with a steady vocabulary sees;
* retrieval QPS with 1, 4 and 16 concurrent clients, each a separate **process** (spawned, its
  own store object and connection) running ``retrieve`` in a loop for ``--seconds``, after 5
  queries of warm-up, or with ``--warm-clients`` after one pass over all its queries (the steady
  state of a long-running worker).

Items and queries come from ``bench_memory_store`` (the same generator and seed as the SQLite
benchmark). The table is printed as it goes; the last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from bench_memory_store import lesson, percentile, queries, realistic_queries

from purpose_agent.memory.retrieval import RetrievalPolicy, RunScope, retrieve
from purpose_agent_sqlite.store import SQLiteStore

SCOPE = RunScope(purpose="build", agent="coder", task_family="data")


def open_store(spec: dict[str, Any]) -> Any:
    if spec["kind"] == "sqlite":
        return SQLiteStore(spec["path"])
    from purpose_agent_postgres.connection import ConnectionSettings
    from purpose_agent_postgres.store import PostgresStore

    return PostgresStore(ConnectionSettings(dsn=spec["dsn"], password_env=spec["password_env"],
                                            schema=spec["schema"], pool_min=1, pool_max=spec.get("pool_max", 1)))


def client(spec: dict[str, Any], texts: list[str], seconds: float, barrier: Any, results: Any,
           warm: bool = False) -> None:
    """One concurrent client: its own store, ``retrieve`` in a loop for ``seconds`` after the barrier."""
    store = open_store(spec)
    policy = RetrievalPolicy()
    for text in texts if warm else texts[:5]:
        retrieve(store, text, scope=SCOPE, policy=policy)
    barrier.wait()
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        retrieve(store, texts[done % len(texts)], scope=SCOPE, policy=policy)
        done += 1
    results.put(done / (time.perf_counter() - started))
    store.close()


def qps(spec: dict[str, Any], texts: list[str], clients: int, seconds: float, warm: bool = False) -> float:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(clients)
    results = context.Queue()
    workers = [context.Process(target=client, args=(spec, texts[n::clients] or texts, seconds, barrier, results, warm))
               for n in range(clients)]
    for worker in workers:
        worker.start()
    rates = [results.get(timeout=300) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    return sum(rates)


def bench_store(name: str, spec: dict[str, Any], items: list[Any], extra: list[Any], texts: list[str],
                clients: list[int], seconds: float, warm: bool = False) -> dict[str, Any]:
    store = open_store({**spec, "pool_max": 4})
    started = time.perf_counter()
    for start in range(0, len(items), 1000):
        store.add_many(items[start:start + 1000])
    bulk = len(items) / (time.perf_counter() - started)
    started = time.perf_counter()
    for item in extra:
        store.add(item)
    single = len(extra) / (time.perf_counter() - started)
    if spec["kind"] == "postgres":
        import psycopg

        # A bulk load leaves the planner without statistics until autovacuum's next pass; an
        # operator runs ANALYZE after one (docs/scaling.md).
        with psycopg.connect(spec["dsn"], password=os.environ[spec["password_env"]], autocommit=True) as conn:
            conn.execute(f"ANALYZE {spec['schema']}.items")
    store.close()
    store = open_store({**spec, "pool_max": 4})
    policy = RetrievalPolicy()
    begun = time.perf_counter()
    retrieve(store, texts[0], scope=SCOPE, policy=policy)
    first = (time.perf_counter() - begun) * 1000
    for text in texts[:20]:
        retrieve(store, text, scope=SCOPE, policy=policy)
    latencies, found = [], 0
    for text in texts:
        begun = time.perf_counter()
        found += len(retrieve(store, text, scope=SCOPE, policy=policy))
        latencies.append((time.perf_counter() - begun) * 1000)
    again = []
    for text in texts:
        begun = time.perf_counter()
        retrieve(store, text, scope=SCOPE, policy=policy)
        again.append((time.perf_counter() - begun) * 1000)
    store.close()
    row: dict[str, Any] = {
        "store": name, "bulk_add_per_s": round(bulk), "single_add_per_s": round(single), "first_retrieve_ms": round(first),
        "retrieve_p50_ms": round(percentile(latencies, 50), 2), "retrieve_p99_ms": round(percentile(latencies, 99), 2),
        "retrieve_mean_ms": round(statistics.fmean(latencies), 2), "results_per_query": round(found / len(texts), 2),
        "again_p50_ms": round(percentile(again, 50), 2), "again_p99_ms": round(percentile(again, 99), 2),
    }
    for count in clients:
        row[f"qps_{count}"] = round(qps(spec, texts, count, seconds, warm), 1)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--clients", default="1,4,16")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--corpus", choices=["realistic", "templates"], default="realistic")
    parser.add_argument("--warm-clients", action="store_true",
                        help="each QPS client first runs all its queries once (every stem met)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    clients = [int(c) for c in args.clients.split(",")]

    from purpose_agent_postgres.testing import ClusterUnavailable, ThrowawayCluster

    try:
        cluster = ThrowawayCluster.start()
    except ClusterUnavailable as exc:
        print(f"bench_postgres: no PostgreSQL cluster: {exc}", file=sys.stderr)
        return 2
    os.environ[cluster.password_env] = cluster.password
    rows: list[dict[str, Any]] = []
    header = (f"{'items':>7} {'store':8} {'bulk add/s':>10} {'add/s':>7} {'first ms':>8} {'p50 ms':>7} {'p99 ms':>7} {'again p50/p99':>14} "
              + " ".join(f"{'QPS x' + str(c):>8}" for c in clients))
    print(f"corpus {args.corpus}, {args.queries} queries, QPS over {args.seconds:g} s per client count "
          f"(clients are processes), {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start\n{header}",
          flush=True)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-postgres-") as workdir:
            for size in sizes:
                rng = random.Random(15)
                items = [lesson(rng, n, args.corpus) for n in range(size)]
                extra = [lesson(rng, size + n, args.corpus) for n in range(500)]
                text_rng = random.Random(16)
                texts = (realistic_queries(text_rng, args.queries) if args.corpus == "realistic"
                         else queries(text_rng, args.queries))
                specs = {
                    "sqlite": {"kind": "sqlite", "path": str(Path(workdir) / f"memory-{size}.db")},
                    "postgres": {"kind": "postgres", "dsn": cluster.dsn, "password_env": cluster.password_env,
                                 "schema": f"bench_{size}"},
                }
                for name, spec in specs.items():
                    row = {"items": size, **bench_store(name, spec, items, extra, texts, clients, args.seconds,
                                                        args.warm_clients)}
                    rows.append(row)
                    print(f"{size:>7} {name:8} {row['bulk_add_per_s']:>10} {row['single_add_per_s']:>7} "
                          f"{row['first_retrieve_ms']:>8} "
                          f"{row['retrieve_p50_ms']:>7} {row['retrieve_p99_ms']:>7} "
                          f"{str(row['again_p50_ms']) + '/' + str(row['again_p99_ms']):>14} "
                          + " ".join(f"{row[f'qps_{c}']:>8}" for c in clients), flush=True)
    finally:
        cluster.stop()
    print(json.dumps({"benchmark": "postgres_vs_sqlite", "corpus": args.corpus, "queries": args.queries,
                      "qps_seconds": args.seconds, "clients": "processes", "warm_clients": args.warm_clients, "cpus": os.cpu_count(), "load_average_at_end": round(os.getloadavg()[0], 1),
                      "rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
