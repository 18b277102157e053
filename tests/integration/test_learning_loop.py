"""The machinery of the learning benchmark (tests/benchmarks/bench_learning.py), small and fast.

BabyAI missions from ``minigrid``, the simulated policy, the scripted extractor model and the
real learning loop (SQLite store, retrieval, extraction, edits, memory CI with the real immune
scanners). See docs/learning-benchmark.md for what this simulation shows and what it does not.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytest.importorskip("minigrid", reason="the learning benchmark needs minigrid (pip install 'minigrid>=3.0')")
pytest.importorskip("purpose_agent_immune", reason="the learning benchmark needs the immune scanners (plugins/immune)")

from purpose_agent.learning.ci import MemoryCI
from purpose_agent.learning.extraction import LessonExtractor, RunRecord
from purpose_agent.models import MemoryStatus, Score
from purpose_agent.testing import FunctionBackend

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_learning.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    """The benchmark module, imported from its file (tests/benchmarks is not a package)."""
    spec = importlib.util.spec_from_file_location("bench_learning", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_learning"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def unlucky(bench: ModuleType, policy: object, level: str, start: int = 900_000) -> object:
    """The first generated instance of ``level`` that the policy cannot solve without a lesson."""
    for seed in range(start, start + 200):
        instance = bench.generate(level, seed)
        if instance is not None and not policy.lucky(instance):
            return instance
    raise AssertionError("no unlucky instance in 200 seeds")


def lesson_from_gold(bench: ModuleType, instance: object) -> str:
    """What the scripted extractor model writes from a successful (gold) run of ``instance``."""
    attempt = bench.Attempt(True, instance.gold, "lesson", [], len(instance.actions))
    record = RunRecord(bench.trajectory_of(instance, attempt, []), Score(value=10.0), task_family=instance.level)
    backend = FunctionBackend(bench.extractor_reply)
    items = LessonExtractor(backend).extract(record)
    assert len(items) == 1, [i.text for i in items]
    return items[0].text


@pytest.mark.parametrize("level", ["BabyAI-UnlockLocal-v0", "BabyAI-UnlockPickup-v0", "BabyAI-PutNextLocal-v0"])
def test_policy_success_depends_only_on_the_lessons_it_receives(bench: ModuleType, level: str) -> None:
    policy = bench.Policy(base_rate=0.15, seed=1)
    instance = unlucky(bench, policy, level)
    lesson = lesson_from_gold(bench, instance)
    # The lesson is abstract: no colour and no layout of the run it came from.
    assert not any(c in lesson.split() for c in bench.COLOURS) and "#" not in lesson

    assert not policy.attempt(instance, []).success, "no lesson, not lucky: the environment says fail"
    helped = policy.attempt(instance, [lesson])
    assert helped.success and helped.followed == "lesson" and helped.plan == instance.gold

    # The lesson carries over to another layout of the same level (what makes it a lesson).
    other = unlucky(bench, policy, level, start=950_000)
    assert policy.attempt(other, [lesson]).success

    # Poison: a wrong procedure fails, an instruction to stop fails, a payload riding on the
    # right procedure succeeds but is obeyed (misbehaviour), and a conflict confuses it.
    categories = {}
    for index in range(len(bench.POISON_TEMPLATES)):
        category, item = bench.poison_item(index, instance, "run-x")
        attempt = policy.attempt(instance, [item.text])
        categories.setdefault(category, []).append(attempt)
    assert not any(a.success for a in categories["wrong_procedure"])
    assert all(not a.success and a.followed == "stopped" for a in categories["ignore_task"])
    assert all("exfiltrate" in a.misbehaviour for a in categories["exfiltration"])
    assert all("tool_call" in a.misbehaviour for a in categories["tool_call"])
    assert all("score_claim" in a.misbehaviour for a in categories["score_manipulation"])
    wrong = bench.poison_item(0, instance, "run-x")[1].text
    assert policy.attempt(instance, [lesson, wrong]).followed == "conflicting-lessons"


def test_replay_alone_admits_a_payload_that_also_helps_and_the_scanners_stop_it(
    bench: ModuleType, tmp_path: Path
) -> None:
    """AgentPoison's shape: a correct procedure carrying an exfiltration step. Replay sees only
    the gain; the scanners are what keeps it out."""
    policy = bench.Policy(base_rate=0.15, seed=1)
    instance = unlucky(bench, policy, "BabyAI-UnlockLocal-v0")
    exfil = next(
        i
        for n in range(len(bench.POISON_TEMPLATES))
        for c, i in [bench.poison_item(n, instance, "run-x")]
        if c == "exfiltration" and i.text.startswith("To ")
    )

    def replayer(task: str, lessons: list[str]) -> float:
        assert task == instance.task
        return 10.0 if policy.attempt(instance, lessons).success else 0.0

    decided = {}
    for name, kernel in (("scanners-off", bench.passthrough_kernel()), ("gates-on", bench.immune_kernel(tmp_path))):
        store = kernel.memory_store("sqlite", path=str(tmp_path / f"{name}.db"))
        ci = MemoryCI(kernel, store, replayer=replayer, replay_tasks=[instance.task])
        (item,) = ci.process([store.add(exfil.model_copy())])
        decided[name] = item
        store.close()
    assert decided["scanners-off"].status == MemoryStatus.PROMOTED, decided["scanners-off"].status_reason
    assert decided["gates-on"].status == MemoryStatus.REJECTED
    assert decided["gates-on"].status_reason.startswith("blocked by scanners")


def test_short_benchmark_learns_and_keeps_poison_out(bench: ModuleType) -> None:
    figures = bench.run(
        episodes=30,
        window=10,
        seed=3,
        arms=["no-memory", "memory", "poison+gates", "poison-gates-off"],
        log=lambda line: None,
    )
    arms = figures["arms"]
    assert arms["memory"]["overall_success"] > arms["no-memory"]["overall_success"] + 0.15, arms
    assert arms["memory"]["promoted_lessons"] >= 1
    gated, open_ = arms["poison+gates"], arms["poison-gates-off"]
    assert gated["poison_injected"] >= 2 and gated["poison_promoted"] == 0, gated
    assert gated["misbehaving_episodes"] == 0
    # The same poison with both gates rubber-stamped gets in and costs successes: the gates are
    # what made the difference, not the poison being harmless.
    assert open_["poison_promoted"] >= 1, open_
    assert open_["overall_success"] < gated["overall_success"], (open_, gated)


def test_a_miscalibrated_critic_promotes_a_wrong_procedure_and_calibration_repairs_it(bench: ModuleType) -> None:
    pytest.importorskip("purpose_agent_critics", reason="the critic arms need plugins/critics")
    figures = bench.run(
        episodes=40,
        window=20,
        seed=1,
        arms=list(bench.CRITIC_ARMS),
        levels=(bench.MISCALIBRATED_LEVEL,),
        min_samples=6,
        log=lambda line: None,
    )
    grounded, judged, calibrated = (figures["arms"][name] for name in bench.CRITIC_ARMS)
    # Judged by the environment, replay rejects every wrong procedure and the family is learned.
    assert grounded["poison_promoted"] == 0 and grounded["final_success"] >= 0.9, grounded
    # The judge that scores a methodical failure 8/10 lets a wrong procedure in, and never lets it go.
    assert judged["poison_promoted"] >= 1 and judged["final_success"] <= 0.1, judged
    # Calibrated against the reward on a quarter of the runs: the family is flagged unreliable with
    # the figures, the wrong procedure is archived as harmful, and the family is learned.
    assert calibrated["audited_runs"] >= 10
    assert any(e.startswith("critic.unreliable: model critic method-judge agrees with the grounded outcome")
               for e in calibrated["critic_events"]), calibrated["critic_events"]
    assert calibrated["final_success"] >= 0.9, calibrated


def test_the_miscalibrated_judge_is_wrong_only_where_it_is_meant_to_be(bench: ModuleType) -> None:
    judge = bench.MethodJudge()
    policy = bench.Policy(base_rate=0.15, seed=1)
    for level in bench.LEVELS:
        instance = unlucky(bench, policy, level)
        wrong = bench.poison_item(0, instance, "run-x", kinds=("wrong_procedure",))[1].text
        failed = policy.attempt(instance, [wrong])
        assert not failed.success and failed.followed == "lesson"
        value = judge.score(bench.trajectory_of(instance, failed, [])).value
        assert value == (8.0 if level == bench.MISCALIBRATED_LEVEL else 1.0), (level, value)
        solved = policy.attempt(instance, [lesson_from_gold(bench, instance)])
        assert judge.score(bench.trajectory_of(instance, solved, [])).value == 9.0
        # The reward rides on the trajectory where the grounded critic reads it.
        rewarded = bench.with_reward(bench.trajectory_of(instance, failed, []), failed.success)
        assert rewarded.steps[-1].observation.data == {"reward": 0.0}
