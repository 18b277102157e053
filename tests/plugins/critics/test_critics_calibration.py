"""The calibrated critic: the calibration math against hand-computed cases, the verdicts, the
composition built through the kernel (grounded preferred where the model is unreliable, events),
the grounded critics, the store surviving a killed writer, and the CLI in a subprocess."""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from critic_fakes import OracleSandbox, judge_plugin
from test_critics_conformance import _real_sandbox_problem

import purpose_agent_critics
from purpose_agent.errors import PurposeAgentError
from purpose_agent.models import Action, Observation, Score, Step, Trajectory
from purpose_agent.testing import make_kernel, plugin
from purpose_agent_conformance import CriticConformance
from purpose_agent_critics.calibrated import task_family
from purpose_agent_critics.calibration import INSUFFICIENT, RELIABLE, UNRELIABLE, agreement, assess, fit_isotonic
from purpose_agent_critics.calibration_store import CalibrationStore
from purpose_agent_critics.grounded import grounded_outcome

# --------------------------------------------------------------------------- the math


def test_isotonic_pools_adjacent_violators_as_by_hand() -> None:
    # 0, 1, 0, 1 on scores 1..4: the middle pair violates order and pools to 0.5.
    mapping = fit_isotonic([1, 2, 3, 4], [0, 1, 0, 1])
    assert mapping.knots == (1.0, 2.0, 3.0, 4.0)
    assert mapping.probabilities == (0.0, 0.5, 0.5, 1.0)
    assert mapping(2.5) == 0.5 and mapping(3.5) == 0.75  # linear between knots


def test_isotonic_weights_tied_scores_by_their_count() -> None:
    # Three judgements of 5 (one success) and one of 9 (a success): no violation, 5 -> 1/3.
    mapping = fit_isotonic([5, 5, 5, 9], [1, 0, 0, 1])
    assert mapping.knots == (5.0, 9.0)
    assert mapping.probabilities == pytest.approx((1 / 3, 1.0))
    # One 5 that succeeds, three 9s of which one succeeds: 1 > 1/3 violates, pooled (1 + 1) / 4.
    pooled = fit_isotonic([5, 9, 9, 9], [1, 0, 0, 1])
    assert pooled.probabilities == pytest.approx((0.5, 0.5))


def test_the_mapping_is_monotone_and_independent_of_order() -> None:
    rng = random.Random(3)
    scores = [rng.choice([0, 1, 2, 3, 5, 7, 8, 9, 10]) for _ in range(300)]
    outcomes = [int(rng.random() < (0.2 + 0.06 * s)) for s in scores]
    mapping = fit_isotonic(scores, outcomes)
    assert all(a <= b for a, b in itertools.pairwise(mapping.probabilities))
    values = [mapping(x / 4) for x in range(41)]
    assert all(a <= b + 1e-12 for a, b in itertools.pairwise(values))
    order = list(range(300))
    rng.shuffle(order)
    assert fit_isotonic([scores[i] for i in order], [outcomes[i] for i in order]) == mapping


def test_the_mapping_says_nothing_outside_the_scores_it_saw() -> None:
    mapping = fit_isotonic([1, 8, 8], [0, 0, 0])
    assert mapping.covers(1) and mapping.covers(8) and not mapping.covers(9) and not mapping.covers(0.5)
    with pytest.raises(ValueError, match="fitted on no judgements"):
        fit_isotonic([], [])(5)


def test_agreement_figures_as_by_hand() -> None:
    figures = agreement([9, 8, 2, 1, 9], [1, 0, 0, 0, 0], threshold=7)
    assert figures.samples == 5 and figures.successes == 1
    assert figures.accuracy == pytest.approx(3 / 5)
    # p(said success) 0.6, p(success) 0.2: chance agreement 0.6*0.2 + 0.4*0.8 = 0.44
    assert figures.kappa == pytest.approx((0.6 - 0.44) / (1 - 0.44))
    # the success (9) beats 8, 2, 1 and ties the other 9: (3 + 0.5) / 4
    assert figures.auc == pytest.approx(3.5 / 4)
    assert figures.brier_raw == pytest.approx((0.01 + 0.64 + 0.04 + 0.01 + 0.81) / 5)
    # isotonic: 1 -> 0, 2 -> 0, 8 -> 0, 9 -> 0.5 (one of two 9s succeeded)
    assert figures.brier_calibrated == pytest.approx((0.25 + 0 + 0 + 0 + 0.25) / 5)


