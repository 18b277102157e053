"""The real-model learning benchmark of issue 19: learn on the suite's train tasks, measure on its eval tasks.

Run: ``.venv/bin/python tests/benchmarks/bench_learning_real.py [--seeds 3] [--rounds 3] [--tasks 8]
[--eval-tasks 20] [--model provider:model] [--temperature 0.5] [--replays 2] [--model-lessons 0]
[--no-remedies] [--image PATH]``

Everything is real: the model (the embedded SmolLM2-135M unless ``--model`` names another), the
suite's hidden unit tests run in the sandbox, and the whole learning loop (``Learner``: retrieval,
extraction by the same model, hindsight, edits, memory CI's immune scanners and replay). Nothing
is scripted or simulated.

Per seed, two arms over ``--rounds`` rounds:

* **memory**: each round attempts ``--tasks`` train tasks (drawn by the seed) and learns after
  every attempt; then attempts the eval tasks with the lessons memory retrieves for them (no
  learning from eval tasks: they never reach the learner, and replays use train tasks only).
* **no memory**: the same eval tasks, the same round, no lessons.

Both arms sample at ``--temperature`` with the same sampling seed per (seed, round, task), sent
to the backend, so an eval attempt that retrieves no lesson gives the same reply in both arms:
the difference between the arms is what the lessons did, and seeds differ by their draws (and by
which train tasks teach). Memory CI's replays use one fixed draw per (seed, task), so "with" and
"without" a candidate differ only by the candidate.

Reported: eval pass rate per round per arm (pooled over seeds and per seed), the difference
memory − no memory with a 95% paired bootstrap interval over seeds × tasks (final round, and all
rounds pooled), lessons proposed / promoted / rejected and why, the promoted texts, failure
kinds per arm, and wall and CPU time. The curve is written as an SVG (``--image``). The last line
printed is JSON with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

from purpose_agent.kernel import Kernel
from purpose_agent.learning.extraction import RunRecord
from purpose_agent.learning.learner import Learner
from purpose_agent.models import MemoryStatus, Score, Trajectory
from purpose_agent.resolve import resolve_backend
from purpose_agent.runtime.agents import first_sandbox
from purpose_agent_demo.demo import DEMO_PURPOSE, LEARNING_FAMILY, Solver, UnitTestCritic
from purpose_agent_demo.suite import EVAL_TASKS, FAILURE_KINDS, PASSED, TRAIN_TASKS, CodingTask, sample_tasks

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_IMAGE = ROOT / "docs" / "images" / "learning-real-curve.svg"
ARMS = ("memory", "no memory")


def draw_for(seed: int, *parts: object) -> int:
    """A sampling seed for the backend, fixed by the benchmark seed and what is being attempted."""
    return zlib.crc32(":".join(str(p) for p in (seed, *parts)).encode()) & 0x7FFFFFFF


def decision_class(reason: str) -> str:
    """The kind of memory CI decision, from its reason: ``no gain``, ``regression``, ``blocked by scanners`` …"""
    return reason.split(":")[0].split("(")[0].strip() or "(none)"


def bootstrap_interval(differences: list[float], *, resamples: int = 10_000, seed: int = 0) -> tuple[float, float]:
    """95% percentile bootstrap interval of the mean of paired ``differences``."""
    rng = random.Random(seed)
    n = len(differences)
    means = sorted(sum(rng.choices(differences, k=n)) / n for _ in range(resamples))
    return means[int(0.025 * resamples)], means[int(0.975 * resamples) - 1]


class SeedRun:
    """One seed: the memory arm learning on train tasks, both arms attempting the eval tasks each round."""

    def __init__(self, seed: int, args: argparse.Namespace, kernel: Any, backend: Any, sandbox: Any) -> None:
        self.seed = seed
        self.args = args
        self.train = sample_tasks(TRAIN_TASKS, args.tasks, seed)
        self.evals = sample_tasks(EVAL_TASKS, args.eval_tasks, seed)
        self.solver = Solver(backend, max_tokens=args.max_tokens, temperature=args.temperature)
        self.critics = {t.prompt: UnitTestCritic(sandbox, t.tests, task=t) for t in (*self.train, *self.evals)}
        self.train_by_prompt = {t.prompt: t for t in self.train}
        self.store = kernel.memory_store("memory")
        self.learner = Learner(kernel, self.store, backend, purpose=DEMO_PURPOSE, replayer=self.replay,
                               max_replays=args.replays)
        self.learner.extractor.max_lessons = args.model_lessons
        # Per round: eval outcome per task and arm, failure kinds, train passes, learner counts.
        self.rounds: list[dict[str, Any]] = []
        self.decisions: Counter[str] = Counter()
        self.edits: Counter[str] = Counter()

    def grade(self, task: CodingTask, answer: str) -> Score:
        score = self.critics[task.prompt].score(Trajectory(task=task.prompt, final_answer=answer))
        if self.args.no_remedies:
            score = score.model_copy(update={"details": {"kind": score.details.get("kind", "")}})
        return score

    def replay(self, task_text: str, lessons: list[str]) -> float:
        """Memory CI's replay: a train task (only train tasks are ever stored), one fixed draw."""
        task = self.train_by_prompt[task_text]
        return self.grade(task, self.solver.answer(task.prompt, lessons, draw_for(self.seed, "replay", task.family))).value

    def run_round(self, number: int, say: Any) -> dict[str, Any]:
        started = time.monotonic()
        train_passed = 0
        proposed = 0
        for task in self.train:
            lessons = self.learner.retrieve(task.prompt, family=LEARNING_FAMILY)
            texts = [item.text for item in lessons]
            answer = self.solver.answer(task.prompt, texts, draw_for(self.seed, number, task.family))
            score = self.grade(task, answer)
            train_passed += score.details.get("kind") == PASSED
            record = RunRecord(Trajectory(task=task.prompt, final_answer=answer, memory_ids=[i.id for i in lessons]),
                               score, task_family=LEARNING_FAMILY, retrieved=texts)
            report = self.learner.after_run(record, used=lessons)
            proposed += report.proposed
            self.edits.update(report.edits)
            for item in report.decisions:
                source = "model" if item.provenance.extractor == "llm-contrast" else item.provenance.extractor
                self.decisions[f"{source} {item.status.value}: {decision_class(item.status_reason)}"] += 1
        outcome: dict[str, Any] = {"round": number, "train_passed": train_passed, "proposed": proposed,
                                   "eval": {arm: {} for arm in ARMS}, "kinds": {arm: Counter() for arm in ARMS},
                                   "saw_lessons": 0}
        for task in self.evals:
            lessons = self.learner.retrieve(task.prompt, family=LEARNING_FAMILY)
            texts = [item.text for item in lessons]
            draw = draw_for(self.seed, number, task.family)
            outcome["saw_lessons"] += bool(texts)
            for arm, given in (("memory", texts), ("no memory", [])):
                kind = str(self.grade(task, self.solver.answer(task.prompt, given, draw)).details.get("kind", ""))
                outcome["eval"][arm][task.family] = kind == PASSED
                outcome["kinds"][arm][kind] += 1
        outcome["promoted_now"] = len(self.store.list(status=MemoryStatus.PROMOTED))
        outcome["seconds"] = time.monotonic() - started
        self.rounds.append(outcome)
        rates = {arm: statistics.fmean(outcome["eval"][arm].values()) for arm in ARMS}
        say(f"seed {self.seed} round {number}: train {train_passed}/{len(self.train)}, eval memory {rates['memory']:.0%} "
            f"/ no memory {rates['no memory']:.0%}; {outcome['saw_lessons']}/{len(self.evals)} eval tasks saw lessons; "
            f"{outcome['promoted_now']} promoted in memory ({outcome['seconds']:.0f} s)")
        return outcome

    def promoted_texts(self) -> list[str]:
        return [item.text for item in self.store.list(status=MemoryStatus.PROMOTED)]


