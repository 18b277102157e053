"""Startup and dispatch costs of the kernel, side by side with bare Python in one run.

    .venv/bin/python tests/benchmarks/bench_startup.py [--runs N] [--layout editable|wheel]

Measures, interleaved so machine noise hits every command alike (median of N runs each):
bare `python -c pass`, `python -c "import pluggy"`, `python -c "import purpose_agent"`,
`purpose-agent --help`, and `purpose-agent plugins list` with every plugin installed in this
environment twice: as it usually runs (the plugins unchanged since the last listing are shown
from that load, see ``purpose_agent.cli.last_load``) and with nothing remembered (every plugin
imported: the first listing after an install or an edit); then the hook dispatch overhead of one
agent step (six events to five observer plugins, through the kernel). Each command is shown as
wall time, CPU time (user + system of the child: less disturbed by other work on a shared
machine) and as a multiple of bare Python's, the figure to compare between machines.

``--layout wheel`` measures an installed layout instead of this editable development one: core,
every ``plugins/*`` and ``contrib/*`` package is built as a wheel and installed into a temporary
virtual environment (one ``site-packages``, where editable installs add one ``sys.path`` entry
per package and every import searches them all); third-party dependencies come from this
environment's ``site-packages`` through a ``.pth`` line. Building takes a minute or two.

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
import sysconfig
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[2]


ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
#: A state directory that cannot exist (under a file), so `plugins list` remembers no load.
NOTHING_REMEMBERED = {**ENV, "XDG_STATE_HOME": os.devnull}


def wheel_environment(where: Path) -> Path:
    """A virtual environment under ``where`` with core and every workspace plugin installed from
    wheels; returns its ``bin`` directory."""
    packages = [REPO / "core", *sorted(p.parent for p in REPO.glob("plugins/*/pyproject.toml")),
                *sorted(p.parent for p in REPO.glob("contrib/*/pyproject.toml"))]
    wheels = where / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(wheels), *map(str, packages)], check=True)
    venv = where / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                    "--no-index", *map(str, sorted(wheels.glob("*.whl")))], check=True)
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # A bare path line: appended to sys.path without running that directory's own .pth files,
    # so the editable installs there add no entries (their dist-info come after the wheels' and
    # are ignored, as the first distribution of a name on sys.path wins).
    Path(site, "third_party_from_dev_env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv / "bin"


def time_command(argv: list[str], env: dict[str, str] = ENV) -> tuple[float, float]:
    """``(wall ms, CPU ms)`` of one run of ``argv``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    wall = (time.perf_counter() - start) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000
    return wall, cpu


def million_instructions(argv: list[str], env: dict[str, str] = ENV) -> float:
    """User-space instructions ``argv`` executes, in millions (valgrind's callgrind)."""
    done = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
                          capture_output=True, text=True, env=env, check=True)
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
    parser.add_argument("--layout", choices=("editable", "wheel"), default="editable",
                        help="this development environment (editable installs) or one built from wheels")
    args = parser.parse_args()
    if args.instructions and shutil.which("valgrind") is None:
        parser.error("--instructions needs valgrind on PATH (apt-get install valgrind)")
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as scratch:
        bin_dir = BIN if args.layout == "editable" else wheel_environment(Path(scratch))
        measure(args, bin_dir)


