"""Insert and retrieval costs of the SQLite memory store at 10,000 and 100,000 items.

    .venv/bin/python tests/benchmarks/bench_memory_store.py [--sizes 10000,100000] [--queries 300]

Items are lesson-like texts generated deterministically (fixed seed) from templates and a
vocabulary of programming topics, spread over the seven kinds, five statuses and four scope
levels. For each size, in a fresh database file:

* bulk insert throughput (``add_many``, batches of 1,000) and single-transaction ``add``
  throughput (1,000 items, one commit each);
* file size per 1,000 items after a WAL checkpoint;
* latency of ``store.search`` (BM25, top 10) and of the full ``memory.retrieval.retrieve`` (50
  candidates, scope, usefulness, budget) for lesson-like queries: p50 and p99;
* the same searches timed next to FTS5's own ``bm25()`` ranking of every match (the previous
  implementation and the reference), as ratios, and the recall of ``search`` against it.

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

from purpose_agent.memory.retrieval import RetrievalPolicy, RunScope, retrieve
from purpose_agent.models import Counters, MemoryItem, MemoryKind, MemoryStatus, Provenance, Scope
from purpose_agent_sqlite.store import SQLiteStore, query_terms

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


def lesson(rng: random.Random, n: int, corpus: str = "templates") -> MemoryItem:
    if corpus == "realistic":
        text = realistic_text(rng)
    else:
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


# A second corpus with a realistic vocabulary: lessons name concrete things (a library, a file,
# a function, an error), so most words are rare and a few are common (Zipf-like choice), unlike
# the template corpus above where every query word is in 2-50% of the items.
NOUNS = sorted(set("""
request response header cookie session token socket proxy certificate handshake redirect payload endpoint
webhook schema migration index transaction deadlock cursor connection pool replica shard partition column
table query join view trigger constraint sequence snapshot backup restore archive bucket object blob upload
download stream chunk buffer pipe queue topic consumer producer broker message event handler listener callback
promise future coroutine thread process worker scheduler cron job task batch pipeline stage artifact cache key
eviction ttl lock mutex semaphore barrier counter metric gauge histogram trace span log logger formatter level
config setting flag option argument parameter variable secret vault credential password hash salt cipher nonce
signature license package wheel lockfile manifest dependency version tag branch commit rebase merge conflict
patch diff hunk review reviewer pull issue ticket release changelog docstring comment annotation decorator
generator iterator fixture mock stub spy assertion snapshot coverage benchmark profile flamegraph regression
timeout retry backoff jitter circuit breaker fallback quota limit throttle burst window sampling percentile
encoding charset unicode emoji newline whitespace delimiter quote escape regex pattern glob path directory
symlink permission owner mount volume container image layer registry cluster node pod service ingress dns
timezone calendar timestamp epoch duration interval decimal rounding currency invoice ledger balance
""".split()))
VERBS = """parse validate serialize deserialize encode decode escape sanitize normalise truncate paginate retry cache
invalidate lock release flush commit rollback migrate index compress decompress encrypt decrypt sign verify
rotate renew stream buffer batch throttle debounce schedule cancel await spawn join kill restart reload
mock patch assert snapshot profile benchmark log trace sample measure pin upgrade downgrade vendor rebase
squash bisect revert tag publish deploy provision scale drain cordon""".split()
LIBS = """requests httpx aiohttp urllib3 sqlalchemy alembic psycopg asyncpg redis celery kafka boto3 pydantic
fastapi flask django jinja2 pytest hypothesis tox nox ruff mypy black poetry pip uv docker kubectl terraform
ansible nginx gunicorn uvicorn numpy pandas polars pyarrow orjson msgpack protobuf grpc openssl cryptography
paramiko fabric click typer rich tqdm structlog sentry prometheus grafana git github gitlab""".split()
PROBLEMS = """silently drops rows | hangs forever | leaks file handles | doubles the latency | corrupts the output |
raises an opaque error | breaks on windows | fails only in ci | loses precision | returns stale data |
times out under load | deadlocks with two workers | retries a non idempotent call | logs the secret |
mixes naive and aware datetimes | reads the wrong encoding | ignores the exit status | floods the log""".split(" | ")
LESSON_TEMPLATES = [
    "When {verb}ing the {noun} with {lib}, {verb2} the {noun2} first: otherwise it {problem}.",
    "{lib} {problem} if the {noun} is not {verb2}ed; {verb} the {noun2} explicitly.",
    "Never {verb} a {noun} inside a {noun2} handler; {lib} {problem}.",
    "To {verb} {noun} data in {lib}, use {ident}() and {verb2} the {noun2}.",
    "The {noun} of {ident} {problem} when the {noun2} is empty; check it before you {verb}.",
    "Pin {lib} and {lib2}: an upgrade of the {noun} layer {problem}.",
]


def zipf(rng: random.Random, words: list[str]) -> str:
    """A word with probability proportional to 1 / rank (the list order is the rank)."""
    return rng.choices(words, _ZIPF.setdefault(len(words), [1 / (r + 1) for r in range(len(words))]))[0]


_ZIPF: dict[int, list[float]] = {}


def identifier(rng: random.Random) -> str:
    return f"{rng.choice(VERBS)}_{rng.choice(NOUNS)}"


def realistic_text(rng: random.Random) -> str:
    return rng.choice(LESSON_TEMPLATES).format(
        verb=zipf(rng, VERBS), verb2=zipf(rng, VERBS), noun=zipf(rng, NOUNS), noun2=zipf(rng, NOUNS),
        lib=zipf(rng, LIBS), lib2=zipf(rng, LIBS), problem=rng.choice(PROBLEMS), ident=identifier(rng))


def realistic_queries(rng: random.Random, count: int) -> list[str]:
    """Task-like queries: a library, one to three things and an action (uniform), sometimes an identifier."""
    out = []
    for _ in range(count):
        words = [rng.choice(LIBS), rng.choice(NOUNS), rng.choice(VERBS), *rng.sample(NOUNS, rng.randint(0, 2))]
        if rng.random() < 0.3:
            words.append(identifier(rng))
        rng.shuffle(words)
        out.append("how should I " + " ".join(words))
    return out


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


class Fts5Reference(SQLiteStore):
    """The same database ranked by FTS5's own ``bm25()`` over every match: the reference for recall."""

    def search_rows(self, query, **kwargs):  # type: ignore[no-untyped-def, override]
        return self.fts5_rows(query, **kwargs)


