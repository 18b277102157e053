"""Recall of the inverted file (``vector_search``) against the exact scan, on real MiniLM vectors.

    .venv/bin/python tests/benchmarks/bench_ivf_recall.py [--size 100000] [--queries 200]
        [--shares 0.08,0.12,0.16,0.20,0.24] [--rescore 200,400] [--dimensions 128,64,full]
        [--hybrid 100] [--latency 300] [--latency-store FILE.db] [--cache FILE.npy]

The corpus is ``bench_retrieval``'s (the realistic lesson texts of ``bench_memory_store``), every
text embedded with the kernel's embedder (all-MiniLM-L6-v2). Embedding 100,000 texts takes
~17-20 minutes on one core, so the matrix is saved once as ``.npy`` (``--cache``; by default
``bench-ivf-recall-<size>.npy`` beside the kernel's vector cache) and read on later runs.

Two query sets, each embedded by the same model: the bench's task-like queries
(``realistic_queries``) and held-out lessons (texts of the same generator after the corpus's
last one). For every scan dimension (``REDUCED_DIMENSION``; ``full``: no reduced copy), probe
share (``PROBE_SHARE``) and re-score count (``RESCORE_MIN``, with ``RESCORE_PER_ROW`` a fiftieth
of it, so the top 10 and the top 50 re-score the same count), one :class:`VectorSet` (clustered
once per dimension) answers the top 10 and the top 50 of every query; the table gives recall@10
and recall@50 against the exact scan, and the CPU time per query (``process_time``, p50) of the
top-50 search. The full-vector rows separate what the probing misses from what the reduced scan
misses. Before the table: how far down the centres' order each query's exact top 50 reaches, and
how many clusters a cluster-radius bound could skip (what adaptive probing could use).

``--hybrid N`` (default 100; 0 skips it) also builds a SQLite memory store of the corpus with
these vectors (kept beside the matrix, ``<matrix name>-store-<size>.db``) and, for N task
queries, compares ``memory.retrieval.retrieve`` (hybrid, default policy) with the exact
nearest vectors and with the inverted file at each probe share: how many of the exact run's
top 5 items the approximate run's top 5 keeps. The query vectors are computed beforehand, so
only the ranking differs. Before that, ``--latency N`` (default 300; 0 skips it) times ``retrieve``
end to end for N more task queries, each embedded afresh (the issue's target: p50 <= 10 ms,
p99 <= 40 ms), the probe shares alternating per query; ``--latency-store FILE`` times another
store of memories with vectors instead, such as ``bench_retrieval``'s (synthetic vectors, the
store its latency target is measured on). The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_memory_store import percentile, realistic_queries
from bench_retrieval import KnownVectors, corpus_texts

from purpose_agent.embedding_cache import default_cache_path, text_digest
from purpose_agent.kernel import Kernel
from purpose_agent.memory.retrieval import RetrievalPolicy, RunScope, retrieve
from purpose_agent.models import MemoryStatus
from purpose_agent_sqlite import vector_search
from purpose_agent_sqlite.store import SQLiteStore
from purpose_agent_sqlite.vector_search import VectorSet

SEED_QUERIES = 11


def embedded(texts: list[str], embedder: Any, batch: int = 256) -> Any:
    import numpy as np

    parts, started = [], time.perf_counter()
    for start in range(0, len(texts), batch):
        parts.append(np.asarray(embedder.embed(texts[start:start + batch]), dtype=np.float32))
        if start and start % (batch * 40) == 0:
            print(f"(embedded {start:,} of {len(texts):,} in {time.perf_counter() - started:.0f} s)", flush=True)
    return np.concatenate(parts) if parts else np.zeros((0, int(embedder.dimension)), dtype=np.float32)


def corpus_matrix(size: int, cache: Path, embedder: Any) -> Any:
    """The corpus's vectors, embedded once and kept in ``cache``."""
    import numpy as np

    if cache.exists():
        matrix = np.load(cache, mmap_mode="r")
        if matrix.shape[0] >= size:  # the same generator: a larger corpus starts with the smaller one
            return np.ascontiguousarray(matrix[:size])
    started = time.perf_counter()
    matrix = embedded([item.text for item in corpus_texts(size)], embedder)
    np.save(cache, matrix)
    print(f"(embedded {size:,} texts in {time.perf_counter() - started:.0f} s: {cache})")
    return matrix


def exact_tops(matrix: Any, queries: Any) -> tuple[list[set[int]], list[set[int]]]:
    """The exact top 10 and top 50 rows of every query."""
    import numpy as np

    ten, fifty = [], []
    for query in queries:
        scores = matrix @ query
        best = np.argpartition(-scores, 49)[:50]
        best = best[np.lexsort((best, -scores[best]))]
        ten.append(set(best[:10].tolist()))
        fifty.append(set(best.tolist()))
    return ten, fifty


