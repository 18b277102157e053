"""The optimization benchmark of issue 17: prompt packs on code tasks, adopted only by shadow evaluation.

Run: ``.venv/bin/python tests/benchmarks/bench_optimize.py [--train 40] [--held-out 30] [--fresh 60] [--seed 7]``

What is real and what is simulated:

* **Tasks and critic (real)**: small Python functions (``mean``, ``largest``, ``second_largest``,
  ``count_unique``, ``largest_magnitude``) each with hidden tests that include one edge case
  (empty input, duplicates, negative numbers). The critic executes the code the model wrote
  against the hidden tests (in this process: the code is the benchmark's own templates) and
  scores 10 when every test passes, else 2 with the failing case named ("failed on empty input").
* **Optimizer (real)**: the ``purpose-agent-optimize`` plugin records every run through
  ``watch_run``; fingerprints, ``propose`` (reflection prompt built from the recorded failures),
  ``shadow_evaluate`` (paired, sign test), the ``instructions`` hook that applies the adopted pack,
  and the policy are the plugin's own code on a real team (``pa.purpose``).
* **Coder model (simulated)**: a ``FunctionBackend`` writes the correct function or a naive one
  that breaks on the task's edge case. It handles an edge case with probability ``base_rate``,
  or ``guided_rate`` when its system prompt names that kind of edge case, and ``sloppy_rate``
  when the prompt tells it not to special-case inputs. The draw is a hash of (seed, task, which
  of those applies), so the same task under the same instructions gets the same code: pairs
  differ only by the instructions.
* **Proposer model (scripted)**: reads the reflection prompt ``propose`` builds, counts the edge
  cases named in the failures' critic reasons, and proposes an instruction naming those seen at
  least twice. A second, harmful candidate ("keep it minimal, do not special-case inputs") is
  evaluated too, and must be rejected.

Phases: record ``--train`` runs without a pack; fingerprint; propose; shadow-evaluate the
proposed and the harmful candidate on ``--held-out`` tasks; then measure baseline and adopted
pack on ``--fresh`` tasks neither saw (success with 95% Wilson intervals). Also: the cost of
recording per team run (recording on vs off). The last line is JSON.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import statistics
import sys
import tempfile
import time
from typing import Any

TEMPLATES: dict[str, dict[str, Any]] = {
    "mean": {"spec": "returns the arithmetic mean of a list of numbers (0.0 for an empty list)", "edge": "empty",
             "right": "def {name}(xs):\n    return sum(xs) / len(xs) if xs else 0.0\n",
             "naive": "def {name}(xs):\n    return sum(xs) / len(xs)\n",
             "tests": [([2, 4], 3.0), ([5], 5.0), ([], 0.0)]},
    "largest": {"spec": "returns the largest number in a list (None for an empty list)", "edge": "empty",
                "right": "def {name}(xs):\n    return max(xs) if xs else None\n",
                "naive": "def {name}(xs):\n    return max(xs)\n",
                "tests": [([1, 9, 3], 9), ([-2], -2), ([], None)]},
    "second_largest": {"spec": "returns the second largest distinct number in a list", "edge": "duplicates",
                       "right": "def {name}(xs):\n    return sorted(set(xs))[-2]\n",
                       "naive": "def {name}(xs):\n    return sorted(xs)[-2]\n",
                       "tests": [([1, 5, 3], 3), ([4, 9, 9], 4)]},
    "count_unique": {"spec": "returns how many different values a list holds", "edge": "duplicates",
                     "right": "def {name}(xs):\n    return len(set(xs))\n",
                     "naive": "def {name}(xs):\n    return len(xs)\n",
                     "tests": [([1, 2, 3], 3), ([7, 7, 8], 2)]},
    "largest_magnitude": {"spec": "returns the number with the largest absolute value", "edge": "negative",
                          "right": "def {name}(xs):\n    return max(xs, key=abs)\n",
                          "naive": "def {name}(xs):\n    return max(xs)\n",
                          "tests": [([1, 4, 2], 4), ([3, -8, 5], -8)]},
}
EDGE_WORDS = {"empty": "empty input", "duplicates": "duplicate values", "negative": "negative numbers"}
HARMFUL = "Keep the code minimal: do not special-case inputs, the common case is enough."


def make_tasks(count: int, offset: int) -> list[str]:
    names = sorted(TEMPLATES)
    return [f"Write a Python function `{names[i % len(names)]}_{offset + i}(xs)` that "
            f"{TEMPLATES[names[i % len(names)]]['spec']}. Reply with the code only."
            for i in range(count)]


def template_of(task: str) -> tuple[str, str]:
    name = re.search(r"`(\w+)\(xs\)`", task).group(1)  # type: ignore[union-attr]
    return name.rsplit("_", 1)[0], name


class Coder:
    """The simulated coder (see the module docstring)."""

    def __init__(self, seed: int, base_rate: float, guided_rate: float, sloppy_rate: float) -> None:
        self.seed, self.base, self.guided, self.sloppy = seed, base_rate, guided_rate, sloppy_rate

    def __call__(self, request: Any) -> str:
        from purpose_agent.testing import FunctionBackend

        system = request.messages[0].content.lower()
        task = next(m.content for m in request.messages if m.role == "user")
        template, name = template_of(task)
        edge = TEMPLATES[template]["edge"]
        if "do not special-case" in system:
            rate, why = self.sloppy, "sloppy"
        elif EDGE_WORDS[edge] in system:
            rate, why = self.guided, "guided"
        else:
            rate, why = self.base, "plain"
        draw = int(hashlib.sha256(f"{self.seed}|{task}|{why}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        code = TEMPLATES[template]["right" if draw < rate else "naive"].format(name=name)
        return FunctionBackend.answer(code)


class HiddenTests:
    """The critic: runs the answer's function on the task's hidden tests."""

    name = "hidden-tests"

    def score(self, trajectory: Any) -> Any:
        from purpose_agent.models import Score

        template, name = template_of(trajectory.task)
        namespace: dict[str, Any] = {}
        try:
            exec(trajectory.final_answer or "", namespace)  # the benchmark's own template code
            function = namespace[name]
        except Exception as exc:
            return Score(value=0.0, critic=self.name, reason=f"the code did not define {name}: {exc}")
        edge = TEMPLATES[template]["edge"]
        for arguments, expected in TEMPLATES[template]["tests"]:
            try:
                got = function(list(arguments))
            except Exception as exc:
                return Score(value=2.0, critic=self.name,
                             reason=f"failed on {EDGE_WORDS[edge]}: {name}({arguments}) raised {type(exc).__name__}")
            if got != expected:
                return Score(value=2.0, critic=self.name,
                             reason=f"failed on {EDGE_WORDS[edge]}: {name}({arguments}) returned {got!r}, expected {expected!r}")
        return Score(value=10.0, critic=self.name, reason="all hidden tests pass")


def proposer(request: Any) -> str:
    """The scripted reflective proposer: names the edge cases the failures' reasons keep naming."""
    prompt = request.messages[-1].content
    counts = {edge: prompt.count(f"failed on {words}") for edge, words in EDGE_WORDS.items()}
    named = [EDGE_WORDS[edge] for edge, count in sorted(counts.items(), key=lambda kv: -kv[1]) if count >= 2]
    instruction = ("Before answering, list the edge cases the function must handle - "
                   + ", ".join(named) + " - and make the code handle each of them.")
    return json.dumps({"candidates": [{"instruction": instruction,
                                       "rationale": f"failures named: {counts}"}]})