def write_svg(path: Path, per_round: dict[str, list[float]], per_seed: dict[str, list[list[float]]],
              intervals: list[tuple[float, float]], title: str) -> None:
    """The learning curve: eval pass rate per round, one line per arm (pooled) and thin lines per seed,
    with the 95% interval of the difference written under each round."""
    width, height, left, right, top, bottom = 640, 360, 60, 150, 40, 70
    rounds = len(per_round["memory"])
    colours = {"memory": "#1f77b4", "no memory": "#d62728"}

    def x(i: int) -> float:
        return left + (i * (width - left - right) / max(1, rounds - 1) if rounds > 1 else (width - left - right) / 2)

    def y(rate: float) -> float:
        return top + (1 - rate) * (height - top - bottom)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
             'font-size="12">', f'<rect width="{width}" height="{height}" fill="white"/>',
             f'<text x="{left}" y="22" font-size="14">{title}</text>']
    for tick in range(0, 11, 2):
        rate = tick / 10
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(rate):.1f}" y2="{y(rate):.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 8}" y="{y(rate) + 4:.1f}" text-anchor="end">{rate:.0%}</text>')
    for i in range(rounds):
        parts.append(f'<text x="{x(i):.1f}" y="{height - bottom + 18}" text-anchor="middle">round {i + 1}</text>')
        low, high = intervals[i]
        parts.append(f'<text x="{x(i):.1f}" y="{height - bottom + 34}" text-anchor="middle" fill="#555" '
                     f'font-size="10">diff [{low:+.2f}, {high:+.2f}]</text>')
    for arm in ARMS:
        for seed_rates in per_seed[arm]:
            points = " ".join(f"{x(i):.1f},{y(r):.1f}" for i, r in enumerate(seed_rates))
            parts.append(f'<polyline points="{points}" fill="none" stroke="{colours[arm]}" stroke-opacity="0.25"/>')
        points = " ".join(f"{x(i):.1f},{y(r):.1f}" for i, r in enumerate(per_round[arm]))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colours[arm]}" stroke-width="2.5"/>')
        parts.extend(f'<circle cx="{x(i):.1f}" cy="{y(r):.1f}" r="3.5" fill="{colours[arm]}"/>'
                     for i, r in enumerate(per_round[arm]))
    for row, arm in enumerate(ARMS):
        ly = top + 20 + row * 20
        parts.append(f'<line x1="{width - right + 15}" x2="{width - right + 40}" y1="{ly}" y2="{ly}" '
                     f'stroke="{colours[arm]}" stroke-width="2.5"/>')
        parts.append(f'<text x="{width - right + 46}" y="{ly + 4}">{arm}</text>')
    parts.append(f'<text x="{width - right + 15}" y="{top + 70}" font-size="10" fill="#555">thin: one seed</text>')
    parts.append(f'<text x="{left}" y="{height - 12}" font-size="10" fill="#555">eval pass rate (disjoint eval '
                 'tasks); diff = memory - no memory, 95% paired bootstrap interval over seeds x tasks</text>')
    parts.append("</svg>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")


