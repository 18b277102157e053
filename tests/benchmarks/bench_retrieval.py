"""Retrieval by meaning: quality on paraphrased lessons, and latency at 100,000 memories.

    .venv/bin/python tests/benchmarks/bench_retrieval.py [--size 100000] [--queries 300]
        [--skip-quality] [--skip-latency] [--vectors synthetic|real]

(b) **Quality.** :data:`PAIRS` holds 100 lessons, each with a task that needs it worded the way
a person would ask (written for this benchmark). The lessons go into a SQLite memory store with
2,000 distractor lessons (``bench_memory_store``'s realistic corpus), all promoted and global.
For each task: is its lesson among the top 10 of ``store.search`` and of the full
``memory.retrieval.retrieve`` (k = 10, the default policy), searching by words only (BM25)
and hybrid (BM25 + all-MiniLM-L6-v2, fused by reciprocal rank)? Also the mean reciprocal rank,
a sweep of the cosine floor (``min_similarity``: share found against how many items an
unrelated task drags in), and of the fusion constant ``RRF_K`` (``SearchIndex(rrf_k=...)``).

(c) **Latency.** A store of ``--size`` lesson-like memories (the realistic corpus: five statuses,
four scope levels); ``retrieve`` for task-like queries, each query embedded afresh (no vector
cache), timed end to end: BM25, the query's embedding, the nearest vectors among the allowed
items, fusion and the retrieval policy. Exact (numpy) against approximate (the inverted file of ``vector_search``)
nearest vectors, and the parts alone; then the parts' CPU times per query summed as two idle
cores would run them (the embedding beside the BM25 part), and the whole again through the
kernel's vector cache with queries it has never seen (a run's path: look up, embed, store).
Embedding 100,000 texts takes ~17 minutes on an idle core, so by
default (``--vectors synthetic``) the corpus's vectors are made from real MiniLM vectors of
2,000 of its texts (each a mix of two of them plus a little noise: clustered like real ones,
which matters for the approximate index); the query side is always the real model.
``--vectors real`` embeds every text (cached in the kernel's vector cache, so only once). The
built store is kept in ``$XDG_CACHE_HOME/purpose-agent/bench-retrieval-<size>-<vectors>.db`` so
re-runs skip building it. Embedding throughput on one core closes the run.

Targets (issue 14): hybrid retrieval at 100,000 memories p50 <= 10 ms and p99 <= 40 ms
including the query's embedding. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_memory_store import lesson, percentile, realistic_queries

from purpose_agent.embedding_cache import CachedEmbedder, VectorCache, default_cache_path, text_digest
from purpose_agent.kernel import Kernel
from purpose_agent.memory.retrieval import RetrievalPolicy, RunScope, retrieve
from purpose_agent.models import MemoryItem, MemoryStatus
from purpose_agent_sqlite import vector_search
from purpose_agent_sqlite.search_index import IndexedText, SearchIndex
from purpose_agent_sqlite.store import SQLiteStore

#: (lesson, a task that needs it, worded differently). Written for this benchmark; the task avoids
#: the lesson's key words where a person naturally would.
PAIRS = [
    ("Always pin dependency versions in the lockfile.", "Make installs reproducible across machines"),
    ("Retry flaky network calls with exponential backoff.", "The HTTP request to the payment API fails now and then; make it survive"),
    ("Close file handles in a finally block or use a context manager.", "The process runs out of open descriptors after a few hours"),
    ("Use parameterised SQL queries instead of string formatting.", "Stop attackers from injecting code through the search box into the database"),
    ("Normalise unicode text before comparing strings.", "Two names that look identical are reported as different"),
    ("Store timestamps in UTC and convert to local time only for display.", "Meeting times shift by an hour after daylight saving changes"),
    ("Set an explicit timeout on every outbound HTTP request.", "A worker hangs forever when the remote server stops answering"),
    ("Write the failing test before fixing a bug.", "Fix the crash reported by the customer so it never comes back"),
    ("Log the full traceback when a background job fails.", "The nightly task died and nobody can tell why"),
    ("Escape user input before rendering it in an HTML page.", "A comment containing script tags ran in other visitors' browsers"),
    ("Use Decimal, not float, for money amounts.", "Invoice totals are off by a cent sometimes"),
    ("Validate configuration at startup and fail fast with a clear message.", "The service starts fine but crashes an hour later because a setting was misspelled"),
    ("Keep secrets out of the repository; read them from the environment.", "The API key was found on GitHub by a scanner"),
    ("Paginate large result sets instead of loading everything into memory.", "The export endpoint is killed by the OOM killer for big customers"),
    ("Add an index on columns used in WHERE clauses of frequent queries.", "The orders page takes eight seconds to load"),
    ("Make retried operations idempotent with a request key.", "Customers were charged twice when the client resent the call"),
    ("Use a lock or atomic rename when several processes write the same file.", "The shared report file is sometimes half written and garbled"),
    ("Profile before optimising; measure where the time goes.", "The script is slow and I want to speed it up"),
    ("Prefer composition over deep inheritance hierarchies.", "Changing the base class keeps breaking unrelated subclasses"),
    ("Run database migrations in a transaction so a failure leaves no half-applied schema.", "The deploy broke halfway through altering tables and left the schema inconsistent"),
    ("Cache expensive results with an expiry so stale data ages out.", "The dashboard recomputes the same heavy report on every page view"),
    ("Use a virtual environment per project.", "Installing one tool's requirements broke another tool on my laptop"),
    ("Rotate credentials regularly and after anyone leaves the team.", "A former contractor might still have access to production"),
    ("Check the exit status of subprocesses.", "The build step failed but the pipeline reported success"),
    ("Quote shell variables to survive spaces in file names.", "The cleanup script deleted the wrong folder when a path had a blank in it"),
    ("Seed random number generators in tests.", "The test passes locally but fails at random in CI"),
    ("Use constant-time comparison for tokens and signatures.", "An attacker could guess the webhook secret by timing responses"),
    ("Hash passwords with a slow salted algorithm such as bcrypt or argon2.", "How should user credentials be kept in the accounts table"),
    ("Limit request rates per client to protect the service.", "One customer's script floods the API and slows everyone down"),
    ("Return helpful error messages that say what to do next.", "Users keep filing tickets because they cannot understand what went wrong"),
    ("Write docstrings that explain why, not what.", "New team members cannot understand the reasoning behind odd code"),
    ("Keep functions small with one responsibility each.", "This 400 line routine is impossible to review"),
    ("Use feature flags to release risky changes gradually.", "Ship the new checkout to a few users first and roll back quickly if needed"),
    ("Back up the database and test restoring it.", "Make sure we can recover if the disk dies"),
    ("Monitor disk space and alert before it fills up.", "The server stopped writing logs because the volume was full"),
    ("Use structured logging with consistent fields.", "Searching the logs for one customer's requests is painful"),
    ("Add health checks so the orchestrator restarts stuck containers.", "A container stays up but no longer serves traffic"),
    ("Set resource limits on containers.", "One service ate all the memory on the node and others were evicted"),
    ("Tag releases and keep a changelog.", "Nobody knows which version is running in production or what changed"),
    ("Squash fixup commits before merging.", "The history is full of 'oops' and 'typo' entries"),
    ("Rebase feature branches on main regularly to avoid big conflicts.", "Merging my month-old branch produced hundreds of conflicts"),
    ("Review small pull requests; split large ones.", "Reviewers approve huge changes without reading them"),
    ("Run the linter and type checker in CI.", "Style problems and wrong argument types keep reaching the main branch"),
    ("Mock external services in unit tests.", "The tests fail whenever the third-party API is down"),
    ("Use fixtures for shared test setup.", "Every test repeats the same twenty lines to build a user and an order"),
    ("Test the edge cases: empty input, one element, and huge input.", "The function crashed when given an empty list"),
    ("Measure test coverage but do not chase 100 percent.", "Management wants every line executed by tests"),
    ("Prefer the standard library before adding a dependency.", "Should we add a package just to parse command line options"),
    ("Read the file in chunks when it may be larger than memory.", "Processing the 40 GB log crashes the machine"),
    ("Use generators to stream large sequences lazily.", "Building the full list of rows uses gigabytes of RAM"),
    ("Avoid mutable default arguments in Python functions.", "Items from a previous call show up in the next call's result list"),
    ("Use pathlib for file paths instead of string concatenation.", "Paths break on Windows because of slashes"),
    ("Specify the text encoding when opening files.", "The CSV import garbles accented characters on some machines"),
    ("Use async I/O for many concurrent network calls.", "Fetching ten thousand URLs one after another takes hours"),
    ("Do not block the event loop with CPU-heavy work; run it in an executor.", "The async web server freezes while generating a PDF"),
    ("Set a maximum size on queues to apply backpressure.", "The producer fills memory faster than the consumer can keep up"),
    ("Use a connection pool for database access.", "Opening a new database connection per request is slow and hits the server limit"),
    ("Close database transactions quickly; never wait for user input inside one.", "Rows stay locked while a clerk is on a coffee break"),
    ("Use optimistic locking with a version column for concurrent edits.", "Two admins editing the same record overwrite each other's changes"),
    ("Validate and sanitise uploaded file names and types.", "Someone uploaded a file called ../../etc/passwd"),
    ("Serve everything over TLS and redirect plain HTTP.", "Browsers warn users that the login page is not secure"),
    ("Renew certificates automatically before they expire.", "The site went down on Sunday because the certificate lapsed"),
    ("Apply the principle of least privilege to service accounts.", "The reporting job can delete production tables, which it never needs"),
    ("Keep an audit log of administrative actions.", "We cannot tell who changed the refund limit last week"),
    ("Define service level objectives and alert on them, not on every spike.", "The on-call engineer gets paged dozens of times a night for nothing"),
    ("Write a runbook for each alert.", "The person on call did not know what to do when the queue alarm fired"),
    ("Hold blameless postmortems after incidents.", "After the outage people were afraid to admit what happened"),
    ("Deploy with blue-green or canary releases to limit the blast radius.", "Every deploy risks taking the whole site down at once"),
    ("Make builds deterministic so the same source gives the same artifact.", "Two builds of the same commit produce different binaries"),
    ("Cache dependencies in CI to speed up builds.", "Every pipeline run spends five minutes downloading the same packages"),
    ("Run tests in parallel when they are independent.", "The test suite takes forty minutes on one core"),
    ("Keep the README's quick start working and tested.", "New contributors cannot get the project running from the instructions"),
    ("Version your public API and deprecate before removing.", "A change to the endpoint broke every mobile app in the field"),
    ("Document breaking changes prominently in release notes.", "Customers were surprised that the upgrade changed behaviour"),
    ("Use semantic versioning for libraries.", "Users cannot tell from the number whether an upgrade is safe"),
    ("Validate JSON input against a schema at the boundary.", "Malformed payloads cause confusing errors deep inside the service"),
    ("Use enums instead of magic strings for fixed sets of values.", "A typo in a status string silently created a new state"),
    ("Avoid catching broad exceptions and swallowing them.", "Errors vanish without a trace and the program just does nothing"),
    ("Re-raise exceptions with context instead of replacing them.", "The original cause of the failure is lost in the error report"),
    ("Use a circuit breaker around unreliable dependencies.", "When the recommendation service is down every page waits for it to time out"),
    ("Add jitter to scheduled jobs so they do not all fire at once.", "All clients hit the server at exactly midnight"),
    ("Compress large responses.", "Downloading the report over the mobile network takes too long"),
    ("Use a CDN for static assets.", "Images load slowly for visitors on another continent"),
    ("Lazy-load images below the fold.", "The landing page takes too long before anything appears"),
    ("Give form fields labels for screen readers.", "Blind users cannot fill in the signup form"),
    ("Keep colour contrast high enough to read.", "Grey text on a white background is hard to see"),
    ("Confirm before destructive actions and offer undo.", "A user deleted a whole project with a single misclick"),
    ("Save drafts automatically.", "People lose long forms when the browser crashes"),
    ("Answer the customer's question before explaining policy.", "Support replies feel like lectures and customers get angrier"),
    ("Summarise long threads before escalating a ticket.", "The engineer receiving the escalation has to read sixty messages"),
    ("State the refund deadline in the first sentence of the reply.", "Customers keep asking again how long they have to send an item back"),
    ("Write commit messages that explain why the change was made.", "Six months later nobody remembers the reason for this line"),
    ("Delete dead code instead of commenting it out.", "Files are full of disabled blocks nobody dares to remove"),
    ("Keep configuration in one place with documented defaults.", "Settings are scattered over environment variables, files and code"),
    ("Use dependency injection to make components testable.", "The class creates its own database connection so it cannot be tested"),
    ("Avoid global mutable state.", "Tests interfere with each other depending on the order they run"),
    ("Use time-outs and cancellation for long running tasks.", "A stuck job keeps running for days and holds resources"),
    ("Batch database writes instead of committing row by row.", "Importing a million rows takes all night"),
    ("Sort with a stable key when order of equal items matters.", "Rows with the same date come out in a different order each run"),
    ("Prefer iterative algorithms over deep recursion in Python.", "The tree walker crashes on very deep inputs with a stack error"),
]

#: Tasks unrelated to every lesson above: how many items does each setting drag in for them?
UNRELATED = [
    "Plan a birthday party for twelve children", "Translate this poem into French",
    "What is the capital of Australia", "Suggest a vegetarian lasagne recipe",
    "Write a haiku about autumn leaves", "Explain the offside rule in football",
    "How tall is Mount Kilimanjaro", "Recommend a novel for a long train journey",
    "Choose a colour for the living room walls", "Describe how whales communicate",
]
DISTRACTORS = 2_000
SEED = 100_000  # the corpus of bench_memory_store's realistic run at 100,000 items


def corpus_texts(count: int) -> list[MemoryItem]:
    rng = random.Random(SEED)
    return [lesson(rng, n, "realistic") for n in range(count)]


def quality(embedder: Any, workdir: Path) -> dict[str, Any]:
    distractors = [item.model_copy(update={"status": MemoryStatus.PROMOTED, "scope": item.scope.model_copy(
        update={"level": "global", "value": ""})}) for item in corpus_texts(DISTRACTORS)]
    lessons = [MemoryItem(text=text, status=MemoryStatus.PROMOTED) for text, _ in PAIRS]
    out: dict[str, Any] = {}
    lexical = SQLiteStore(workdir / "quality-lexical.db")
    hybrid = SQLiteStore(workdir / "quality-hybrid.db", embedder=embedder)
    for store in (lexical, hybrid):
        store.add_many([*lessons, *distractors])
    started = time.perf_counter()
    hybrid.embed_pending()
    print(f"(embedded {len(lessons) + len(distractors)} lessons in {time.perf_counter() - started:.1f} s, "
          "cached after the first run)")
    print()
    print(f"(b) memory retrieval on {len(PAIRS)} paraphrased lessons among {DISTRACTORS:,} distractors")
    print("| search | found in search top 10 | MRR (search) | found by retrieve (k=10) | items for an unrelated task |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, store in (("lexical (BM25)", lexical), ("hybrid (BM25 + MiniLM, RRF)", hybrid)):
        found = mrr = kept = 0.0
        for (_, task), item in zip(PAIRS, lessons, strict=True):
            ranked = [s.item.id for s in store.search(task, limit=10, status=MemoryStatus.PROMOTED)]
            if item.id in ranked:
                found += 1
                mrr += 1 / (ranked.index(item.id) + 1)
            kept += item.id in [r.item.id for r in retrieve(store, task)]
        noise = statistics.mean(len(retrieve(store, task)) for task in UNRELATED)
        key = "lexical" if store is lexical else "hybrid"
        out[key] = {"found_top10": found / len(PAIRS), "mrr": mrr / len(PAIRS), "retrieved": kept / len(PAIRS),
                    "unrelated_items": noise}
        print(f"| {label} | {found / len(PAIRS):.0%} | {mrr / len(PAIRS):.2f} | {kept / len(PAIRS):.0%} | {noise:.1f} |")
    print()
    print("cosine floor (min_similarity): share found by retrieve, items an unrelated task gets")
    print("| min_similarity | found | unrelated items |")
    print("| ---: | ---: | ---: |")
    sweep = {}
    for floor in (0.1, 0.15, 0.2, 0.25, 0.3, 0.35):
        hybrid.min_similarity = floor
        kept = sum(item.id in [r.item.id for r in retrieve(hybrid, task)] for (_, task), item in zip(PAIRS, lessons, strict=True))
        noise = statistics.mean(len(retrieve(hybrid, task)) for task in UNRELATED)
        sweep[floor] = {"found": kept / len(PAIRS), "unrelated_items": noise}
        print(f"| {floor:.2f} | {kept / len(PAIRS):.0%} | {noise:.1f} |")
    out["min_similarity_sweep"] = sweep
    lexical.close()
    hybrid.close()
    print()
    print("fusion constant (SearchIndex, hybrid): found in the top 10 and MRR")
    print("| RRF_K | found | MRR |")
    print("| ---: | ---: | ---: |")
    texts = [IndexedText(item.id, item.text) for item in [*lessons, *distractors]]
    fusion = {}
    for rrf_k in (5, 20, 60, 120):
        with SearchIndex(workdir / "fusion.db", embedder=embedder, rrf_k=rrf_k) as index:
            index.upsert(texts)
            found = mrr = 0.0
            for (_, task), item in zip(PAIRS, lessons, strict=True):
                ranked = [h.id for h in index.search(task, k=10)]
                if item.id in ranked:
                    found += 1
                    mrr += 1 / (ranked.index(item.id) + 1)
        fusion[rrf_k] = {"found": found / len(PAIRS), "mrr": mrr / len(PAIRS)}
        print(f"| {rrf_k} | {found / len(PAIRS):.0%} | {mrr / len(PAIRS):.2f} |")
    out["rrf_k_sweep"] = fusion
    print()
    print("SearchIndex modes, same texts: found in the top 10 and MRR")
    print("| mode | found | MRR |")
    print("| --- | ---: | ---: |")
    with SearchIndex(workdir / "fusion.db", embedder=embedder) as index:
        for mode in ("lexical", "dense", "hybrid", "hybrid with the memory floors"):
            found = mrr = 0.0
            index.lexical_floor, index.min_similarity = (0.5, 0.25) if mode.endswith("floors") else (0.0, None)
            for (_, task), item in zip(PAIRS, lessons, strict=True):
                ranked = [h.id for h in index.search(task, k=10, mode=mode.split()[0])]
                if item.id in ranked:
                    found += 1
                    mrr += 1 / (ranked.index(item.id) + 1)
            out[f"index_{mode.replace(' ', '_')}"] = {"found": found / len(PAIRS), "mrr": mrr / len(PAIRS)}
            print(f"| {mode} | {found / len(PAIRS):.0%} | {mrr / len(PAIRS):.2f} |")
    return out


def latency_store(size: int, vectors: str, embedder: Any) -> Path:
    """The benchmark's store of ``size`` memories with vectors, built once and kept in the cache directory."""
    import numpy as np

    path = default_cache_path().parent / f"bench-retrieval-{size}-{vectors}.db"
    done = path.with_suffix(".done")
    if done.exists() and done.read_text() == embedder.model_id:
        return path
    for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), done):
        stale.unlink(missing_ok=True)
    started = time.perf_counter()
    items = corpus_texts(size)
    with SQLiteStore(path, embedder=embedder) as store:
        for start in range(0, size, 5_000):
            store.add_many(items[start:start + 5_000])
        if vectors == "real":
            store.embed_pending()
        else:
            rng = np.random.default_rng(SEED)
            bases = embedder.embed([item.text for item in items[:2_000]])
            mix = bases[rng.integers(0, len(bases), size)] + 0.35 * bases[rng.integers(0, len(bases), size)]
            mix += 0.012 * rng.standard_normal(mix.shape).astype(np.float32)
            mix /= np.linalg.norm(mix, axis=1, keepdims=True)
            with store._write() as conn:
                conn.executemany("INSERT OR IGNORE INTO item_vectors (model_id, digest, vector) VALUES (?, ?, ?)",
                                 [(embedder.model_id, text_digest(item.text), row.astype("<f4").tobytes())
                                  for item, row in zip(items, mix, strict=True)])
    done.write_text(embedder.model_id)
    print(f"(built the {size:,}-memory store in {time.perf_counter() - started:.0f} s: {path})")
    return path