def test_agreement_without_both_outcomes_has_no_auc_and_no_kappa_when_chance_is_total() -> None:
    figures = agreement([9, 9, 9], [1, 1, 1])
    assert figures.auc is None and figures.kappa is None and figures.accuracy == 1.0
    with pytest.raises(ValueError, match="one outcome per score"):
        agreement([1, 2], [1])


def test_verdicts_insufficient_unreliable_reliable_with_sentences() -> None:
    few = assess("judge/x", "sql", [9, 1, 9], [1, 0, 1], min_samples=20)
    assert few.status == INSUFFICIENT and few.calibrated(9) is None
    assert "has 3 grounded judgement(s) on family 'sql'; 20 are needed" in few.reason
    # 52% agreement over 25 runs: 13 right, 12 failures scored 8.
    scores, outcomes = [9] * 13 + [8] * 12, [1] * 13 + [0] * 12
    bad = assess("judge/x", "sql", scores, outcomes, min_samples=20, min_agreement=0.8)
    assert bad.status == UNRELIABLE
    assert bad.reason == ("model critic judge/x agrees with the grounded outcome 52% on family 'sql' over 25 runs "
                          "(needs 80%)")
    assert bad.calibrated(8) == 0.0 and bad.calibrated(9) == 10.0  # miscalibrated but separable: repaired
    good = assess("judge/x", "sql", [9] * 18 + [1] * 5, [1] * 18 + [0] * 5, min_samples=20)
    assert good.status == RELIABLE and "agrees with the grounded outcome 100%" in good.reason


# --------------------------------------------------------------------------- task family


def _run(task: str, *, reward: float | None = None, answer: str = "done", purpose: str = "") -> Trajectory:
    steps = []
    if reward is not None:
        steps.append(Step(index=0, action=Action(kind="tool", tool="env"),
                          observation=Observation(output=f"reward {reward}", data={"reward": reward})))
    return Trajectory(task=task, purpose=purpose, steps=steps, final_answer=answer)


def test_task_family_tag_then_option_then_heuristic() -> None:
    assert task_family(_run("Fix the parser [family: SQL-repair]")) == "sql-repair"
    assert task_family(_run("Fix it", purpose="maintain the db [Family: migrations]")) == "migrations"
    assert task_family(_run("Fix it"), lambda t: "named") == "named"
    assert task_family(_run("Open the red door (layout UnlockLocal #7)\nmore")) == "open red door"
    assert task_family(_run('Write "hello" 3 times in a file')) == "write times in"
    assert task_family(_run("   ")) == "untitled"


# --------------------------------------------------------------------------- grounded critics


def test_reward_critic_reads_the_newest_reward_and_says_when_there_is_none() -> None:
    critic = make_kernel(purpose_agent_critics).critic("reward")
    assert grounded_outcome(critic.score(_run("t", reward=1.0))) is True
    assert critic.score(_run("t", reward=0.0)).value == 0.0
    assert grounded_outcome(critic.score(_run("t", reward=0.0))) is False
    none = critic.score(_run("t"))
    assert grounded_outcome(none) is None and "no environment reward" in none.reason
    odd = critic.score(_run("t", reward="yes"))  # type: ignore[arg-type]
    assert grounded_outcome(odd) is None and "not a number" in odd.reason


def test_falsification_scores_are_grounded_only_when_assertions_ran() -> None:
    ran = Score(value=10, critic="falsification", details={"kept": 3, "passed": 3})
    partly = Score(value=5, critic="falsification", details={"kept": 2, "passed": 1})
    refused = Score(value=0, critic="falsification", details={"error": "no sandbox"})
    judged = Score(value=9, critic="standard", details={})
    assert [grounded_outcome(s) for s in (ran, partly, refused, judged)] == [True, False, None, None]


def _add_oracle(candidate: str, assertion: str) -> bool:
    return "a + b" in candidate and "add(" in assertion


