"""Throughput of the five immune scanners on one core: 10,000 lessons.

Run: ``.venv/bin/python tests/benchmarks/bench_immune.py [--lessons N] [--data FILE.jsonl]``

Lessons are the benign agent rules of ``../shared/eval/benign_lessons_dev.jsonl`` (cycled to N),
or a built-in synthetic set when that file is absent. Three figures:

* ``direct``: each scanner module's ``SCANNER.scan`` called as a plain function (building the
  ``ScanRequest`` inside the timed loop, which the kernel runs below do not);
* ``kernel``: ``Kernel.scan(ScanRequest(...))`` on a kernel built from the five plugins
  (the path memory CI and ``immune eval`` use, with per-plugin dispatch and fail-closed checks);
* ``installed``: the same through ``Kernel.load()`` (entry points, layered config), when the
  distribution is installed.

The last line is JSON with the kernel-path figure: ``{"lessons": …, "seconds": …, "lessons_per_s": …}``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from itertools import cycle, islice
from pathlib import Path

from purpose_agent.models import ScanRequest
from purpose_agent.testing import make_kernel
from purpose_agent_immune import injection, plugins, privacy, scope, score, tools

MODULES = (injection, score, tools, privacy, scope)
PLUGINS = (plugins.injection, plugins.score, plugins.tools, plugins.privacy, plugins.scope)
IDS = ("immune-injection", "immune-score", "immune-tools", "immune-privacy", "immune-scope")
DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "eval" / "benign_lessons_dev.jsonl"
SYNTHETIC = [
    "Always run the unit tests before committing and keep functions small.",
    "Use pathlib instead of os.path for file paths; never hard-code absolute paths.",
    "When the API returns 429, back off exponentially and retry at most three times.",
    "Prefer composition over inheritance in the service layer.",
    "Ignore generated files under build/ when searching the repository.",
]


def lessons(count: int, data: Path) -> list[str]:
    """``count`` lesson texts, cycling through the data file (or the synthetic set)."""
    if data.exists():
        texts = [json.loads(line)["text"] for line in data.read_text(encoding="utf-8").splitlines() if line.strip()]
    else:
        texts = SYNTHETIC
    return list(islice(cycle(texts), count))


def timed(label: str, texts: list[str], scan_one) -> float:
    """Run ``scan_one`` over every text; print and return the seconds taken."""
    started = time.perf_counter()
    flagged = 0
    for text in texts:
        flagged += bool(scan_one(text))
    seconds = time.perf_counter() - started
    print(
        f"{label:<10} {len(texts):>6} lessons  {seconds:6.3f} s  {len(texts) / seconds:>9,.0f} lessons/s  ({flagged} with findings)"
    )
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lessons", type=int, default=10_000)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the target says
    texts = lessons(args.lessons, args.data)
    print(
        f"data: {args.data if args.data.exists() else 'synthetic'}; mean length {sum(map(len, texts)) / len(texts):.0f} chars"
    )

    kernel = make_kernel(*PLUGINS)
    assert sorted(kernel.scanners()) == sorted(IDS), kernel.scanners()
    kernel.scan(ScanRequest(text="warm-up"))
    requests = [ScanRequest(text=t) for t in texts]  # building requests is the caller's cost

    def direct(text: str) -> list:
        request = ScanRequest(text=text)
        return [f for module in MODULES for f in module.SCANNER.scan(request, None, None)]

    timed("direct", texts, direct)
    iterator = iter(requests)
    kernel_seconds = timed("kernel", texts, lambda _t: kernel.scan(next(iterator)))
    try:
        from purpose_agent.kernel import Kernel

        installed = Kernel.load(overrides={}, environ={"PURPOSE_AGENT_PLUGINS": ",".join(IDS)})
        if sorted(installed.scanners()) == sorted(IDS):
            iterator = iter(requests)
            timed("installed", texts, lambda _t: installed.scan(next(iterator)))
    except Exception as exc:  # the installed path is informative only
        print(f"installed: skipped ({type(exc).__name__}: {exc})")
    print(
        json.dumps(
            {
                "lessons": len(texts),
                "seconds": round(kernel_seconds, 3),
                "lessons_per_s": round(len(texts) / kernel_seconds),
            }
        )
    )


if __name__ == "__main__":
    main()
