"""Recording: every finished team run becomes one record per member role, written atomically."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from optimize_kit import CAREFUL, arithmetic_team, optimize_kernel, run_and_record, task

import purpose_agent as pa
import purpose_agent_optimize
from purpose_agent.testing import FunctionBackend, ScriptedBackend
from purpose_agent_optimize.traces import failure_kind, wait_for_recordings


def test_a_team_run_is_recorded_per_member_with_its_figures(state_dir):
    kernel = optimize_kernel()
    [result] = run_and_record(arithmetic_team(kernel, roles=("solver", "checker")), [task(3)])
    records = purpose_agent_optimize.open_store(kernel).runs()
    assert [r["role"] for r in records] == ["solver", "checker"]
    for record in records:
        assert record["run_id"] == records[0]["run_id"] and record["task"] == task(3)
        assert record["task_family"] == "Do arithmetic" and record["steps"] == 1 and record["tool_calls"] == 0
        assert record["prompt_tokens"] > 0 and record["completion_tokens"] > 0
        # task(3) = 3 + 9: the first number is odd, so without a pack the model is wrong
        assert record["score"] == 1.0 == result.score.value and record["critic_reason"] == "expected 12"
        assert (record["success"], record["failure_kind"]) == (False, "low_score")
    assert (state_dir / "optimize" / "optimize.sqlite").is_file()


def test_tool_output_is_recorded_with_its_provenance_as_untrusted():
    @pa.tool
    def lookup(key: str) -> str:
        """Look a value up."""
        return f"value of {key}: 12"

    kernel = optimize_kernel()
    model = ScriptedBackend([ScriptedBackend.tool_call("lookup", key="sum"), ScriptedBackend.answer("12")])
    run_and_record(arithmetic_team(kernel, model=model, tools=[lookup]), [task(3)])
    [record] = purpose_agent_optimize.open_store(kernel).runs()
    assert record["success"] and record["tool_calls"] == 1 and record["steps"] == 2
    observation = record["trajectory"][0]["observation"]
    assert observation["output"] == "value of sum: 12" and observation["untrusted"] is True
    assert record["untrusted"] == [{"step": 0, "origin": "tool:lookup", "screened": False, "flagged": []}]


def test_a_run_that_raises_is_recorded_as_a_team_error():
    def broken(request):
        raise KeyboardInterrupt  # not an Exception: the loop does not absorb it, the team run raises

    kernel = optimize_kernel()
    team = arithmetic_team(kernel, model=FunctionBackend(broken))
    try:
        team.run(task(2))
    except KeyboardInterrupt:
        pass
    assert wait_for_recordings()
    [record] = purpose_agent_optimize.open_store(kernel).runs()
    assert record["failure_kind"] == "team_error" and record["stopped"] == "KeyboardInterrupt: "


def test_recording_is_switched_off_in_the_settings(state_dir):
    kernel = optimize_kernel(settings={"record": False})
    run_and_record(arithmetic_team(kernel), [task(2)])
    assert not (state_dir / "optimize").exists()


def test_failure_kinds_from_stop_reasons():
    assert failure_kind("answer", True, 9.0, 7.0) == ""
    assert failure_kind("answer", True, 3.0, 7.0) == "low_score"
    assert failure_kind("answer", True, None, 7.0) == "unscored"
    assert failure_kind("budget: 6 steps", False, 0.0, 7.0) == "budget"
    assert failure_kind("done: stopped safely: the reply could not be used", False, 0.0, 7.0) == "unusable_reply"
    assert failure_kind("done: nothing to do", False, 0.0, 7.0) == "gave_up"
    assert failure_kind("error: TimeoutError: slow", False, 0.0, 7.0) == "error"
    assert failure_kind("cancelled", False, None, 7.0) == "cancelled"


WRITER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {kit!r})
    from optimize_kit import arithmetic_team, optimize_kernel, task
    from purpose_agent_optimize.traces import wait_for_recordings

    # Long answers make each write take a while, so the kill is likely to land inside one.
    team = arithmetic_team(optimize_kernel(), roles=("solver", "checker", "reviewer"))
    number = 0
    while True:
        team.run(task(number) + " " + "x" * 200_000)
        number += 1
        wait_for_recordings()
        print("committed", number, flush=True)
""")


def test_a_writer_killed_with_sigkill_leaves_whole_runs_only(tmp_path, state_dir):
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    script = WRITER.format(kit=str(Path(__file__).parent))
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env)
    committed = 0
    try:
        assert process.stdout is not None
        while committed < 6:
            line = process.stdout.readline()
            assert line, f"the writer stopped: {process.stderr.read() if process.stderr else ''}"
            committed = int(line.split()[1])
        time.sleep(0.05)  # into the next run
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    path = state_dir / "optimize" / "optimize.sqlite"
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = connection.execute("SELECT run_id, role, record FROM runs").fetchall()
    runs: dict[str, set[str]] = {}
    for run_id, role, record in rows:
        assert record.startswith("{") and record.endswith("}")
        runs.setdefault(run_id, set()).add(role)
    assert len(runs) >= committed, "a run reported as committed is missing"
    assert all(roles == {"solver", "checker", "reviewer"} for roles in runs.values()), "a run was torn"


def test_recorded_packs_are_the_ones_the_roles_ran_with():
    kernel = optimize_kernel()
    store = purpose_agent_optimize.open_store(kernel)
    pack = store.add_pack("solver", f"Always {CAREFUL}.", origin="manual")
    store.adopt("solver", pack.version, "manual")
    run_and_record(arithmetic_team(kernel, roles=("solver", "checker")), [task(3)])
    versions = {r["role"]: r["pack_version"] for r in store.runs()}
    assert versions == {"solver": pack.version, "checker": None}


def test_a_store_that_cannot_be_opened_costs_the_run_nothing(tmp_path, capfd):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the optimizer's directory should be")
    kernel = optimize_kernel(settings={"directory": str(blocker / "optimize")})
    [result] = run_and_record(arithmetic_team(kernel), [task(2)])
    assert result.score.value == 10.0  # the run went on
    err = capfd.readouterr().err
    assert "purpose-agent optimize: a run was not recorded: ValueError: cannot open the optimizer's file" in err
    assert "check the path ([plugins.optimize] directory) and its permissions" in err


def test_a_run_is_recorded_where_the_state_directory_was_when_it_ran(state_dir, tmp_path, monkeypatch):
    # The recorder thread writes later; by then the state directory's variable may name another
    # place (another test, a process that changes it): the run still goes where it ran.
    import threading

    from purpose_agent_optimize import traces

    gate = threading.Event()
    traces._writer.submit(lambda: gate.wait(10))  # hold the writer until the environment moved
    kernel = optimize_kernel()
    arithmetic_team(kernel).run(task(3))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "elsewhere"))
    gate.set()
    assert wait_for_recordings()
    moved_to = purpose_agent_optimize.open_store(kernel)
    assert moved_to.runs() == []
    monkeypatch.setenv("XDG_STATE_HOME", str(state_dir.parent))
    assert [r["task"] for r in purpose_agent_optimize.open_store(kernel).runs()] == [task(3)]