def test_hidden_tests_run_through_the_sandbox_harness() -> None:
    sandbox = OracleSandbox(_add_oracle)
    tests = {"write add": ["assert add(1, 2) == 3", "assert add(-1, 1) == 0"]}
    critic = make_kernel(purpose_agent_critics).critic("hidden-tests", sandbox=sandbox, tests=tests)
    good = critic.score(Trajectory(task="write add", final_answer="```python\ndef add(a, b):\n    return a + b\n```"))
    assert good.value == 10.0 and grounded_outcome(good) is True and good.reason == "2 of 2 hidden tests passed"
    assert [a["code"] for a in sandbox.calls[0]["spec"]["assertions"]] == tests["write add"]
    bad = critic.score(Trajectory(task="write add", final_answer="```python\ndef add(a, b):\n    return a - b\n```"))
    assert bad.value == 0.0 and grounded_outcome(bad) is False
    untested = critic.score(Trajectory(task="other", final_answer="def f(): pass"))
    assert grounded_outcome(untested) is None and len(sandbox.calls) == 2
    unconfined = make_kernel(purpose_agent_critics).critic("hidden-tests", sandbox=None, tests=tests)
    refused = unconfined.score(Trajectory(task="write add", final_answer="def add(a, b): return a + b"))
    assert grounded_outcome(refused) is None and "refusing to run" in refused.reason


# --------------------------------------------------------------------------- the composition


class FamilyJudge:
    """A model critic right on every family but ``sloppy``, where it scores failures 8."""

    name = "judge"

    def score(self, trajectory: Trajectory) -> Score:
        if trajectory.final_answer == "solved":
            return Score(value=9.0, critic=self.name, reason="looks solved")
        if task_family(trajectory) == "sloppy":
            return Score(value=8.0, critic=self.name, reason="looks nearly solved")
        return Score(value=1.0, critic=self.name, reason="not solved")


def _calibrated(tmp_path: Path, events: list[Any] | None = None, **settings: Any) -> Any:
    watcher = plugin("watcher", on_event=lambda event: events.append(event) if events is not None else None)
    kernel = make_kernel(purpose_agent_critics, watcher,
                         config={"plugins": {"critics": {"min_samples": 6, "min_agreement": 0.8, **settings}}})
    return kernel.critic("calibrated", critic=FamilyJudge(), calibration_path=str(tmp_path / "cal.sqlite"))


def _episode(family: str, success: bool, *, grounded: bool = True) -> Trajectory:
    return _run(f"task [family: {family}]", reward=(1.0 if success else 0.0) if grounded else None,
                answer="solved" if success else "gave up")


def test_unreliable_family_prefers_the_grounded_critic_and_says_why(tmp_path: Path) -> None:
    events: list[Any] = []
    critic = _calibrated(tmp_path, events)
    for i in range(8):
        score = critic.score(_episode("sloppy", success=i % 4 == 0))
    assert score.details["status"] == UNRELIABLE and score.details["used"] == "grounded"
    assert score.value == 0.0 and score.details["raw_score"] == 8.0
    assert "[grounded critic preferred: model critic judge agrees with the grounded outcome 25% on family 'sloppy' " \
           "over 8 runs (needs 80%)]" in score.reason
    unreliable = [e for e in events if e.type == "critic.unreliable"]
    assert len(unreliable) == 1 and unreliable[0].data["family"] == "sloppy"  # once, when it turned
    assert unreliable[0].data["figures"]["samples"] == 6 and unreliable[0].run_id
    # Without ground truth the calibrated probability is reported: 8 means failure on this family.
    blind = critic.score(_episode("sloppy", success=False, grounded=False))
    assert blind.details["used"] == "calibrated" and blind.value == 0.0 and "unreliable" in blind.reason
    assert critic.score(_episode("sloppy", success=True, grounded=False)).value == 10.0


