"""Capability fingerprints, the statistics under them, and the policy's labels and actions."""

from __future__ import annotations

import time

import pytest
from optimize_kit import arithmetic_team, optimize_kernel, run_and_record, store_with_solver_packs, task

import purpose_agent_optimize
from purpose_agent_optimize.fingerprints import fingerprints
from purpose_agent_optimize.policy import KEEP_OPTIMIZING, ROLL_BACK, STOP, Thresholds, act, judge, verdict_for
from purpose_agent_optimize.stats import paired_bootstrap_ci, sign_test, wilson_interval
from purpose_agent_optimize.store import Decision


def test_fingerprints_per_role_and_family_from_recorded_runs():
    kernel = optimize_kernel()
    run_and_record(arithmetic_team(kernel, roles=("solver", "checker")), [task(n) for n in range(8)])
    prints = fingerprints(purpose_agent_optimize.open_store(kernel).runs())
    assert [(fp.role, fp.task_family) for fp in prints] == [("checker", "Do arithmetic"), ("solver", "Do arithmetic")]
    solver = prints[1]
    assert (solver.runs, solver.successes, solver.success_rate) == (8, 4, 0.5)
    assert solver.success_ci == pytest.approx(wilson_interval(4, 8)) and solver.success_ci[0] < 0.5 < solver.success_ci[1]
    assert solver.steps_mean == 1.0 and solver.tool_calls_mean == 0.0 and solver.tokens_mean > 0
    assert solver.failure_kinds["low_score"]["count"] == 4 and solver.failure_kinds["low_score"]["share"] == 0.5


def test_wilson_sign_test_and_bootstrap_known_values():
    low, high = wilson_interval(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-4) and high == pytest.approx(0.7634, abs=1e-4)
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(10, 10)[1] == 1.0
    assert sign_test(5, 0) == pytest.approx(1 / 32) and sign_test(4, 0) == pytest.approx(1 / 16)
    assert sign_test(6, 2) == pytest.approx(37 / 256) and sign_test(0, 0) == 1.0
    assert paired_bootstrap_ci([1.0] * 10) == (1.0, 1.0)
    interval = paired_bootstrap_ci([1.0] * 5 + [0.0] * 5)
    assert 0.1 < interval[0] < 0.5 < interval[1] < 0.9


def runs(successes: list[bool], start: float = 0.0) -> list[dict]:
    return [{"success": s, "recorded_at": start + i} for i, s in enumerate(successes)]


def decision(adopted: bool) -> Decision:
    return Decision("solver", None, 1, adopted, 0.0, {"reason": "test"})


def test_the_labels_and_their_thresholds():
    steady = runs([True, False] * 20)
    assert judge("solver", steady, [], None).label == "insufficient data"
    improving = judge("solver", steady, [decision(False), decision(True)], 1)
    assert (improving.label, improving.action) == ("improving", KEEP_OPTIMIZING)
    plateau = judge("solver", steady, [decision(True), decision(False), decision(False), decision(False)], 1)
    assert (plateau.label, plateau.action) == ("plateau", STOP)
    # two misses are not yet a plateau (patience 3)
    assert judge("solver", steady, [decision(False), decision(False)], None).label == "insufficient data"

    fell = runs([True] * 18 + [False] * 2 + [True] * 10 + [False] * 10)  # 90% -> 50%
    degrading = judge("solver", fell, [decision(True)], 2)
    assert (degrading.label, degrading.action) == ("degrading", ROLL_BACK)
    assert "fell from 90%" in degrading.reason and "to 50%" in degrading.reason
    assert judge("solver", fell, [], None).action == STOP  # nothing to roll back
    # 90% -> 80% is within the noise of 20 runs
    wobble = runs([True] * 18 + [False] * 2 + [True] * 16 + [False] * 4)
    assert judge("solver", wobble, [decision(True)], 2).label == "improving"
    # too few runs in a window to call a drop
    short = runs([True] * 9 + [False] * 9)
    assert judge("solver", short, [], None, Thresholds(window=9, min_window_runs=10)).label == "insufficient data"


def test_the_windows_split_at_the_last_pack_change():
    history = runs([True] * 20 + [False] * 20)
    assert judge("solver", history, [], 1, changed_at=19.5).label == "degrading"
    # after a rollback at 39.5 there are no runs yet: the drop that caused it is not judged again
    assert judge("solver", history, [], None, changed_at=39.5).label == "insufficient data"


def test_a_degrading_role_is_rolled_back():
    store, (good, bad) = store_with_solver_packs(optimize_kernel(), "good", "bad")
    store.add_runs([{"member_run_id": f"a{i}", "run_id": f"a{i}", "recorded_at": 1.0 + i, "role": "solver",
                     "task_family": "f", "success": True} for i in range(20)])
    adopted_bad = store.adopt("solver", bad.version, "manual")
    # runs recorded after the bad pack was adopted (and before anything that follows)
    store.add_runs([{"member_run_id": f"b{i}", "run_id": f"b{i}", "recorded_at": adopted_bad.at + (i + 1) * 1e-6,
                     "role": "solver", "task_family": "f", "success": i < 5} for i in range(20)])
    time.sleep(0.01)
    verdict = verdict_for(store, "solver")
    assert (verdict.label, verdict.action, verdict.adopted_version) == ("degrading", ROLL_BACK, bad.version)
    assert act(store, verdict) == f"rolled back role 'solver' to pack version {good.version}"
    assert store.adopted("solver").version == good.version
    assert verdict_for(store, "solver").label == "insufficient data"  # not rolled back twice