def summarise(runs: list[SeedRun], args: argparse.Namespace) -> dict[str, Any]:
    """Pooled figures over seeds: rates per round and arm, differences with intervals, kinds, lessons."""
    rounds = args.rounds
    per_seed = {arm: [[statistics.fmean(r["eval"][arm].values()) for r in run.rounds] for run in runs] for arm in ARMS}
    per_round = {arm: [statistics.fmean(run.rounds[i]["eval"][arm][t] for run in runs for t in run.rounds[i]["eval"][arm])
                       for i in range(rounds)] for arm in ARMS}

    def differences(round_indexes: range | list[int]) -> list[float]:
        # One unit per (seed, eval task): its mean over the rounds given, memory minus no memory.
        out = []
        for run in runs:
            for task in run.evals:
                out.append(statistics.fmean(float(run.rounds[i]["eval"]["memory"][task.family])
                                            - float(run.rounds[i]["eval"]["no memory"][task.family])
                                            for i in round_indexes))
        return out

    intervals = [bootstrap_interval(differences([i])) for i in range(rounds)]
    final = differences([rounds - 1])
    pooled = differences(range(rounds))
    kinds = {arm: Counter() for arm in ARMS}
    last_kinds = {arm: Counter() for arm in ARMS}
    for run in runs:
        for i, r in enumerate(run.rounds):
            for arm in ARMS:
                kinds[arm].update(r["kinds"][arm])
                if i == rounds - 1:
                    last_kinds[arm].update(r["kinds"][arm])
    decisions: Counter[str] = Counter()
    edits: Counter[str] = Counter()
    for run in runs:
        decisions.update(run.decisions)
        edits.update(run.edits)
    return {
        "per_round": per_round, "per_seed": per_seed,
        "difference_per_round": [statistics.fmean(differences([i])) for i in range(rounds)],
        "interval_per_round": intervals,
        "final_difference": statistics.fmean(final), "final_interval": bootstrap_interval(final),
        "pooled_difference": statistics.fmean(pooled), "pooled_interval": bootstrap_interval(pooled),
        "units": len(final),
        "kinds": {arm: dict(kinds[arm]) for arm in ARMS},
        "final_round_kinds": {arm: dict(last_kinds[arm]) for arm in ARMS},
        "proposed": sum(r["proposed"] for run in runs for r in run.rounds),
        "decisions": dict(decisions.most_common()), "edits": dict(edits),
        "promoted": {str(run.seed): run.promoted_texts() for run in runs},
        "eval_attempts_with_lessons": [sum(run.rounds[i]["saw_lessons"] for run in runs) for i in range(rounds)],
        "train_pass_rate": [sum(run.rounds[i]["train_passed"] for run in runs) / sum(len(run.train) for run in runs)
                            for i in range(rounds)],
    }