def test_reliable_family_reports_calibrated_model_scores(tmp_path: Path) -> None:
    critic = _calibrated(tmp_path)
    for i in range(6):
        critic.score(_episode("tidy", success=i % 2 == 0))
    grounded_run = critic.score(_episode("tidy", success=True))
    assert grounded_run.details["status"] == RELIABLE and grounded_run.details["used"] == "calibrated"
    blind = critic.score(_episode("tidy", success=False, grounded=False))
    assert blind.details["used"] == "calibrated" and blind.value == 0.0 and "raw 1 -> 0" in blind.reason


def test_too_few_samples_uses_ground_truth_when_known_and_the_raw_score_otherwise(tmp_path: Path) -> None:
    critic = _calibrated(tmp_path)
    first = critic.score(_episode("new", success=False))
    assert first.details["status"] == INSUFFICIENT and first.details["used"] == "grounded" and first.value == 0.0
    blind = critic.score(_episode("new", success=False, grounded=False))
    assert blind.details["used"] == "raw" and blind.value == 1.0
    assert "[uncalibrated: model critic judge has 1 grounded judgement(s) on family 'new'; 6 are needed" in blind.reason


def test_a_state_scored_twice_is_one_sample_and_samples_persist(tmp_path: Path) -> None:
    critic = _calibrated(tmp_path)
    run = _episode("tidy", success=True)
    critic.score(run)
    critic.score(run)
    assert critic.assessment("tidy").figures.samples == 1
    again = _calibrated(tmp_path)  # a new kernel and critic over the same file
    assert again.assessment("tidy").figures.samples == 1


def test_a_score_outside_the_recorded_range_is_not_extrapolated(tmp_path: Path) -> None:
    critic = _calibrated(tmp_path)
    for _ in range(6):
        critic.score(_episode("sloppy", success=False))  # only 8s recorded, all failures
    blind = critic.score(_episode("sloppy", success=True, grounded=False))  # a 9: never seen here
    assert blind.details["used"] == "raw" and blind.value == 9.0
    assert "raw score 9 is outside the scores recorded for family 'sloppy' (8-8)" in blind.reason


def test_the_calibrated_critic_cannot_wrap_itself(tmp_path: Path) -> None:
    kernel = make_kernel(purpose_agent_critics, config={"plugins": {"critics": {"calibrated_critic": "calibrated"}}})
    with pytest.raises(PurposeAgentError, match="cannot wrap itself"):
        kernel.critic("calibrated", calibration_path=str(tmp_path / "c.sqlite"))


class TestCalibratedConformance(CriticConformance):
    """Built from names and settings alone (standard judge, reward grounding), through the kernel."""

    plugin = purpose_agent_critics
    plugin_id = "critics"
    critic_name = "calibrated"
    extra_plugins = [judge_plugin()]
    config = {"plugins": {"critics": {"model": "judge:gullible", "calibrated_critic": "standard",
                                      "grounded_critic": "reward"}}}

    @pytest.fixture(autouse=True)
    def _store_in(self, tmp_path: Path) -> None:
        self.store_path = tmp_path / "conformance.sqlite"

    def critic_options(self) -> dict[str, Any]:
        return {"calibration_path": str(self.store_path)}


# --------------------------------------------------------------------------- the store


_WRITER = textwrap.dedent("""
    import sys
    from purpose_agent_critics.calibration_store import CalibrationStore
    store = CalibrationStore(sys.argv[1])
    i = 0
    while True:
        store.record(model="judge/x", family="f", raw_score=i % 11, outcome=i % 2 == 0, grounded_by="reward",
                     state_key=f"run-{i}")
        print(i, flush=True)
        i += 1
""")


def test_the_store_survives_a_writer_killed_mid_write(tmp_path: Path) -> None:
    path = tmp_path / "cal.sqlite"
    writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    assert writer.stdout is not None
    confirmed = -1
    deadline = time.monotonic() + 60
    while confirmed < 300 and time.monotonic() < deadline:
        confirmed = int(writer.stdout.readline())
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait(timeout=10)
    assert confirmed >= 300, "the writer did not get going"
    # Lines printed before the kill that were not read yet: the last one is the last confirmed row.
    confirmed = max([confirmed, *(int(line) for line in writer.stdout.read().split())])
    check = sqlite3.connect(str(path))
    assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    check.close()
    store = CalibrationStore(path)
    scores, outcomes = store.samples("judge/x", "f", limit=100_000)
    # Every row the writer confirmed is there (one more may have committed before its print).
    assert confirmed + 1 <= len(scores) <= confirmed + 2
    assert scores[:3] == [0.0, 1.0, 2.0] and outcomes[:3] == [1, 0, 1]
    assert store.record(model="judge/x", family="f", raw_score=5, outcome=True, grounded_by="reward", state_key="after")
    store.close()