def measure(vectors: VectorSet, queries: Any, want10: list[set[int]], want50: list[set[int]]) -> dict[str, float]:
    recall10, recall50, cpu = [], [], []
    for query, ten, fifty in zip(queries, want10, want50, strict=True):
        got10 = {seq for seq, _ in vectors.top(query, 10)}
        used = time.process_time()
        got50 = {seq for seq, _ in vectors.top(query, 50)}
        cpu.append((time.process_time() - used) * 1000)
        recall10.append(len(got10 & ten) / 10)
        recall50.append(len(got50 & fifty) / 50)
    return {"recall10": statistics.mean(recall10), "recall50": statistics.mean(recall50),
            "cpu_p50_ms": percentile(cpu, 50)}


def probing_needs(vectors: VectorSet, queries: Any) -> dict[str, float]:
    """What adaptive probing could use, per query: how far down the centres' order the exact top 50
    reaches, and how many clusters a bound cannot rule out.

    The bound: a cluster whose rows are all within angle ``r`` of its centre, at angle ``a`` from
    the query, holds no row with a cosine above ``cos(max(0, a - r))``; a cluster whose bound is
    below the exact 50th score could be skipped (probing until the next centre's bound falls
    below the current 50th candidate).
    """
    import numpy as np

    centres, offsets = vectors._clusters()
    labels = np.repeat(np.arange(len(centres)), np.diff(offsets))
    radius = np.zeros(len(centres))
    to_centre = np.arccos(np.clip(np.einsum("ij,ij->i", vectors.matrix, centres[labels]), -1, 1))
    np.maximum.at(radius, labels, to_centre)
    reach, open_share = [], []
    for query in queries:
        scores = vectors.matrix @ query
        top = np.argpartition(-scores, 49)[:50]
        kth = scores[top].min()
        centre_scores = centres @ query
        rank = np.empty(len(centres), dtype=np.int64)
        rank[np.argsort(-centre_scores)] = np.arange(len(centres))
        reach.append((rank[labels[top]].max() + 1) / len(centres))
        bound = np.cos(np.maximum(0, np.arccos(np.clip(centre_scores, -1, 1)) - radius))
        open_share.append(float(np.mean(bound >= kth)))
    return {"reach_p50": percentile(reach, 50), "reach_p90": percentile(reach, 90),
            "bound_open_p50": percentile(open_share, 50)}


def settings(share: float, rescore: int) -> None:
    vector_search.PROBE_SHARE = share
    vector_search.RESCORE_MIN = rescore
    vector_search.RESCORE_PER_ROW = max(1, rescore // 50)


def recall_table(matrix: Any, query_sets: dict[str, Any], shares: list[float], rescores: list[int],
                 dimensions: list[int | None]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    import numpy as np

    seqs = np.arange(len(matrix))
    wants = {name: exact_tops(matrix, queries) for name, queries in query_sets.items()}
    rows: list[dict[str, Any]] = []
    needs_by_set: dict[str, Any] = {}
    default = (vector_search.PROBE_SHARE, vector_search.RESCORE_MIN, vector_search.RESCORE_PER_ROW,
               vector_search.REDUCED_DIMENSION)
    try:
        for reduced in dimensions:
            vector_search.REDUCED_DIMENSION = reduced
            started = time.process_time()
            vectors = VectorSet(seqs, matrix.copy(), exact_below=0)
            vectors.top(matrix[0], 1)
            build = time.process_time() - started
            print(f"(clustered {len(matrix):,} rows into {len(vectors._clusters()[0])} clusters in {build:.1f} CPU-s, "
                  f"scan in {reduced or matrix.shape[1]} dimensions)", flush=True)
            if not needs_by_set:
                for name, queries in query_sets.items():
                    needs = probing_needs(vectors, queries)
                    needs_by_set[name] = needs
                    print(f"({name}: the exact top 50 lies within the nearest {needs['reach_p50']:.0%} of the "
                          f"clusters by centre (p50), {needs['reach_p90']:.0%} (p90); the cluster-radius bound "
                          f"rules out {1 - needs['bound_open_p50']:.0%} of the clusters (p50))", flush=True)
            for share in shares:
                for rescore in (rescores if reduced else [0]):
                    settings(share, rescore or default[1])
                    row: dict[str, Any] = {"share": share, "dimensions": reduced or matrix.shape[1],
                                           "rescore": rescore or "-"}
                    for name, queries in query_sets.items():
                        row[name] = measure(vectors, queries, *wants[name])
                    rows.append(row)
                    print("| " + " | ".join([f"{share:.2f}", str(row["dimensions"]), str(row["rescore"])] + [
                        f"{row[n]['recall10']:.3f} / {row[n]['recall50']:.3f}" for n in query_sets] + [
                        f"{row[n]['cpu_p50_ms']:.2f}" for n in query_sets]) + " |", flush=True)
    finally:
        vector_search.PROBE_SHARE, vector_search.RESCORE_MIN, vector_search.RESCORE_PER_ROW = default[:3]
        vector_search.REDUCED_DIMENSION = default[3]
    return rows, needs_by_set


def memory_store(size: int, path: Path, matrix: Any, model_id: str) -> Path:
    """The corpus as a SQLite memory store with the given vectors (built once, kept).

    ``matrix=None`` writes the items only (the slow part, which does not need the vectors)."""
    done, items_done = path.with_suffix(".done"), path.with_suffix(".items")
    if done.exists() and done.read_text() == model_id:
        return path
    started = time.perf_counter()
    items = corpus_texts(size)
    if not items_done.exists():
        for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), done):
            stale.unlink(missing_ok=True)
        with SQLiteStore(path) as store:
            for start in range(0, size, 5_000):
                store.add_many(items[start:start + 5_000])
        items_done.write_text(str(size))
    if matrix is None:
        return path
    with SQLiteStore(path) as store, store._write() as conn:
        conn.executemany("INSERT OR IGNORE INTO item_vectors (model_id, digest, vector) VALUES (?, ?, ?)",
                         [(model_id, text_digest(item.text), row.astype("<f4").tobytes())
                          for item, row in zip(items, matrix, strict=True)])
    done.write_text(model_id)
    print(f"(built the {size:,}-memory store in {time.perf_counter() - started:.0f} s: {path})")
    return path