def timed(call: Any, queries: list[str]) -> tuple[float, float, float]:
    """Wall-clock p50 and p99, and the p50 of CPU time (all threads of the process), in ms.

    On this shared machine the wall clock includes waiting for a core; CPU time is about what
    one uncontended core would take (less whatever ran in parallel on a second core).
    """
    times, cpu = [], []
    for query in queries:
        started, used = time.perf_counter(), time.process_time()
        call(query)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - used) * 1000)
    return percentile(times, 50), percentile(times, 99), percentile(cpu, 50)


def latency(size: int, query_count: int, vectors: str, kernel: Kernel) -> dict[str, Any]:
    cached = kernel.embedder()
    uncached = cached.inner  # the plugin's embedder itself: every query is embedded afresh
    path = latency_store(size, vectors, cached)
    rng = random.Random(7)
    queries = [f"{q} ({n})" for n, q in enumerate(realistic_queries(rng, query_count))]
    warmup = [f"{q} (warm-up {n})" for n, q in enumerate(realistic_queries(rng, 20))]
    scope = RunScope(purpose="build", agent="coder")
    out: dict[str, Any] = {}
    tops: dict[str, list[list[int]]] = {}
    print()
    print(f"(c) latency over {size:,} memories ({vectors} vectors), {query_count} queries, ms")
    print("| what | p50 | p99 | CPU p50 |")
    print("| --- | ---: | ---: | ---: |")
    with SQLiteStore(path) as lexical:
        timed(lambda q: retrieve(lexical, q, scope=scope), warmup)
        out["lexical_retrieve"] = timed(lambda q: retrieve(lexical, q, scope=scope), queries)
    timed(lambda q: uncached.embed([q]), warmup)
    out["query_embedding"] = timed(lambda q: uncached.embed([q]), queries)
    for label, exact_below in (("exact", 10**12), ("approximate", 0)):
        vector_search.EXACT_BELOW = exact_below
        with SQLiteStore(path, embedder=uncached) as store:
            started = time.perf_counter()
            store.dense_rows("warm up", limit=1, status=MemoryStatus.PROMOTED)
            load = time.perf_counter() - started
            timed(lambda q: retrieve(store, q, scope=scope), warmup)
            query_vectors = uncached.embed(queries[:100])
            vector_set = store._dense.vectors
            vectors_only = timed(lambda q, vs=vector_set, qv=query_vectors: vs.top(qv[hash(q) % len(qv)], 50), queries)
            out[f"{label}_nearest_vectors"] = vectors_only
            out[f"{label}_hybrid_retrieve"] = timed(lambda q: retrieve(store, q, scope=scope), queries)
            out[f"{label}_load_s"] = load
            tops[label] = [[seq for seq, _ in vector_set.top(v, 50)] for v in query_vectors]
            if label == "approximate":
                # the same searches with each query's vector known beforehand (a query seen before:
                # the kernel's embedder answers it from memory): everything but the embedding
                known = KnownVectors(uncached, queries)
                store._embedder = known
                out["approximate_hybrid_retrieve_vector_known"] = timed(lambda q: retrieve(store, q, scope=scope),
                                                                        queries)
                out.update(breakdown(store, uncached, known, queries, scope))
                # what a run does: the kernel's embedder, whose vector cache looks each query up and
                # stores it; a fresh cache file, so the same queries are never seen (each misses,
                # is embedded and written)
                with tempfile.TemporaryDirectory() as scratch:
                    store._embedder = CachedEmbedder(uncached, VectorCache(Path(scratch) / "cache.sqlite"))
                    out["approximate_hybrid_retrieve_through_the_vector_cache"] = timed(
                        lambda q: retrieve(store, q, scope=scope), queries)
                    store._embedder.cache.close()
                store._embedder = uncached
                out["after_write_ms"] = after_write(path, store)
    recall = None
    if len(tops) == 2:
        recall = statistics.mean(len(set(a) & set(b)) / 50 for a, b in zip(tops["exact"], tops["approximate"], strict=True))
    for key, value in out.items():
        if isinstance(value, tuple):
            p50, p99, cpu = value
            print(f"| {key.replace('_', ' ')} | {p50:.2f} | {p99:.2f} | {cpu:.2f} |")
    for key in ("exact_load_s", "approximate_load_s"):
        if key in out:
            print(f"({key.replace('_', ' ')}: {out[key]:.1f} s: reading the vectors, clustering them if approximate)")
    if recall is not None:
        out["approximate_recall_at_50"] = recall
        print(f"(approximate recall@50 against the exact scan, {len(tops['exact'])} queries: {recall:.3f})")
    if "critical_path_cpu_ms" in out:
        print("(hybrid retrieve's parts, each timed alone per query, CPU p50 ms: " + ", ".join(
            f"{part} {out[f'part_{part}_cpu_ms']:.2f}" for part in ("lexical", "embedding", "dense", "rest")) + ")")
        path_ms = out["critical_path_cpu_ms"]
        print(f"(the parts summed as two idle cores would run them, max(BM25 part, embedding) + nearest vectors "
              f"+ fusion and policy: p50 {path_ms['p50']:.2f}, p99 {path_ms['p99']:.2f} ms)")
    if "after_write_ms" in out:
        print("(first search by meaning after another connection's write, the changed rows applied: "
              + ", ".join(f"{k} {v:.0f} ms" for k, v in out["after_write_ms"].items()) + ")")
    return out