def success_rate(team: Any, tasks: list[str], *, kernel: Any, pack: tuple[int | None, str | None]) -> list[bool]:
    from purpose_agent_optimize import packs_applied

    with packs_applied(kernel, {"coder": pack}):
        return [team.run(task).score.value >= 7.0 for task in tasks]


def run(args: argparse.Namespace) -> dict[str, Any]:
    import purpose_agent as pa
    import purpose_agent_optimize as po
    from purpose_agent.testing import FunctionBackend, make_kernel
    from purpose_agent_immune import plugins as immune
    from purpose_agent_optimize.fingerprints import fingerprints
    from purpose_agent_optimize.packs import propose, shadow_evaluate
    from purpose_agent_optimize.policy import verdict_for
    from purpose_agent_optimize.stats import wilson_interval
    from purpose_agent_optimize.traces import wait_for_recordings

    kernel = make_kernel({"optimize": po, "immune-injection": immune.injection, "immune-tools": immune.tools})
    coder = FunctionBackend(Coder(args.seed, args.base_rate, args.guided_rate, args.sloppy_rate))
    team = pa.purpose("Write Python functions", model=coder, roles=["coder"], kernel=kernel, critic=HiddenTests(),
                      memory=False, tools=[])
    store = po.open_store(kernel)
    figures: dict[str, Any] = {"seed": args.seed, "base_rate": args.base_rate, "guided_rate": args.guided_rate,
                               "sloppy_rate": args.sloppy_rate}

    started = time.perf_counter()
    for task in make_tasks(args.train, 0):
        team.run(task)
    assert wait_for_recordings()
    [fingerprint] = fingerprints(store.runs(role="coder"))
    low, high = fingerprint.success_ci
    print(f"recorded {fingerprint.runs} training runs of 'coder': {fingerprint.successes} succeeded "
          f"({fingerprint.success_rate:.0%}, 95% CI {low:.0%}-{high:.0%}); failure kinds "
          f"{ {k: v['count'] for k, v in fingerprint.failure_kinds.items()} }")
    figures["train"] = {"runs": fingerprint.runs, "successes": fingerprint.successes, "ci": [low, high]}

    failures = [r for r in store.runs(role="coder") if not r["success"]][-8:]
    [candidate], _blocked = propose(store, FunctionBackend(proposer), "coder", failures,
                                   screen=lambda text: kernel.blocking_reasons(text, "prompt"))
    harmful = store.add_pack("coder", HARMFUL, origin="benchmark: a harmful edit")
    print(f"proposed v{candidate.version}: {candidate.text}")
    figures["proposed"] = candidate.text

    held_out = make_tasks(args.held_out, 1000)
    rejected = shadow_evaluate(store, kernel, "coder", harmful.version, held_out, team.run, success_score=7.0)
    adopted = shadow_evaluate(store, kernel, "coder", candidate.version, held_out, team.run, success_score=7.0)
    for label, result in (("harmful", rejected), ("proposed", adopted)):
        g_low, g_high = result.gain_ci
        print(f"shadow {label} v{result.candidate}: baseline {result.baseline_successes}/{result.tasks}, candidate "
              f"{result.candidate_successes}/{result.tasks}, {result.wins} wins / {result.losses} losses, "
              f"p = {result.p_value:.2g}, gain {result.gain:+.0%} (bootstrap 95% CI {g_low:+.0%} to {g_high:+.0%}) "
              f"-> {'ADOPTED' if result.adopted else 'rejected'}")
        figures[f"shadow_{label}"] = {k: v for k, v in result.as_dict().items() if k != "pairs"}

    fresh = make_tasks(args.fresh, 5000)
    before = success_rate(team, fresh, kernel=kernel, pack=(None, None))
    adopted_pack = store.adopted("coder")
    assert adopted_pack is not None, "the proposed pack was not adopted"
    # The adopted pack through the ordinary route: the instructions hook, no override.
    after = [team.run(task).score.value >= 7.0 for task in fresh]
    for label, outcomes in (("baseline (no pack)", before), (f"adopted pack v{adopted_pack.version}", after)):
        s = sum(outcomes)
        f_low, f_high = wilson_interval(s, len(outcomes))
        print(f"fresh tasks, {label}: {s}/{len(outcomes)} = {s / len(outcomes):.0%} (95% CI {f_low:.0%}-{f_high:.0%})")
    figures["fresh"] = {"tasks": len(fresh), "baseline": sum(before), "adopted": sum(after),
                        "baseline_ci": wilson_interval(sum(before), len(fresh)),
                        "adopted_ci": wilson_interval(sum(after), len(fresh))}
    verdict = verdict_for(store, "coder")
    print(f"policy: coder is {verdict.label} -> {verdict.action}")
    figures["policy"] = {"label": verdict.label, "action": verdict.action}
    assert wait_for_recordings()
    figures["elapsed_s"] = round(time.perf_counter() - started, 2)
    cost = figures["recording_cost"] = recording_cost(args.seed)
    print(f"cost per team run (median of 100, interleaved): without the plugin {cost['absent_ms']} ms, "
          f"plugin with record = false {cost['off_ms']} ms, recording {cost['on_not_waited_ms']} ms "
          f"({cost['on_ms']} ms when the run's caller also waits for the write to commit); the write itself "
          f"{cost['write_ms']} ms on the recorder thread")
    return figures