def hybrid_top5(path: Path, known: KnownVectors, queries: list[str], shares: list[float]) -> dict[str, Any]:
    """Per probe share: of the exact hybrid top 5, the share the approximate hybrid top 5 keeps; the
    CPU p50 of the nearest vectors as ``retrieve`` asks for them (status and scope filters, its
    candidate pool) and of the whole ``retrieve`` (the query's vector known beforehand)."""
    scope = RunScope(purpose="build", agent="coder")
    default = vector_search.EXACT_BELOW, vector_search.PROBE_SHARE
    out: dict[str, Any] = {}

    def cpu(call: Any) -> tuple[Any, float]:
        used = time.process_time()
        answer = call()
        return answer, (time.process_time() - used) * 1000

    try:
        vector_search.EXACT_BELOW = 10**12
        with SQLiteStore(path, embedder=known) as store:
            exact = [[r.item.id for r in retrieve(store, q, scope=scope)[:5]] for q in queries]
        vector_search.EXACT_BELOW = 0
        with SQLiteStore(path, embedder=known) as store:
            store.dense_rows(queries[0], limit=1, status=MemoryStatus.PROMOTED)
            pool = max(RetrievalPolicy().candidate_pool, store.candidates)
            for rounds in range(2):  # the shares alternate, twice: a load change hits all of them
                for share in shares:
                    vector_search.PROBE_SHARE = share
                    row = out.setdefault(f"{share:.2f}", {"kept": [], "dense_cpu": [], "retrieve_cpu": []})
                    for query, want in zip(queries, exact, strict=True):
                        row["dense_cpu"].append(cpu(lambda q=query: store.dense_rows(
                            q, limit=pool, status=MemoryStatus.PROMOTED, scopes=scope.pairs(),
                            vector=known.vectors[q]))[1])
                        got, used = cpu(lambda q=query: retrieve(store, q, scope=scope))
                        row["retrieve_cpu"].append(used)
                        if want and not rounds:
                            row["kept"].append(len(set(want) & {r.item.id for r in got[:5]}) / len(want))
        for share in shares:
            row = out[f"{share:.2f}"]
            row["kept"] = statistics.mean(row["kept"])
            row["dense_cpu"] = percentile(row["dense_cpu"], 50)
            row["retrieve_cpu"] = percentile(row["retrieve_cpu"], 50)
            print(f"| {share:.2f} | {row['kept']:.3f} | {row['dense_cpu']:.2f} | {row['retrieve_cpu']:.2f} |", flush=True)
    finally:
        vector_search.EXACT_BELOW, vector_search.PROBE_SHARE = default
    return out