class KnownVectors:
    """An embedder that answers the given queries from vectors computed beforehand."""

    def __init__(self, embedder: Any, queries: list[str]) -> None:
        self.model_id, self.dimension = embedder.model_id, embedder.dimension
        self.vectors = dict(zip(queries, embedder.embed(queries), strict=True))

    def embed(self, texts: list[str]) -> Any:
        import numpy as np

        return np.stack([self.vectors[text] for text in texts])


def breakdown(store: SQLiteStore, embedder: Any, known: KnownVectors, queries: list[str],
              scope: RunScope) -> dict[str, Any]:
    """The hybrid retrieve's parts, each timed alone for every query (CPU ms), and what they add up to.

    ``_hybrid_rows`` embeds the query on a second thread while the BM25 part runs, then ranks the
    nearest vectors, fuses and applies the retrieval policy. On two idle cores a query therefore
    takes about max(BM25 part, embedding) + nearest vectors + the rest; the parts' CPU times,
    measured one after another for the same query, estimate that where the wall clock of a busy
    shared machine cannot.
    """
    pool = max(RetrievalPolicy().candidate_pool, store.candidates)
    pairs = scope.pairs()
    parts: dict[str, list[float]] = {"lexical": [], "embedding": [], "dense": [], "rest": []}
    critical = []
    for query in queries:
        times = {}
        for part, call in (
            ("lexical", lambda query=query: store.lexical_rows(query, limit=pool, status=MemoryStatus.PROMOTED,
                                                   scopes=pairs, with_seq=True)),
            ("embedding", lambda query=query: embedder.embed([query])),
            ("dense", lambda query=query: store.dense_rows(query, limit=pool, status=MemoryStatus.PROMOTED, scopes=pairs,
                                               vector=known.vectors[query])),
            ("whole", lambda query=query: retrieve(store, query, scope=scope)),  # the store answers with the known vector
        ):
            used = time.process_time()
            call()
            times[part] = (time.process_time() - used) * 1000
        rest = max(0.0, times["whole"] - times["lexical"] - times["dense"])
        for part in ("lexical", "embedding", "dense"):
            parts[part].append(times[part])
        parts["rest"].append(rest)
        critical.append(max(times["lexical"], times["embedding"]) + times["dense"] + rest)
    out: dict[str, Any] = {f"part_{part}_cpu_ms": statistics.median(values) for part, values in parts.items()}
    out["critical_path_cpu_ms"] = {"p50": percentile(critical, 50), "p99": percentile(critical, 99)}
    return out


