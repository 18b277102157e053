"""Import cost of a provider plugin in a fresh interpreter vs ``import openai`` (target ≤ 1/5).

Each import runs in a new ``python -c`` process; the cost is its median wall time minus the
median of ``python -c pass``. Prints a table, and JSON on the last line.
Run: .venv/bin/python tests/benchmarks/bench_provider_import.py
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time

RUNS = 15
CASES = {
    "baseline (pass)": "pass",
    "purpose_agent_groq": "import purpose_agent_groq",
    "purpose_agent_anthropic": "import purpose_agent_anthropic",
    "purpose_agent_ollama": "import purpose_agent_ollama",
    "purpose_agent_llamacpp": "import purpose_agent_llamacpp",
    "openai": "import openai",
}


def run(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


def main() -> int:
    samples: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(RUNS):  # interleaved, so background load affects every case alike
        for name, code in CASES.items():
            samples[name].append(run(code))
    medians = {name: statistics.median(v) * 1000 for name, v in samples.items()}
    base = medians["baseline (pass)"]
    print(f"{'import':28} {'median ms':>10} {'minus baseline':>15}  (n={RUNS})")
    for name, value in medians.items():
        print(f"{name:28} {value:10.1f} {value - base:15.1f}")
    openai_cost = medians["openai"] - base
    plugin_cost = max(medians[n] - base for n in CASES if n.startswith("purpose_agent_"))
    print(json.dumps({
        "baseline_ms": round(base, 1),
        "worst_plugin_import_ms": round(plugin_cost, 1),
        "openai_import_ms": round(openai_cost, 1),
        "ratio": round(plugin_cost / openai_cost, 3),
        "target": "ratio <= 0.2",
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