def measure(args: argparse.Namespace, bin_dir: Path) -> None:
    python = str(bin_dir / "python")
    cli = str(bin_dir / "purpose-agent")
    list_fresh = "plugins list, nothing remembered"
    commands = {
        "python -c pass": [python, "-c", "pass"],
        "import pluggy": [python, "-c", "import pluggy"],
        "import purpose_agent": [python, "-c", "import purpose_agent"],
        "purpose-agent --help": [cli, "--help"],
        "purpose-agent plugins list": [cli, "plugins", "list"],
        list_fresh: [cli, "plugins", "list"],
    }
    envs = {name: NOTHING_REMEMBERED if name == list_fresh else ENV for name in commands}
    for name, argv in commands.items():  # warm the file cache, write the .pyc files and the listing's memory
        time_command(argv, envs[name])
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, argv in commands.items():
            samples[name].append(time_command(argv, envs[name]))
    wall = {name: statistics.median(w for w, _ in values) for name, values in samples.items()}
    cpu = {name: statistics.median(c for _, c in values) for name, values in samples.items()}
    listed = subprocess.run([cli, "plugins", "list", "--json"], capture_output=True, text=True, env=ENV)
    plugin_count = len(json.loads(listed.stdout))
    path_entries = subprocess.run([python, "-c", "import sys; print(len(sys.path))"], capture_output=True, text=True,
                                  env=ENV, check=True).stdout.strip()
    print(f"layout: {args.layout} ({path_entries} sys.path entries)")
    bare = "python -c pass"
    print(f"{'command':34} {'wall ms':>8} {'p90 ms':>7} {'x bare':>7} {'cpu ms':>7} {'x bare':>7}")
    for name, values in samples.items():
        p90 = statistics.quantiles([w for w, _ in values], n=10)[-1]
        print(f"{name:34} {wall[name]:8.1f} {p90:7.1f} {wall[name] / wall[bare]:7.2f} "
              f"{cpu[name]:7.1f} {cpu[name] / cpu[bare]:7.2f}")
    instructions: dict[str, float] = {}
    if args.instructions:
        instructions = {name: million_instructions(argv, envs[name]) for name, argv in commands.items()}
        print(f"\n{'command':34} {'M instr':>8} {'x bare':>7}")
        for name, count in instructions.items():
            print(f"{name:34} {count:8.1f} {count / instructions[bare]:7.2f}")
    import_overhead = wall["import purpose_agent"] - wall[bare]
    dispatch = dispatch_us_per_step()
    print(f"\nimport purpose_agent adds {import_overhead:.1f} ms over bare Python (target <= 50)")
    print(f"plugins list with {plugin_count} plugins: {wall['purpose-agent plugins list']:.1f} ms median, "
          f"{wall['purpose-agent plugins list'] / wall[bare]:.1f} x bare Python (target <= 80 ms); "
          f"{wall[list_fresh]:.1f} ms with nothing remembered (every plugin imported)")
    print(f"--help: {wall['purpose-agent --help']:.1f} ms median, {wall['purpose-agent --help'] / wall[bare]:.1f} x bare Python")
    print(f"hook dispatch: {dispatch:.1f} us per step, 6 events x 5 observers (target <= 50)")
    print(json.dumps({
        "runs": args.runs,
        "layout": args.layout,
        "python_pass_ms": round(wall[bare], 1),
        "import_pluggy_ms": round(wall["import pluggy"], 1),
        "import_purpose_agent_ms": round(wall["import purpose_agent"], 1),
        "import_overhead_ms": round(import_overhead, 1),
        "help_ms": round(wall["purpose-agent --help"], 1),
        "help_x_bare": round(wall["purpose-agent --help"] / wall[bare], 2),
        "plugins_list_ms": round(wall["purpose-agent plugins list"], 1),
        "plugins_list_x_bare": round(wall["purpose-agent plugins list"] / wall[bare], 2),
        "plugins_list_cpu_ms": round(cpu["purpose-agent plugins list"], 1),
        "plugins_list_nothing_remembered_ms": round(wall[list_fresh], 1),
        "plugins_list_nothing_remembered_cpu_ms": round(cpu[list_fresh], 1),
        "python_pass_cpu_ms": round(cpu[bare], 1),
        "plugins_listed": plugin_count,
        **({"plugins_list_minstr": round(instructions["purpose-agent plugins list"], 1),
            "help_minstr": round(instructions["purpose-agent --help"], 1),
            "plugins_list_nothing_remembered_minstr": round(instructions[list_fresh], 1),
            "python_pass_minstr": round(instructions[bare], 1)} if instructions else {}),
        "dispatch_us_per_step": round(dispatch, 2),
    }))


if __name__ == "__main__":
    main()