def after_write(path: Path, store: SQLiteStore, rounds: int = 5) -> dict[str, float]:
    """Median ms of the first search by meaning after another connection changes one memory's text
    (the new text embedded by the searching process, as a lazily embedded write is), and after it
    changes it back (its vector is stored: nothing to embed). The kept store ends as it began."""
    changed, restored = [], []
    with SQLiteStore(path) as writer:
        for n in range(rounds):
            item = writer.list(status=MemoryStatus.PROMOTED, limit=n + 1)[n]
            writer.update(item.model_copy(update={"text": f"Bench write {n}: flush the log before copying the file."}))
            started = time.perf_counter()
            store.dense_rows("warm up", limit=1, status=MemoryStatus.PROMOTED)
            changed.append((time.perf_counter() - started) * 1000)
            writer.update(item)
            started = time.perf_counter()
            store.dense_rows("warm up", limit=1, status=MemoryStatus.PROMOTED)
            restored.append((time.perf_counter() - started) * 1000)
    return {"text changed": statistics.median(changed), "changed back": statistics.median(restored)}


def verdict(result: dict[str, Any]) -> str:
    """Issue 14's latency target against the default (approximate) hybrid retrieve."""
    p50, p99, cpu = result["approximate_hybrid_retrieve"]
    met = p50 <= 10 and p99 <= 40
    return (f"target (hybrid retrieve incl. the query's embedding, p50 <= 10 ms and p99 <= 40 ms): "
            f"{'MET' if met else 'NOT MET'} -- wall p50 {p50:.1f} ms, p99 {p99:.1f} ms, CPU p50 {cpu:.1f} ms "
            f"(CPU p50 {'within' if cpu <= 10 else 'over'} 10 ms) at load average {os.getloadavg()[0]:.1f} "
            f"on {os.cpu_count()} CPUs")


