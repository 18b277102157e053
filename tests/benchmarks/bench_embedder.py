"""Embedding throughput and latency of the ``minilm`` embedder, numpy and ONNX Runtime side by side,
and of ``minilm-int8`` (the same model with 8-bit dense layers, ONNX Runtime).

Run: ``.venv/bin/python tests/benchmarks/bench_embedder.py [--texts N] [--rounds R] [--data FILE.jsonl]``

Texts are the 40-500 character lines of ``../shared/eval/benign_lessons_dev.jsonl`` (N distinct
ones spread evenly over the file), or generated lesson-like sentences when that file is absent;
the 256-piece texts are those lines joined until they fill the model's input. Each thread
configuration runs in a fresh process, so BLAS threads are set before numpy loads:

* ``1 thread``: ``OPENBLAS_NUM_THREADS=1`` (and OMP/MKL), the process pinned to one core, and
  the plugin's ``threads = 1`` (its default: one BLAS thread for numpy, one intra-op thread for
  ONNX Runtime);
* ``all threads``: numpy's default thread count, no pinning, ``threads`` = the CPU count.

In each process the three (numpy, onnx, onnx-int8) are loaded, then measured in alternation, R
rounds, so a burst of load from other work on a shared machine hits them alike; each figure is the round with the
median throughput. Uncached (``MiniLMEmbedder.embed`` directly): one lesson per call, the 32
longest one per call, 32 per call, and 256-piece texts one per call (texts/s, texts per
CPU-second, p50/p99 ms per text; for 32 per call a text's latency is its call's time). Then,
with the default backend through ``kernel.embedder()`` and a fresh cache file: 32 per call
filling the cache, and 1 and 32 per call again served from it.

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
from typing import Any

DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "eval" / "benign_lessons_dev.jsonl"
BACKENDS = ("numpy", "onnx")
#: The embedders measured: the two float32 backends and the 8-bit model (``precision="int8"``).
VARIANTS = (*BACKENDS, "onnx-int8")
WORKLOADS = {
    "batch1": "one lesson per call",
    "batch1_longest32": "the 32 longest lessons, one per call",
    "batch32": "32 lessons per call",
    "batch1_256_pieces": "texts of 256 word pieces, one per call",
}
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


def long_texts(count: int, data: Path, tokenizer: Any) -> list[str]:
    """``count`` texts that each fill the model's whole input (256 word pieces), made of lesson lines."""
    from purpose_agent_minilm.embedder import MAX_TOKENS

    lines = lesson_texts(max(count * 20, 64), data)
    texts: list[str] = []
    i = 0
    while len(texts) < count:
        parts: list[str] = []
        while len(tokenizer.encode(" ".join(parts)).ids) < MAX_TOKENS:
            parts.append(lines[i % len(lines)])
            i += 1
        texts.append(" ".join(parts))
    return texts


