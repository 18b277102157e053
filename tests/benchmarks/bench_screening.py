"""What the scan deadline costs, and how long a 1 MB text takes to get an answer.

Run: ``.venv/bin/python tests/benchmarks/bench_screening.py [--scans N] [--lessons N]``

``Kernel.scan`` runs the scanners on a worker thread and waits with a timeout (see
``purpose_agent.scan_workers``). Figures, pinned to one core:

* ``dispatch``: µs per text through ``Kernel.scan`` (one text per call) and ``Kernel.scan_many``
  (256 texts per call) with five scanners that return ``[]`` at once, against the same five hook
  functions called in a plain loop: the difference is the kernel's whole per-text overhead
  (thread hand-off, settings lookup, result checks). Wall clock and CPU time (all threads) are
  both printed: on a busy machine a thread switch waits for a core, which CPU time leaves out;
* ``hand-off``: µs per :meth:`ScanWorkers.run` of one text's five calls against the plain loop:
  the part of that overhead the worker thread adds;
* ``rules``: lessons/s through ``Kernel.scan`` and ``Kernel.scan_many`` with the five ``immune-*``
  rule scanners on the benign lessons of ``../shared/eval/benign_lessons_dev.jsonl`` (or a
  synthetic set);
* ``1 MB``: seconds until ``Kernel.scan`` answers (findings, or a ``scanner_timeout`` finding)
  for 1 MB texts built to be hard: runs of gate tokens, separators and URL-like text.

The last line is JSON: ``{"scan_overhead_us": …, "scan_overhead_cpu_us": …, "scan_many_overhead_us": …,
"handoff_overhead_us": …, "rules_lessons_per_s": …, "rules_lessons_per_s_batched": …, "one_mb_worst_s": …,
"deadline_s": …}`` (overheads are wall-clock µs per text unless named cpu).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from itertools import cycle, islice
from pathlib import Path
from typing import Any

from purpose_agent.models import ScanRequest
from purpose_agent.scan_workers import ScannerCall, ScanWorkers
from purpose_agent.testing import make_kernel, plugin

DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "eval" / "benign_lessons_dev.jsonl"
SYNTHETIC = [
    "Always run the unit tests before committing and keep functions small.",
    "Use pathlib instead of os.path for file paths; never hard-code absolute paths.",
    "When the API returns 429, back off exponentially and retry at most three times.",
]
MB = 1_000_000
ONE_MB_TEXTS = {
    "system: + newlines": "system:\n" * (MB // 8),
    "URL-like run": ("http://a.b/" + "x/" * 40 + " ") * (MB // 92),
    "ignore + spaces": "ignore " * (MB // 7),
    "one letter": "a" * MB,
    "prose": ("Run the unit tests before committing; keep functions small and names clear. ") * (MB // 78),
}


def per_call_us(count: int, call: Callable[[], Any], texts_per_call: int = 1) -> tuple[float, float]:
    """Wall-clock and CPU µs per text over ``count`` calls of ``call``."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        call()
    per = count * texts_per_call
    return (time.perf_counter() - wall) / per * 1e6, (time.process_time() - cpu) / per * 1e6


def best(repeats: int, run: Callable[[], tuple[float, float]]) -> tuple[float, float]:
    """The smallest wall-clock and the smallest CPU figure of ``repeats`` runs."""
    runs = [run() for _ in range(repeats)]
    return min(r[0] for r in runs), min(r[1] for r in runs)


def lessons(count: int, data: Path) -> list[str]:
    if data.exists():
        texts = [json.loads(line)["text"] for line in data.read_text(encoding="utf-8").split("\n") if line.strip()]
    else:
        texts = SYNTHETIC
    return list(islice(cycle(texts), count))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=int, default=20_000, help="scans per dispatch timing")
    parser.add_argument("--lessons", type=int, default=5_000)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    # ---- dispatch overhead with scanners that do nothing
    def nothing(request: Any) -> list[Any]:
        return []

    kernel = make_kernel(*[plugin(f"noop-{i}", scan=nothing) for i in range(5)])
    request = ScanRequest(text="Run the unit tests before committing.")
    batch = [request] * 256
    kernel.scan(request)
    plain = best(5, lambda: per_call_us(args.scans, lambda: [nothing(request) for _ in range(5)]))
    single = best(5, lambda: per_call_us(args.scans, lambda: kernel.scan(request)))
    many = best(5, lambda: per_call_us(args.scans // 256 + 1, lambda: kernel.scan_many(batch), 256))
    workers = ScanWorkers()
    calls = [[ScannerCall(f"noop-{i}", nothing, [request]) for i in range(5)]]
    handoff = best(5, lambda: per_call_us(args.scans, lambda: workers.run(calls, 2.0, 2.0)))
    print(f"dispatch   plain loop {plain[0]:6.1f} µs | Kernel.scan {single[0]:6.1f} µs wall, {single[1]:6.1f} µs CPU"
          f" | Kernel.scan_many {many[0]:6.1f} µs wall per text (5 scanners)")
    print(f"hand-off   ScanWorkers.run {handoff[0]:6.1f} µs wall, {handoff[1]:6.1f} µs CPU per text")

    # ---- the rule tier through the kernel
    from purpose_agent_immune import plugins as immune

    rules = make_kernel(immune.injection, immune.score, immune.tools, immune.privacy, immune.scope)
    rules.scan(ScanRequest(text="warm-up"))  # first calls compile the rules (warm-up allowance)
    texts = lessons(args.lessons, args.data)
    requests = [ScanRequest(text=t) for t in texts]

    def rules_pass() -> float:
        started = time.perf_counter()
        for item in requests:
            rules.scan(item)
        return time.perf_counter() - started

    def rules_batched() -> float:
        started = time.perf_counter()
        for at in range(0, len(requests), 256):
            rules.scan_many(requests[at : at + 256])
        return time.perf_counter() - started

    seconds = min(rules_pass() for _ in range(3))
    batched = min(rules_batched() for _ in range(3))
    print(f"rules      {len(texts)} lessons: Kernel.scan {len(texts) / seconds:,.0f} lessons/s, "
          f"Kernel.scan_many {len(texts) / batched:,.0f} lessons/s (best of 3; mean "
          f"{statistics.fmean(map(len, texts)):.0f} chars)")

    # ---- 1 MB inputs: an answer within about a second plus the deadline
    deadline = rules.config.scan_timeout_s
    worst = 0.0
    for label, text in ONE_MB_TEXTS.items():
        started = time.perf_counter()
        findings = rules.scan(ScanRequest(text=text, source="document"))
        elapsed = time.perf_counter() - started
        worst = max(worst, elapsed)
        kinds = sorted({f.category for f in findings})
        print(f"1 MB       {label:<20} {elapsed:6.2f} s  {', '.join(kinds) or 'no findings'}")
        # a timed-out scanner keeps its worker busy; let it finish before the next text
        while any(rules._scan_workers.busy_for(s) is not None for s in rules.scanners()):  # type: ignore[union-attr]
            time.sleep(0.1)
    print(json.dumps({
        "scan_overhead_us": round(single[0] - plain[0], 1),
        "scan_overhead_cpu_us": round(single[1] - plain[1], 1),
        "scan_many_overhead_us": round(many[0] - plain[0], 1),
        "handoff_overhead_us": round(handoff[0] - plain[0], 1),
        "rules_lessons_per_s": round(len(texts) / seconds),
        "rules_lessons_per_s_batched": round(len(texts) / batched),
        "one_mb_worst_s": round(worst, 2),
        "deadline_s": deadline,
    }))


if __name__ == "__main__":
    main()