def embedding_throughput(kernel: Kernel) -> dict[str, float]:
    uncached = kernel.embedder().inner
    texts = [f"{item.text} [{n}]" for n, item in enumerate(corpus_texts(160))]
    out = {}
    for label, batch in (("one per call", 1), ("32 per call", 32)):
        started, cpu = time.perf_counter(), time.process_time()
        for start in range(0, len(texts), batch):
            uncached.embed(texts[start:start + batch])
        wall, used = time.perf_counter() - started, time.process_time() - cpu
        out[label] = len(texts) / wall
        out[f"{label} per CPU-s"] = len(texts) / used
        texts = [f"{t}!" for t in texts]  # new texts for the next round
    print()
    print("embedding throughput, one thread (texts/s; per CPU-second in brackets)")
    for label in ("one per call", "32 per call"):
        print(f"- {label}: {out[label]:.0f} ({out[label + ' per CPU-s']:.0f})")
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--vectors", choices=["synthetic", "real"], default="synthetic")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-latency", action="store_true")
    args = parser.parse_args()

    kernel = Kernel.load()
    result: dict[str, Any] = {"cpu": os.cpu_count(), "load_average": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as scratch:
        if not args.skip_quality:
            result["quality"] = quality(kernel.embedder(), Path(scratch))
    if not args.skip_latency:
        result["latency"] = latency(args.size, args.queries, args.vectors, kernel)
        result["latency"]["verdict"] = verdict(result["latency"])
        print(result["latency"]["verdict"])
        result["embedding"] = embedding_throughput(kernel)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