def measure(count: int, rounds: int, data: Path, threads: int) -> dict[str, object]:
    """All figures for this process's thread setting: both backends, alternating, ``rounds`` times."""
    import purpose_agent_minilm
    from purpose_agent.testing import make_kernel
    from purpose_agent_minilm.embedder import MiniLMEmbedder, tokenizer_for

    texts = lesson_texts(count, data)
    embedders = {backend: MiniLMEmbedder(threads=threads, backend=backend) for backend in BACKENDS}
    embedders["onnx-int8"] = MiniLMEmbedder(threads=threads, backend="onnx", precision="int8")
    result: dict[str, Any] = {}
    for backend, embedder in embedders.items():
        started = time.perf_counter()
        embedder.embed(["warm up"])
        result[backend] = {"load_s": round(time.perf_counter() - started, 2)}
    tokenizer = tokenizer_for(embedders["numpy"].archive)
    long = long_texts(16, data, tokenizer)
    tokens = [len(e.ids) for e in tokenizer.encode_batch(texts)]
    workloads = {
        "batch1": (texts, 1),
        "batch1_longest32": (sorted(texts, key=len)[-32:], 1),
        "batch32": (texts, 32),
        "batch1_256_pieces": (long, 1),
    }
    runs: dict[tuple[str, str], list[dict[str, float]]] = {}
    for _ in range(rounds):
        for workload, (chunk, batch) in workloads.items():
            for backend, embedder in embedders.items():
                runs.setdefault((backend, workload), []).append(run_batches(embedder.embed, chunk, batch))
    for (backend, workload), measured in runs.items():
        middle = sorted(measured, key=lambda row: row["texts_per_cpu_s"])[len(measured) // 2]
        result[backend][workload] = middle
    result["onnx_over_numpy"] = {
        workload: {
            "wall": round(result["onnx"][workload]["texts_per_s"] / result["numpy"][workload]["texts_per_s"], 2),
            "cpu": round(result["onnx"][workload]["texts_per_cpu_s"] / result["numpy"][workload]["texts_per_cpu_s"], 2),
        }
        for workload in workloads
    }
    result["int8_over_onnx"] = {
        workload: {
            "wall": round(result["onnx-int8"][workload]["texts_per_s"] / result["onnx"][workload]["texts_per_s"], 2),
            "cpu": round(
                result["onnx-int8"][workload]["texts_per_cpu_s"] / result["onnx"][workload]["texts_per_cpu_s"], 2
            ),
        }
        for workload in workloads
    }
    # How far the 8-bit vectors are from the float32 ones (cosine per text).
    cosines = (embedders["onnx-int8"].embed(texts) * embedders["onnx"].embed(texts)).sum(axis=1)
    result["int8_cosine_to_float32"] = {"min": round(float(cosines.min()), 4), "mean": round(float(cosines.mean()), 4)}
    result["texts"] = {
        "lessons": len(texts),
        "mean_chars": round(sum(map(len, texts)) / len(texts)),
        "mean_tokens": round(sum(tokens) / len(tokens), 1),
        "longest32_min_chars": len(sorted(texts, key=len)[-32]),
        "texts_of_256_pieces": len(long),
        "rounds": rounds,
    }
    with tempfile.TemporaryDirectory() as directory:
        config = {
            "runtime": {"embedding_cache": str(Path(directory) / "vectors.sqlite")},
            "plugins": {"minilm": {"threads": threads}},
        }
        cached = make_kernel({"minilm": purpose_agent_minilm}, config=config).embedder()
        kernel: dict[str, Any] = {"backend": cached.inner.backend}
        kernel["filling_cache_batch32"] = run_batches(cached.embed, texts, 32)
        kernel["cached_batch1"] = run_batches(cached.embed, texts, 1)
        kernel["cached_batch32"] = run_batches(cached.embed, texts, 32)
        assert cached.misses == len(texts) and cached.hits == 2 * len(texts), (cached.misses, cached.hits)
        result["through_kernel"] = kernel
    return result


def child(args: argparse.Namespace) -> None:
    if args.one_thread and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    print(json.dumps(measure(args.texts, args.rounds, args.data, 1 if args.one_thread else os.cpu_count() or 1)))


def row(name: str, figures: dict[str, float]) -> str:
    return (
        f"{name:<10} {figures['texts_per_s']:>8,.1f} texts/s ({figures['texts_per_cpu_s']:>8,.1f} per CPU-s)"
        f"  p50 {figures['p50_ms']:>7.2f} ms  p99 {figures['p99_ms']:>7.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=320)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per backend (the median is shown)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--only-one-thread", action="store_true", help="skip the all-threads configuration")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--one-thread", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    load = " ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    where = args.data if args.data.exists() else "generated"
    print(f"data: {where}; {args.texts} texts; {args.rounds} rounds; {os.cpu_count()} CPUs; load average {load}")
    figures: dict[str, object] = {}
    labels = (("1 thread", True),) if args.only_one_thread else (("1 thread", True), ("all threads", False))
    for label, one_thread in labels:
        env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
        if one_thread:
            env.update(dict.fromkeys(THREAD_VARIABLES, "1"))
        command = [sys.executable, __file__, "--child", "--texts", str(args.texts), "--rounds", str(args.rounds)]
        output = subprocess.run(
            [*command, "--data", str(args.data), *(["--one-thread"] if one_thread else [])],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        result = json.loads(output.strip().splitlines()[-1])
        figures[label] = result
        about = result["texts"]
        print(
            f"== {label}: load numpy {result['numpy']['load_s']} s, onnx {result['onnx']['load_s']} s, onnx-int8 "
            f"{result['onnx-int8']['load_s']} s; lessons of "
            f"{about['mean_chars']} chars, {about['mean_tokens']} word pieces on average; the longest 32 have "
            f"{about['longest32_min_chars']}+ chars"
        )
        for workload, title in WORKLOADS.items():
            ratio, int8 = result["onnx_over_numpy"][workload], result["int8_over_onnx"][workload]
            print(
                f"  {title}: onnx/numpy {ratio['wall']:.2f}x wall, {ratio['cpu']:.2f}x per CPU-s; "
                f"int8/onnx {int8['wall']:.2f}x wall, {int8['cpu']:.2f}x per CPU-s"
            )
            for variant in VARIANTS:
                print("    " + row(variant, result[variant][workload]))
        closeness = result["int8_cosine_to_float32"]
        print(f"  int8 vectors against float32: cosine min {closeness['min']}, mean {closeness['mean']}")
        kernel = result["through_kernel"]
        print(f"  through kernel.embedder() ({kernel['backend']}, vector cache):")
        for key in ("filling_cache_batch32", "cached_batch1", "cached_batch32"):
            print("    " + row(key.removesuffix("_batch32").removesuffix("_batch1"), kernel[key]) + f"  [{key}]")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
