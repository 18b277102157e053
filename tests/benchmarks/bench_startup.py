"""Startup and dispatch costs of the kernel, side by side with bare Python in one run.

    .venv/bin/python tests/benchmarks/bench_startup.py [--runs N]

Measures, interleaved so machine noise hits every command alike (median of N runs each):
bare `python -c pass`, `python -c "import pluggy"`, `python -c "import purpose_agent"`, and
`purpose-agent plugins list` with every plugin installed in this environment; then the hook
dispatch overhead of one agent step (six events to five observer plugins, through the kernel).
Targets: import adds <= 50 ms over bare Python; plugins list <= 200 ms median; dispatch <= 50 us
per step. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def time_command(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return (time.perf_counter() - start) * 1000


def dispatch_us_per_step(steps: int = 20000) -> float:
    from purpose_agent.models import Event
    from purpose_agent.testing import make_kernel, plugin

    sink: list[str] = []
    observers = [plugin(f"observer-{i}", on_event=lambda event: sink.append(event.type)) for i in range(5)]
    kernel = make_kernel(*observers, strict=True)
    events = [Event(type=t, run_id="r", step=0) for t in
              ("step.started", "model.called", "model.finished", "tool.called", "tool.finished", "step.finished")]
    for event in events:  # warm caches
        kernel.emit(event)
    start = time.perf_counter()
    for _ in range(steps):
        for event in events:
            kernel.emit(event)
    elapsed = time.perf_counter() - start
    assert len(sink) == (steps + 1) * len(events) * 5
    return elapsed / steps * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    python = sys.executable
    commands = {
        "python -c pass": [python, "-c", "pass"],
        "import pluggy": [python, "-c", "import pluggy"],
        "import purpose_agent": [python, "-c", "import purpose_agent"],
        "purpose-agent plugins list": [str(BIN / "purpose-agent"), "plugins", "list"],
    }
    for argv in commands.values():  # warm the file cache and .pyc files
        time_command(argv)
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, argv in commands.items():
            samples[name].append(time_command(argv))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    listed = subprocess.run([str(BIN / "purpose-agent"), "plugins", "list", "--json"], capture_output=True, text=True)
    plugin_count = len(json.loads(listed.stdout))
    print(f"{'command':32} {'median ms':>10} {'p90 ms':>8}")
    for name, values in samples.items():
        p90 = statistics.quantiles(values, n=10)[-1]
        print(f"{name:32} {medians[name]:10.1f} {p90:8.1f}")
    import_overhead = medians["import purpose_agent"] - medians["python -c pass"]
    dispatch = dispatch_us_per_step()
    print(f"\nimport purpose_agent adds {import_overhead:.1f} ms over bare Python (target <= 50)")
    print(f"plugins list with {plugin_count} plugins: {medians['purpose-agent plugins list']:.1f} ms median (target <= 200)")
    print(f"hook dispatch: {dispatch:.1f} us per step, 6 events x 5 observers (target <= 50)")
    print(json.dumps({
        "runs": args.runs,
        "python_pass_ms": round(medians["python -c pass"], 1),
        "import_pluggy_ms": round(medians["import pluggy"], 1),
        "import_purpose_agent_ms": round(medians["import purpose_agent"], 1),
        "import_overhead_ms": round(import_overhead, 1),
        "plugins_list_ms": round(medians["purpose-agent plugins list"], 1),
        "plugins_listed": plugin_count,
        "dispatch_us_per_step": round(dispatch, 2),
    }))


if __name__ == "__main__":
    main()
