"""``purpose-agent optimize`` as a real subprocess: fingerprint, propose, shadow, status, export, rollback.

The model and critic come from a real distribution written into a temporary site directory (a
module and a dist-info with entry points), so the command line finds them the way it finds any
installed plugin; the runs to learn from are recorded in this process into the same state directory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from optimize_kit import CAREFUL, arithmetic_team, optimize_kernel, run_and_record, task

FIXTURE_MODULE = f'''
"""A model whose success depends on its instructions, and the critic that checks its sums."""
import json
from purpose_agent.hookspecs import hookimpl
from purpose_agent.testing import FunctionBackend
from optimize_kit import ArithmeticCritic, instruction_sensitive_reply

PURPOSE_AGENT_HOOK_API = "1.0"
PROPOSAL = json.dumps({{"candidates": [{{"instruction": "Always {CAREFUL}: add twice and compare.",
                                       "rationale": "the failed sums were off by one"}}]}})


def reply(request):
    if "You improve the standing instructions" in request.messages[-1].content:
        return PROPOSAL
    return instruction_sensitive_reply(request)


@hookimpl
def register_backends(register):
    register("arith", lambda model, context: FunctionBackend(reply, name="arith:" + model))


@hookimpl
def register_critics(register):
    register("arithmetic", lambda context: ArithmeticCritic())
'''


@pytest.fixture
def env(tmp_path, state_dir):
    site = tmp_path / "site"
    site.mkdir()
    (site / "pa_optimize_fixture.py").write_text(FIXTURE_MODULE)
    info = site / "pa_optimize_fixture-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: pa-optimize-fixture\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[purpose_agent.backend]\narith = pa_optimize_fixture\n\n"
                                           "[purpose_agent.critic]\narith = pa_optimize_fixture\n")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PURPOSE_AGENT")}
    environ.update(HOME=str(tmp_path / "home"), XDG_STATE_HOME=str(tmp_path / "state"),
                   XDG_CACHE_HOME=str(tmp_path / "cache"), XDG_CONFIG_HOME=str(tmp_path / "config"),
                   PURPOSE_AGENT_CONFIG=str(tmp_path / "purpose-agent.toml"),
                   PYTHONPATH=os.pathsep.join([str(site), str(Path(__file__).parent)]))
    # The semantic scanner loads a sentence model; the rule scanners are enough to screen here.
    (tmp_path / "purpose-agent.toml").write_text("[plugins.immune-semantic]\nenabled = false\n")
    return environ


def optimize(env, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "purpose_agent", "optimize", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=180)


def last_json(done: subprocess.CompletedProcess[str]) -> dict:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_whole_loop_from_the_command_line(tmp_path, env):
    run_and_record(arithmetic_team(optimize_kernel()), [task(n) for n in range(1, 9)])  # 4 of 8 succeed

    prints = last_json(optimize(env, tmp_path, "fingerprint", "--json"))["fingerprints"]
    assert [(p["role"], p["runs"], p["successes"]) for p in prints] == [("solver", 8, 4)]
    shown = optimize(env, tmp_path, "fingerprint").stdout
    assert "solver on 'Do arithmetic': 4/8 succeeded (50%, 95% CI 22%-78%)" in shown and "low_score: 4" in shown

    proposed = last_json(optimize(env, tmp_path, "propose", "--role", "solver", "--model", "arith:proposer", "--json"))
    [candidate] = proposed["candidates"]
    assert CAREFUL in candidate["text"] and candidate["version"] == 1

    tasks = tmp_path / "held-out.txt"
    tasks.write_text("\n".join(task(n) for n in range(100, 110)) + "\n")
    shadow = optimize(env, tmp_path, "shadow", "--role", "solver", "--candidate", "1", "--tasks", str(tasks),
                      "--purpose", "Do arithmetic", "--model", "arith:x", "--critic", "arithmetic", "--json")
    verdict = last_json(shadow)
    assert (verdict["baseline_successes"], verdict["candidate_successes"], verdict["adopted"]) == (5, 10, True)
    assert "adopted: 5 wins, 0 losses on 10 paired tasks, sign test p = 0.0312" in shadow.stdout

    [role] = last_json(optimize(env, tmp_path, "status", "--json"))["roles"]
    assert (role["role"], role["label"], role["action"], role["adopted_version"]) == ("solver", "improving",
                                                                                    "keep optimizing", 1)

    out = tmp_path / "train.jsonl"
    exported = last_json(optimize(env, tmp_path, "export", "--out", str(out), "--min-score", "0.8", "--plan", "--json"))
    assert exported["export"]["written"] == 4 and exported["export"]["below_score"] == 4
    assert exported["plan"]["dry_run"] is True and exported["plan"]["train_rows"] == 4
    assert all(json.loads(line)["metadata"]["score"] == 1.0 for line in out.read_text().splitlines())

    rolled = optimize(env, tmp_path, "rollback", "--role", "solver")
    assert rolled.returncode == 0 and "now runs with no pack" in rolled.stdout


def test_bad_input_gets_one_sentence_and_exit_2(tmp_path, env):
    cases = [
        (("export",), "export needs --out FILE (or --plan for a dry-run training plan)"),
        (("export", "--plan", "--min-score", "8"), "--min-score is on 0..1"),
        (("rollback", "--role", "nobody"), "role 'nobody' runs with no adopted pack, so there is nothing to roll back"),
        (("shadow", "--role", "solver", "--candidate", "1", "--tasks", str(tmp_path / "missing.txt"), "--purpose", "p"),
         "cannot read the tasks file"),
        (("propose", "--role", "solver", "--model", "arith:x"), "has no recorded failed runs to learn from"),
    ]
    for args, sentence in cases:
        done = optimize(env, tmp_path, *args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert sentence in done.stderr and "Traceback" not in done.stderr, (args, done.stderr)


def test_status_act_rolls_a_degrading_role_back_and_a_plateau_stops_propose(tmp_path, env):
    import time

    import purpose_agent_optimize

    store = purpose_agent_optimize.open_store(optimize_kernel())
    good = store.add_pack("solver", "good", origin="manual")
    bad = store.add_pack("solver", "bad", origin="manual")
    store.adopt("solver", good.version, "manual")

    def record(prefix: str, at: float, successes: int) -> None:
        store.add_runs([{"member_run_id": f"{prefix}{i}", "run_id": f"{prefix}{i}", "recorded_at": at + i * 1e-3,
                         "role": "solver", "task_family": "f", "task": "t", "failure_kind": "" if i < successes else
                         "low_score", "stopped": "answer", "success": i < successes} for i in range(20)])

    record("before", time.time() - 100, successes=19)
    adopted = store.adopt("solver", bad.version, "manual")
    record("after", adopted.at + 1e-3, successes=6)
    time.sleep(0.05)

    [role] = last_json(optimize(env, tmp_path, "status", "--act", "--json"))["roles"]
    assert (role["label"], role["action"], role["done"]) == ("degrading", "roll back",
                                                             f"rolled back role 'solver' to pack version {good.version}")
    assert store.adopted("solver").version == good.version

    for _ in range(3):
        store.add_decision("other", None, 1, False, {"reason": "no gain"})
    store.add_runs([{"member_run_id": "o1", "run_id": "o1", "recorded_at": time.time(), "role": "other",
                     "task_family": "f", "task": "t", "failure_kind": "low_score", "stopped": "answer",
                     "success": False, "critic_reason": "", "answer": None}])
    refused = optimize(env, tmp_path, "propose", "--role", "other", "--model", "arith:x")
    assert refused.returncode == 2 and "the policy says stop for role 'other' (plateau" in refused.stderr
    forced = optimize(env, tmp_path, "propose", "--role", "other", "--model", "arith:x", "--force")
    assert forced.returncode == 0, forced.stderr