def recording_cost(seed: int, runs: int = 100) -> dict[str, float]:
    """What the plugin costs a run, in ms: median wall time of a one-member team run without the
    plugin, with it and ``record = false``, recording with the write awaited inside the timing,
    and recording as in real use (nobody waits for the write); interleaved, so drift hits all
    alike. Also the median time of the write itself on the recorder thread."""
    import purpose_agent as pa
    import purpose_agent_optimize as po
    from purpose_agent.testing import FunctionBackend, make_kernel
    from purpose_agent_optimize.traces import wait_for_recordings

    kernels = {"absent": make_kernel(),
               "off": make_kernel({"optimize": po}, config={"plugins": {"optimize": {"record": False}}}),
               "on": make_kernel({"optimize": po}),
               # recording, and the run's caller does not wait for the write (as in real use)
               "on_not_waited": make_kernel({"optimize": po})}
    teams = {label: pa.purpose("Write Python functions", model=FunctionBackend(Coder(seed, 0.5, 0.9, 0.1)),
                               roles=["coder"], kernel=kernel, critic=HiddenTests(), memory=False, tools=[])
             for label, kernel in kernels.items()}
    store = po.open_store(kernels["on"])
    writes: list[float] = []
    add_runs = store.add_runs

    def timed_add_runs(records: Any) -> None:
        begun = time.perf_counter()
        add_runs(records)
        writes.append(time.perf_counter() - begun)

    store.add_runs = timed_add_runs  # type: ignore[method-assign]
    samples: dict[str, list[float]] = {label: [] for label in teams}
    try:
        for task in make_tasks(runs, 9000):
            for label, team in teams.items():
                begun = time.perf_counter()
                team.run(task)
                if label != "on_not_waited":
                    wait_for_recordings()
                samples[label].append(time.perf_counter() - begun)
    finally:
        store.add_runs = add_runs  # type: ignore[method-assign]
    figures = {f"{label}_ms": round(statistics.median(values) * 1000, 2) for label, values in samples.items()}
    figures["write_ms"] = round(statistics.median(writes) * 1000, 2)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=40)
    parser.add_argument("--held-out", type=int, default=30)
    parser.add_argument("--fresh", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--base-rate", type=float, default=0.4)
    parser.add_argument("--guided-rate", type=float, default=0.9)
    parser.add_argument("--sloppy-rate", type=float, default=0.1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as state:
        os.environ["XDG_STATE_HOME"] = state  # the optimizer's file lives in a throwaway state directory
        figures = run(args)
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    sys.exit(main())