def hybrid_latency(path: Path, embedder: Any, queries: list[str], shares: list[float]) -> dict[str, Any]:
    """Wall and CPU ms (p50, p99) of ``retrieve``, hybrid, each query embedded afresh by the model,
    the probe shares alternating per query (a load change hits every share alike)."""
    scope = RunScope(purpose="build", agent="coder")
    default = vector_search.EXACT_BELOW, vector_search.PROBE_SHARE
    wall: dict[float, list[float]] = {share: [] for share in shares}
    cpu: dict[float, list[float]] = {share: [] for share in shares}
    try:
        vector_search.EXACT_BELOW = 0
        with SQLiteStore(path, embedder=embedder) as store:
            for n, query in enumerate(["warm up", *queries]):
                for share in shares:
                    vector_search.PROBE_SHARE = share
                    started, used = time.perf_counter(), time.process_time()
                    retrieve(store, f"{query} ({share})", scope=scope)  # a new text: embedded afresh
                    if n:
                        wall[share].append((time.perf_counter() - started) * 1000)
                        cpu[share].append((time.process_time() - used) * 1000)
    finally:
        vector_search.EXACT_BELOW, vector_search.PROBE_SHARE = default
    out = {}
    for share in shares:
        out[f"{share:.2f}"] = {"wall_p50": percentile(wall[share], 50), "wall_p99": percentile(wall[share], 99),
                               "cpu_p50": percentile(cpu[share], 50)}
        row = out[f"{share:.2f}"]
        print(f"| {share:.2f} | {row['wall_p50']:.2f} | {row['wall_p99']:.2f} | {row['cpu_p50']:.2f} |", flush=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--shares", default="0.08,0.12,0.16,0.20,0.24")
    parser.add_argument("--rescore", default="200,400")
    parser.add_argument("--dimensions", default="128,64,full",
                        help="reduced scan dimensions to compare (REDUCED_DIMENSION); full: no reduced copy")
    parser.add_argument("--hybrid", type=int, default=100)
    parser.add_argument("--latency", type=int, default=300, help="queries for the timed hybrid retrieve (0: skip)")
    parser.add_argument("--latency-store", type=Path, default=None,
                        help="time this store instead (e.g. bench_retrieval's bench-retrieval-100000-synthetic.db)")
    parser.add_argument("--cache", type=Path, default=None)
    args = parser.parse_args()
    shares = [float(s) for s in args.shares.split(",")]
    rescores = [int(s) for s in args.rescore.split(",")]
    dimensions = [None if d == "full" else int(d) for d in args.dimensions.split(",")]

    embedder = Kernel.load().embedder().inner
    cache = args.cache or default_cache_path().parent / f"bench-ivf-recall-{args.size}.npy"
    matrix = corpus_matrix(args.size, cache, embedder)
    rng = random.Random(SEED_QUERIES)
    tasks = realistic_queries(rng, args.queries)
    held_out = [item.text for item in corpus_texts(args.size + args.queries)[args.size:]]
    query_sets = {"task queries": embedded(tasks, embedder), "held-out lessons": embedded(held_out, embedder)}
    result: dict[str, Any] = {"size": args.size, "queries": args.queries, "cpu": os.cpu_count(),
                              "load_average": os.getloadavg()[0]}
    print(f"IVF against the exact scan, {args.size:,} real MiniLM vectors, {args.queries} queries per set "
          f"(recall@10 / recall@50; CPU ms p50 of a top-50 search)")
    print("| probe share | scan dimensions | re-scored | " + " | ".join(query_sets) + " | "
          + " | ".join(f"CPU ms, {n}" for n in query_sets) + " |")
    print("| ---: | ---: | ---: | " + " | ".join("---:" for _ in range(2 * len(query_sets))) + " |")
    result["recall"], result["probing"] = recall_table(matrix, query_sets, shares, rescores, dimensions)
    if args.latency:
        path = args.latency_store or memory_store(args.size, cache.parent / f"{cache.stem}-store-{args.size}.db",
                                                  matrix, str(embedder.model_id))
        queries = realistic_queries(random.Random(SEED_QUERIES + 1), args.latency)
        print()
        print(f"hybrid retrieve on {path.name}, {len(queries)} task queries each embedded afresh, the shares "
              "alternating per query: ms")
        print("| probe share | wall p50 | wall p99 | CPU p50 |")
        print("| ---: | ---: | ---: | ---: |")
        result["hybrid_latency"] = hybrid_latency(path, embedder, queries, shares)
    if args.hybrid:
        path = memory_store(args.size, cache.parent / f"{cache.stem}-store-{args.size}.db", matrix, str(embedder.model_id))
        queries = tasks[:args.hybrid]
        known = KnownVectors(embedder, queries)
        print()
        print(f"hybrid retrieve, {len(queries)} task queries: share of the exact run's top 5 kept; CPU ms p50 "
              "of the nearest vectors with retrieve's filters, and of retrieve with the query's vector known")
        print("| probe share | top 5 kept | nearest vectors CPU | retrieve CPU |")
        print("| ---: | ---: | ---: | ---: |")
        result["hybrid_top5_kept"] = hybrid_top5(path, known, queries, shares)
    result["load_average_end"] = os.getloadavg()[0]
    print(f"(load average {result['load_average']:.1f} at the start, {result['load_average_end']:.1f} at the end, "
          f"{os.cpu_count()} CPUs)")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
