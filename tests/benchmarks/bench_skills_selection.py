"""Selection regret of the skills plugin's choice among competing promoted versions.

Two scenarios, each over 200 uses and 20 seeds, with the real store and :meth:`SkillCI.select`
(Thompson sampling on Beta(1 + successes, 1 + failures)); only the world is simulated: each use
succeeds with its version's true rate.

* ``fresh``: two versions promoted together, true success 0.55 and 0.75.
* ``newcomer``: v1 has a record of 50 uses at its true rate 0.6; v2 (true 0.8) is promoted next to it.

Regret = the sum over uses of (best true rate - the chosen version's true rate). Compared with
choosing uniformly at random and with a greedy choice (highest posterior mean, no exploration).

    .venv/bin/python tests/benchmarks/bench_skills_selection.py

Prints one line per scenario and arm, and a JSON summary as the last line.
"""

from __future__ import annotations

import json
import random
import statistics
import tempfile
from pathlib import Path
from typing import Any

from purpose_agent_skills.card import card_from_data
from purpose_agent_skills.ci import SkillCI
from purpose_agent_skills.store import SkillStore

USES = 200
SEEDS = 20
SCENARIOS: dict[str, dict[str, Any]] = {
    "fresh": {"rates": {1: 0.55, 2: 0.75}, "history": {}},
    "newcomer": {"rates": {1: 0.6, 2: 0.8}, "history": {1: 50}},
}


def card(index: int) -> Any:
    return card_from_data({"name": "checklist", "purpose": "Prepare a release.", "steps": [f"Step ({index})."]},
                          where="benchmark")


def greedy(ci: SkillCI, rng: random.Random) -> int:
    promoted = ci.store.promoted("checklist")
    return max(promoted, key=lambda v: ((1 + v.successes) / (2 + v.uses), rng.random())).version


def uniform(ci: SkillCI, rng: random.Random) -> int:
    return rng.choice(ci.store.promoted("checklist")).version


def thompson(ci: SkillCI, rng: random.Random) -> int:
    return ci.select("checklist", rng).version


ARMS = {"thompson": thompson, "greedy": greedy, "uniform": uniform}


def one_run(directory: Path, name: str, arm: Any, seed: int) -> tuple[float, int]:
    scenario = SCENARIOS[name]
    store = SkillStore(directory / f"{name}-{arm.__name__}-{seed}.sqlite")
    ci = SkillCI(kernel=None, store=store)
    world = random.Random(1000 + seed)
    rates: dict[int, float] = scenario["rates"]
    for version in rates:
        store.add(card(version))
        store.set_status("checklist", version, "promoted", "benchmark")
        for _ in range(scenario["history"].get(version, 0)):
            store.record_use("checklist", version, {}, world.random() < rates[version])
    chooser = random.Random(seed)
    best = max(rates.values())
    regret = 0.0
    best_picks = 0
    for _ in range(USES):
        version = arm(ci, chooser)
        regret += best - rates[version]
        best_picks += rates[version] == best
        store.record_use("checklist", version, {}, world.random() < rates[version])
    return regret, best_picks


def main() -> None:
    summary: dict[str, Any] = {"uses": USES, "seeds": SEEDS}
    with tempfile.TemporaryDirectory() as tmp:
        for name in SCENARIOS:
            for arm_name, arm in ARMS.items():
                runs = [one_run(Path(tmp), name, arm, seed) for seed in range(SEEDS)]
                regrets = [r for r, _ in runs]
                share = statistics.mean(b for _, b in runs) / USES
                summary[f"{name}.{arm_name}"] = {"regret_mean": round(statistics.mean(regrets), 2),
                                                 "regret_max": round(max(regrets), 2),
                                                 "best_share": round(share, 3)}
                print(f"{name:<9} {arm_name:<9} regret mean {statistics.mean(regrets):6.2f}  max {max(regrets):6.2f}  "
                      f"best version chosen {share:.1%}")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
