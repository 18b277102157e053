"""Startup and dispatch costs of the kernel, side by side with bare Python in one run.

    .venv/bin/python tests/benchmarks/bench_startup.py [--runs N]

Measures, interleaved so machine noise hits every command alike (median of N runs each):
bare `python -c pass`, `python -c "import pluggy"`, `python -c "import purpose_agent"`,
`purpose-agent --help` and `purpose-agent plugins list` with every plugin installed in this
environment; then the hook dispatch overhead of one agent step (six events to five observer
plugins, through the kernel). Each command is shown as wall time, CPU time (user + system of the
child: less disturbed by other work on a shared machine) and as a multiple of bare Python's, the
figure to compare between machines.

With ``--instructions`` (needs valgrind) it also counts the instructions each command executes
(callgrind, one run each, ~10 s): a figure the machine's load does not move, for comparing two
versions of the code on a shared machine.

The children run with bytecode caching on (PYTHONDONTWRITEBYTECODE removed), as an installed
package runs: without .pyc files every start compiles every module and measures the compiler.

Targets: import adds <= 50 ms over bare Python; plugins list <= 80 ms median; dispatch <= 50 us
per step. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def time_command(argv: list[str]) -> tuple[float, float]:
    """``(wall ms, CPU ms)`` of one run of ``argv``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    wall = (time.perf_counter() - start) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000
    return wall, cpu


def million_instructions(argv: list[str]) -> float:
    """User-space instructions ``argv`` executes, in millions (valgrind's callgrind)."""
    done = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
                          capture_output=True, text=True, env=ENV, check=True)
    collected = next(line for line in done.stderr.splitlines() if "Collected :" in line)
    return int(collected.split(":")[-1]) / 1e6


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
    parser.add_argument("--instructions", action="store_true", help="also count instructions (valgrind)")
    args = parser.parse_args()
    if args.instructions and shutil.which("valgrind") is None:
        parser.error("--instructions needs valgrind on PATH (apt-get install valgrind)")
    python = sys.executable
    commands = {
        "python -c pass": [python, "-c", "pass"],
        "import pluggy": [python, "-c", "import pluggy"],
        "import purpose_agent": [python, "-c", "import purpose_agent"],
        "purpose-agent --help": [str(BIN / "purpose-agent"), "--help"],
        "purpose-agent plugins list": [str(BIN / "purpose-agent"), "plugins", "list"],
    }
    for argv in commands.values():  # warm the file cache and write the .pyc files
        time_command(argv)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, argv in commands.items():
            samples[name].append(time_command(argv))
    wall = {name: statistics.median(w for w, _ in values) for name, values in samples.items()}
    cpu = {name: statistics.median(c for _, c in values) for name, values in samples.items()}
    listed = subprocess.run([str(BIN / "purpose-agent"), "plugins", "list", "--json"], capture_output=True, text=True,
                            env=ENV)
    plugin_count = len(json.loads(listed.stdout))
    bare = "python -c pass"
    print(f"{'command':28} {'wall ms':>8} {'p90 ms':>7} {'x bare':>7} {'cpu ms':>7} {'x bare':>7}")
    for name, values in samples.items():
        p90 = statistics.quantiles([w for w, _ in values], n=10)[-1]
        print(f"{name:28} {wall[name]:8.1f} {p90:7.1f} {wall[name] / wall[bare]:7.2f} "
              f"{cpu[name]:7.1f} {cpu[name] / cpu[bare]:7.2f}")
    instructions: dict[str, float] = {}
    if args.instructions:
        instructions = {name: million_instructions(argv) for name, argv in commands.items()}
        print(f"\n{'command':28} {'M instr':>8} {'x bare':>7}")
        for name, count in instructions.items():
            print(f"{name:28} {count:8.1f} {count / instructions[bare]:7.2f}")
    import_overhead = wall["import purpose_agent"] - wall[bare]
    dispatch = dispatch_us_per_step()
    print(f"\nimport purpose_agent adds {import_overhead:.1f} ms over bare Python (target <= 50)")
    print(f"plugins list with {plugin_count} plugins: {wall['purpose-agent plugins list']:.1f} ms median, "
          f"{wall['purpose-agent plugins list'] / wall[bare]:.1f} x bare Python (target <= 80 ms)")
    print(f"--help: {wall['purpose-agent --help']:.1f} ms median, {wall['purpose-agent --help'] / wall[bare]:.1f} x bare Python")
    print(f"hook dispatch: {dispatch:.1f} us per step, 6 events x 5 observers (target <= 50)")
    print(json.dumps({
        "runs": args.runs,
        "python_pass_ms": round(wall[bare], 1),
        "import_pluggy_ms": round(wall["import pluggy"], 1),
        "import_purpose_agent_ms": round(wall["import purpose_agent"], 1),
        "import_overhead_ms": round(import_overhead, 1),
        "help_ms": round(wall["purpose-agent --help"], 1),
        "help_x_bare": round(wall["purpose-agent --help"] / wall[bare], 2),
        "plugins_list_ms": round(wall["purpose-agent plugins list"], 1),
        "plugins_list_x_bare": round(wall["purpose-agent plugins list"] / wall[bare], 2),
        "plugins_list_cpu_ms": round(cpu["purpose-agent plugins list"], 1),
        "python_pass_cpu_ms": round(cpu[bare], 1),
        "plugins_listed": plugin_count,
        **({"plugins_list_minstr": round(instructions["purpose-agent plugins list"], 1),
            "help_minstr": round(instructions["purpose-agent --help"], 1),
            "python_pass_minstr": round(instructions[bare], 1)} if instructions else {}),
        "dispatch_us_per_step": round(dispatch, 2),
    }))


if __name__ == "__main__":
    main()