def recall_at(found: list[tuple[str, float]], exact: list[tuple[str, float]]) -> float:
    """Share of the exact top list found; an item tied with the exact last one counts as found.

    "Tied" is within 1e-5: FTS5 gives words in half the items or more a weight of 1e-6, which
    ``search`` leaves out when enough items match the other words (a score moves by ~2e-6).
    """
    if not exact:
        return 1.0
    last = exact[-1][1]
    ids = {i for i, _ in exact}
    return sum(1 for i, score in found if i in ids or score >= last - 1e-5) / len(exact)


def bench_size(size: int, query_count: int, workdir: Path, corpus: str = "templates") -> dict[str, float]:
    rng = random.Random(size)
    items = [lesson(rng, n, corpus) for n in range(size)]
    path = workdir / f"bench-{corpus}-{size}.db"
    store = SQLiteStore(path)
    start = time.perf_counter()
    for offset in range(0, size, 1000):
        store.add_many(items[offset:offset + 1000])
    bulk_s = time.perf_counter() - start

    singles = [lesson(rng, size + n, corpus) for n in range(1000)]
    start = time.perf_counter()
    for item in singles:
        store.add(item)
    single_s = time.perf_counter() - start

    store._conn().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    total = size + len(singles)
    bytes_per_1000 = path.stat().st_size / total * 1000

    qs = (realistic_queries if corpus == "realistic" else queries)(random.Random(7), query_count)
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
    # quality: top 10 of search and the items retrieve chooses, against the exhaustive ranking
    reference = Fts5Reference(path)
    search_recall, retrieve_recall, matches, fts5_ms, again_ms = [], [], [], [], []
    for q in qs:
        t0 = time.perf_counter()
        found = [(s.item.id, s.score) for s in store.search(q, limit=10, status=MemoryStatus.PROMOTED)]
        t1 = time.perf_counter()
        exact = [(s.item.id, s.score) for s in reference.search(q, limit=10, status=MemoryStatus.PROMOTED)]
        again_ms.append((t1 - t0) * 1000)
        fts5_ms.append((time.perf_counter() - t1) * 1000)
        search_recall.append(recall_at(found, exact))
        chosen = {r.item.id for r in retrieve(store, q, scope=scope, policy=policy, now=2e9)}
        wanted = {r.item.id for r in retrieve(reference, q, scope=scope, policy=policy, now=2e9)}
        retrieve_recall.append(len(chosen & wanted) / len(wanted) if wanted else 1.0)
        match = " OR ".join(f'"{w}"' for w in query_terms(q))
        matches.append(reference._conn().execute("SELECT count(*) FROM items_fts WHERE items_fts MATCH ?",
                                                 (match,)).fetchone()[0])
    reference.close()
    store.close()
    return {
        "items": total,
        "bulk_insert_per_s": round(size / bulk_s),
        "single_add_per_s": round(len(singles) / single_s),
        "bytes_per_1000_items": round(bytes_per_1000),
        "search_p50_ms": round(percentile(search_ms, 50), 2),
        "search_p99_ms": round(percentile(search_ms, 99), 2),
        # the same searches again, each next to FTS5's own bm25() ranking of every match (ratios hold on a busy machine)
        "fts5_bm25_search_p50_ms": round(percentile(fts5_ms, 50), 2),
        "fts5_bm25_search_p99_ms": round(percentile(fts5_ms, 99), 2),
        "search_vs_fts5_p50": round(percentile(again_ms, 50) / percentile(fts5_ms, 50), 3),
        "search_vs_fts5_p99": round(percentile(again_ms, 99) / percentile(fts5_ms, 99), 3),
        "retrieve_p50_ms": round(percentile(retrieve_ms, 50), 2),
        "retrieve_p99_ms": round(percentile(retrieve_ms, 99), 2),
        "mean_items_returned": round(statistics.mean(returned), 1),
        "search_recall_at_10": round(statistics.mean(search_recall), 4),
        "search_queries_with_full_recall": round(sum(r == 1 for r in search_recall) / len(qs), 3),
        "retrieve_agreement": round(statistics.mean(retrieve_recall), 4),
        "median_share_of_items_matching_any_word": round(percentile(matches, 50) / total, 4),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--corpus", choices=["templates", "realistic"], default="templates",
                        help="templates: small vocabulary, every word common (the hard case); realistic: "
                             "Zipf-like choice from a larger programming vocabulary")
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            results[str(size)] = r = bench_size(size, args.queries, Path(tmp), args.corpus)
            print(f"{size:>7} items: bulk {r['bulk_insert_per_s']:,}/s, single add {r['single_add_per_s']:,}/s, "
                  f"{r['bytes_per_1000_items'] / 1024:.0f} KiB per 1,000 items; search p50 {r['search_p50_ms']} ms "
                  f"p99 {r['search_p99_ms']} ms (FTS5 bm25() alongside: p50 {r['fts5_bm25_search_p50_ms']} ms, p99 "
                  f"{r['fts5_bm25_search_p99_ms']} ms; ratios {r['search_vs_fts5_p50']} / {r['search_vs_fts5_p99']}); retrieve p50 {r['retrieve_p50_ms']} ms p99 {r['retrieve_p99_ms']} ms "
                  f"({r['mean_items_returned']} items returned on average); recall@10 of search against the exhaustive "
                  f"BM25 ranking {r['search_recall_at_10']} ({r['search_queries_with_full_recall']:.0%} of queries "
                  f"complete), retrieve agreement {r['retrieve_agreement']}; a query matches "
                  f"{r['median_share_of_items_matching_any_word']:.1%} of items (median)", flush=True)
    largest = results[max(results, key=int)]
    ok = largest["retrieve_p50_ms"] <= 5 and largest["retrieve_p99_ms"] <= 20
    print(f"targets at {max(results, key=int)} items (retrieve p50 <= 5 ms, p99 <= 20 ms): {'met' if ok else 'MISSED'}; "
          f"total {time.perf_counter() - started:.0f} s")
    print(json.dumps({"sizes": results, "targets_met": ok}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