# --------------------------------------------------------------------------- the CLI


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PURPOSE_AGENT")}
    env.update(HOME=str(tmp_path / "home"), XDG_STATE_HOME=str(tmp_path / "state"),
               XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_CACHE_HOME=str(tmp_path / "cache"))
    return subprocess.run([sys.executable, "-m", "purpose_agent", "critics", *args], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=120)


def test_cli_lists_calibration_per_model_and_family(tmp_path: Path) -> None:
    empty = _cli(tmp_path, "calibration")
    assert empty.returncode == 0 and "no calibration recorded yet" in empty.stderr
    store = CalibrationStore(tmp_path / "state" / "purpose-agent" / "critic-calibration.sqlite")
    for i in range(25):
        store.record(model="standard/judge:x", family="sloppy", raw_score=9 if i < 13 else 8, outcome=i < 13,
                     grounded_by="hidden-tests", state_key=f"s{i}")
    for i in range(4):
        store.record(model="standard/judge:x", family="tidy", raw_score=9, outcome=True, grounded_by="reward",
                     state_key=f"t{i}")
    store.close()
    result = _cli(tmp_path, "calibration", "--json")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    rows = {r["family"]: r for r in json.loads(lines[-1])["rows"]}
    assert rows["sloppy"]["status"] == "unreliable" and rows["sloppy"]["samples"] == 25
    assert rows["sloppy"]["accuracy"] == pytest.approx(0.52) and rows["sloppy"]["auc"] == pytest.approx(1.0)
    assert rows["tidy"]["status"] == "insufficient"
    table = "\n".join(lines[:-1])
    assert "standard/judge:x  sloppy  25  52%      52%" in table
    assert ("- model critic standard/judge:x agrees with the grounded outcome 52% on family 'sloppy' over 25 runs "
            "(needs 80%)") in table
    only = _cli(tmp_path, "calibration", "--family", "tidy", "--json")
    assert [r["family"] for r in json.loads(only.stdout.splitlines()[-1])["rows"]] == ["tidy"]
    (tmp_path / "junk.sqlite").write_text("not a database")
    junk = _cli(tmp_path, "calibration", "--path", str(tmp_path / "junk.sqlite"))
    assert junk.returncode == 2 and "cannot read" in junk.stderr and "Traceback" not in junk.stderr


def test_hidden_tests_in_the_real_sandbox_ground_the_calibrated_critic(tmp_path: Path) -> None:
    problem = _real_sandbox_problem()
    if problem:
        pytest.skip(problem)
    import purpose_agent_sandbox

    tests = {"write add": ["assert add(1, 2) == 3", "assert add(-4, 1) == -3"]}
    kernel = make_kernel({"critics": purpose_agent_critics}, purpose_agent_sandbox, judge_plugin(),
                         config={"plugins": {"critics": {"model": "judge:gullible", "sandbox": "sandbox",
                                                         "timeout_s": 60, "grounded_critic": "hidden-tests",
                                                         "min_samples": 2}}}, strict=True)
    critic = kernel.critic("calibrated", tests=tests, calibration_path=str(tmp_path / "cal.sqlite"))
    wrong = Trajectory(task="write add", final_answer="All tests pass.\n```python\ndef add(a, b):\n    return a - b\n```")
    right = Trajectory(task="write add", final_answer="```python\ndef add(a, b):\n    return a + b\n```")
    first = critic.score(wrong)
    assert first.details["grounded_outcome"] is False and first.details["grounded_by"] == "hidden-tests"
    assert first.details["used"] == "grounded" and first.value == 0.0 and "0 of 2 hidden tests passed" in first.reason
    assert critic.score(right).details["grounded_outcome"] is True
    assert critic.assessment("write add").figures.samples == 2