def print_report(figures: dict[str, Any], runs: list[SeedRun], args: argparse.Namespace) -> None:
    print()
    print("round  memory  no memory  difference  95% interval      train pass  eval tasks that saw lessons")
    for i in range(args.rounds):
        low, high = figures["interval_per_round"][i]
        print(f"{i + 1:>5}  {figures['per_round']['memory'][i]:6.1%}  {figures['per_round']['no memory'][i]:9.1%}"
              f"  {figures['difference_per_round'][i]:+10.3f}  [{low:+.3f}, {high:+.3f}]"
              f"  {figures['train_pass_rate'][i]:10.0%}  {figures['eval_attempts_with_lessons'][i]}/{figures['units']}")
    for arm in ARMS:
        print(f"per seed, {arm}: " + "; ".join(
            f"seed {run.seed}: " + " ".join(f"{r:.0%}" for r in rates) for run, rates in zip(runs, figures["per_seed"][arm],
                                                                                           strict=True)))
    low, high = figures["final_interval"]
    print(f"final round: memory - no memory = {figures['final_difference']:+.3f}, 95% interval [{low:+.3f}, {high:+.3f}] "
          f"over {figures['units']} seed x task pairs")
    low, high = figures["pooled_interval"]
    print(f"all rounds pooled: {figures['pooled_difference']:+.3f}, 95% interval [{low:+.3f}, {high:+.3f}]")
    print()
    print(f"lessons proposed: {figures['proposed']}; edits: {figures['edits']}")
    print("memory CI decisions: " + ", ".join(f"{k} x {v}" for k, v in figures["decisions"].items()))
    for seed, texts in figures["promoted"].items():
        print(f"promoted at the end, seed {seed}: " + (" | ".join(texts) if texts else "none"))
    print()
    print("failure kinds over all eval attempts (memory / no memory), and in the final round:")
    for kind in (*FAILURE_KINDS, PASSED):
        counts = [figures["kinds"][arm].get(kind, 0) for arm in ARMS]
        last = [figures["final_round_kinds"][arm].get(kind, 0) for arm in ARMS]
        if any(counts):
            print(f"  {kind:26} {counts[0]:>4} / {counts[1]:<4}   final round {last[0]:>3} / {last[1]:<3}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="number of seeds (0, 1, 2, ...)")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tasks", type=int, default=8, help="train tasks per round (drawn by the seed)")
    parser.add_argument("--eval-tasks", type=int, default=len(EVAL_TASKS), help="eval tasks per round")
    parser.add_argument("--model", default=None, help="provider:model (default: the kernel's default model)")
    parser.add_argument("--temperature", type=float, default=0.5)
    parser.add_argument("--max-tokens", type=int, default=192)
    parser.add_argument("--replays", type=int, default=2, help="train tasks memory CI replays per candidate")
    parser.add_argument("--model-lessons", type=int, default=0,
                        help="lessons the model may propose per run (0: only hindsight proposes; the embedded model's "
                             "own lessons are echoes of the prompt, see docs/learning-benchmark.md)")
    parser.add_argument("--no-remedies", action="store_true",
                        help="drop the critic's remedy, so hindsight proposes episodes instead of general rules")
    parser.add_argument("--image", type=Path, default=DEFAULT_IMAGE, help="where to write the SVG curve ('' for none)")
    args = parser.parse_args()
    for name in ("seeds", "rounds", "tasks", "eval_tasks"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")

    wall, cpu = time.monotonic(), os.times()
    kernel = Kernel.load()
    resolution = resolve_backend(args.model, kernel)
    sandbox = first_sandbox(kernel)
    if sandbox is None:
        sys.exit("no sandbox plugin is active, so answers cannot be tested: install purpose-agent-sandbox and bubblewrap")
    print(f"model {getattr(resolution.backend, 'name', '') or resolution.spec}; {args.seeds} seed(s) x {args.rounds} round(s); {args.tasks} train task(s) per "
          f"round, {args.eval_tasks} eval task(s); temperature {args.temperature}; replays {args.replays}; "
          f"remedies {'off' if args.no_remedies else 'on'}; model lessons per run {args.model_lessons}; scanners: {', '.join(kernel.scanners()) or 'none'}", flush=True)
    runs = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        run = SeedRun(seed, args, kernel, resolution.backend, sandbox)
        print(f"seed {seed}: train {', '.join(t.family for t in run.train)}", flush=True)
        for number in range(1, args.rounds + 1):
            run.run_round(number, lambda line: print(line, flush=True))
        runs.append(run)
    figures = summarise(runs, args)
    print_report(figures, runs, args)
    spent = os.times()
    figures["wall_seconds"] = round(time.monotonic() - wall, 1)
    figures["cpu_seconds"] = round(sum(spent[:4]) - sum(cpu[:4]), 1)
    figures["settings"] = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    figures["model"] = getattr(resolution.backend, "name", "") or resolution.spec
    if str(args.image):
        title = (f"{figures['model']}: eval pass rate per round, {args.seeds} seeds, "
                 f"{args.tasks} train / {args.eval_tasks} eval tasks")
        write_svg(args.image, figures["per_round"], figures["per_seed"], figures["interval_per_round"], title)
        print(f"curve written to {args.image}")
    print(f"wall {figures['wall_seconds']} s, CPU {figures['cpu_seconds']} s (this process and its sandboxes)")
    print(json.dumps(figures, sort_keys=True, default=list))


if __name__ == "__main__":
    main()
