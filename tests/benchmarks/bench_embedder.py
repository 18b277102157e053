"""Embedding throughput and latency of the ``minilm`` embedder on lesson-sized texts.

Run: ``.venv/bin/python tests/benchmarks/bench_embedder.py [--texts N] [--data FILE.jsonl]``

Texts are the 40-500 character lines of ``../shared/eval/benign_lessons_dev.jsonl`` (N distinct
ones spread evenly over the file), or generated lesson-like sentences when that file is absent. Each
configuration runs in a fresh process, so BLAS threads are set before numpy loads:

* ``1 thread``: ``OPENBLAS_NUM_THREADS=1`` (and OMP/MKL), the process pinned to one core, and
  the plugin's ``threads = 1`` (its default);
* ``all threads``: numpy's default thread count, no pinning, ``threads`` = the CPU count.

For each: load time (weights + tokenizer, first call), then batch 1 and batch 32 uncached
(``MiniLMEmbedder.embed`` directly: texts/s, p50/p99 ms per text; for batch 32 a text's
latency is its batch's time), then through ``kernel.embedder()`` with a fresh cache file:
batch 32 filling the cache, and batch 1 and batch 32 again served from it.

The last line is JSON: the figures of every configuration.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "eval" / "benign_lessons_dev.jsonl"
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
SUBJECTS = ["the build", "a failing test", "the API client", "the lock file", "a migration", "the release"]
ADVICE = [
    "pin every dependency version so installs are reproducible",
    "read the first failing assertion before changing code",
    "retry with exponential backoff when the server answers 429",
    "keep functions short and give them names that say what they return",
    "never log secrets; read them from environment variables",
]


def lesson_texts(count: int, data: Path) -> list[str]:
    """``count`` distinct texts of 40-500 characters spread evenly over ``data``, or generated ones."""
    texts: list[str] = []
    if data.exists():
        rows = (json.loads(line)["text"] for line in data.read_text(encoding="utf-8").split("\n") if line.strip())
        eligible = list(dict.fromkeys(t for t in rows if 40 <= len(t) <= 500))
        if len(eligible) >= count:
            return [eligible[i * len(eligible) // count] for i in range(count)]
        texts = eligible
    i = 0
    while len(texts) < count:  # generated: lengths spread over the same range
        parts = [f"For {SUBJECTS[i % len(SUBJECTS)]}, {ADVICE[(i + k) % len(ADVICE)]}." for k in range(1 + i % 6)]
        texts.append(f"Lesson {i}: " + " ".join(parts)[:480])
        i += 1
    return texts


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def run_batches(embed, texts: list[str], batch: int) -> dict[str, float]:
    """Embed ``texts`` in batches; texts/s and per-text latency (its batch's time) p50/p99 in ms.

    Also texts per CPU-second of this process: on a shared machine the wall-clock figures
    include time spent waiting for a core, the CPU figure does not (with one thread it is what
    one idle core would do, give or take cache contention).
    """
    latencies: list[float] = []
    cpu_started = time.process_time()
    started = time.perf_counter()
    for start in range(0, len(texts), batch):
        chunk = texts[start : start + batch]
        t0 = time.perf_counter()
        embed(chunk)
        latencies += [(time.perf_counter() - t0) * 1000] * len(chunk)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    return {
        "texts_per_s": round(len(texts) / seconds, 1),
        "texts_per_cpu_s": round(len(texts) / max(cpu_seconds, 1e-9), 1),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
    }


def measure(count: int, data: Path, threads: int) -> dict[str, object]:
    """All figures for this process's thread setting."""
    import purpose_agent_minilm
    from purpose_agent.testing import make_kernel
    from purpose_agent_minilm.embedder import MiniLMEmbedder, _runtime

    texts = lesson_texts(count, data)
    embedder = MiniLMEmbedder(threads=threads)
    started = time.perf_counter()
    embedder.embed(["warm up"])
    load_s = time.perf_counter() - started
    tokenizer, _ = _runtime(embedder.archive)
    tokens = [len(e.ids) for e in tokenizer.encode_batch(texts)]
    result: dict[str, object] = {
        "texts": len(texts),
        "mean_chars": round(sum(map(len, texts)) / len(texts)),
        "mean_tokens": round(sum(tokens) / len(tokens), 1),
        "load_s": round(load_s, 2),
        "uncached_batch1": run_batches(embedder.embed, texts, 1),
        "uncached_batch32": run_batches(embedder.embed, texts, 32),
        # the long end of lesson sizes, where the per-lesson latency target is hardest to meet
        "uncached_batch1_longest32": run_batches(embedder.embed, sorted(texts, key=len)[-32:], 1),
    }
    with tempfile.TemporaryDirectory() as directory:
        config = {
            "runtime": {"embedding_cache": str(Path(directory) / "vectors.sqlite")},
            "plugins": {"minilm": {"threads": threads}},
        }
        cached = make_kernel({"minilm": purpose_agent_minilm}, config=config).embedder()
        result["filling_cache_batch32"] = run_batches(cached.embed, texts, 32)
        result["cached_batch1"] = run_batches(cached.embed, texts, 1)
        result["cached_batch32"] = run_batches(cached.embed, texts, 32)
        assert cached.misses == len(texts) and cached.hits == 2 * len(texts), (cached.misses, cached.hits)
    return result


def child(args: argparse.Namespace) -> None:
    if args.one_thread and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    print(json.dumps(measure(args.texts, args.data, 1 if args.one_thread else os.cpu_count() or 1)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=320)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--one-thread", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    load = " ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    where = args.data if args.data.exists() else "generated"
    print(f"data: {where}; {args.texts} texts; {os.cpu_count()} CPUs; load average {load}")
    figures: dict[str, object] = {}
    for label, one_thread in (("1 thread", True), ("all threads", False)):
        env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
        if one_thread:
            env.update(dict.fromkeys(THREAD_VARIABLES, "1"))
        command = [sys.executable, __file__, "--child", "--texts", str(args.texts), "--data", str(args.data)]
        output = subprocess.run(
            command + (["--one-thread"] if one_thread else []), env=env, capture_output=True, text=True, check=True
        ).stdout
        result = json.loads(output.strip().splitlines()[-1])
        figures[label] = result
        longest = min(len(t) for t in sorted(lesson_texts(args.texts, args.data), key=len)[-32:])
        print(
            f"== {label}: load {result['load_s']} s; {result['mean_chars']} chars, {result['mean_tokens']} word pieces "
            f"per text; the longest 32 have {longest}+ chars"
        )
        keys = ("uncached_batch1", "uncached_batch1_longest32", "uncached_batch32", "filling_cache_batch32")
        for key in (*keys, "cached_batch1", "cached_batch32"):
            row = result[key]
            print(
                f"  {key:<22} {row['texts_per_s']:>9,.1f} texts/s ({row['texts_per_cpu_s']:>9,.1f} per CPU-s)"
                f"   p50 {row['p50_ms']:>8.2f} ms   p99 {row['p99_ms']:>8.2f} ms"
            )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
