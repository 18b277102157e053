"""What a plugin author meets first: scripting the actor's model, reading why a run gave no answer,
and adapting the critic conformance suite to a critic that measures something else."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import purpose_agent as pa
from purpose_agent.models import Score, Trajectory
from purpose_agent.runtime.actor import Actor
from purpose_agent.runtime.loop import Runner
from purpose_agent.testing import ScriptedBackend, make_kernel, plugin
from purpose_agent_conformance import CriticConformance

# --------------------------------------------------------------------------- scripting the actor


@pa.tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def test_scripted_replies_built_by_the_helpers_drive_a_run() -> None:
    backend = ScriptedBackend([ScriptedBackend.tool_call("add", a=2, b=3), ScriptedBackend.answer("5")])
    result = Runner(Actor(backend=backend, tools=[add])).run("What is 2 + 3?")
    assert result.answer == "5" and result.no_answer_reason is None
    [tool_step, answer_step] = result.trajectory.steps
    assert (tool_step.action.tool, tool_step.action.arguments, tool_step.observation.output) == ("add", {"a": 2, "b": 3}, "5")
    assert answer_step.action.kind == "answer"
    assert str(result).startswith("answer: 5 (not scored, 2 step(s), 1 tool call(s))")


def test_the_helpers_build_the_json_actions_the_actor_documents() -> None:
    assert json.loads(ScriptedBackend.answer("done", thought="checked")) == {
        "thought": "checked", "action": "answer", "answer": "done"}
    assert json.loads(ScriptedBackend.tool_call("python", code="print(1)")) == {
        "thought": "", "action": "tool", "tool": "python", "arguments": {"code": "print(1)"}}


def test_a_wrong_guess_at_the_reply_says_why_there_is_no_answer() -> None:
    result = Runner(Actor(backend=ScriptedBackend(["hello"]))).run("Say hello")
    assert result.answer is None
    reason = result.no_answer_reason
    assert reason is not None and reason.startswith("no answer: the model's reply could not be used (the reply was not valid JSON)")
    assert '{"thought": "...", "action": "answer", "answer": "..."}' in reason
    assert "ScriptedBackend.answer" in reason
    assert str(result).startswith(reason)


def test_a_team_without_an_answer_says_which_member_stopped_and_why() -> None:
    team = pa.purpose("Plan my week", model=ScriptedBackend(["hello"], repeat_last=True), kernel=make_kernel(), tools=[])
    result = team.run("Plan Monday")
    assert result.answer is None
    assert result.no_answer_reason.startswith(
        "no answer: no member of the team answered (assistant: the model's reply could not be used after one repair "
        "(the reply was not valid JSON); reviewer: ")
    assert "ScriptedBackend.answer" in str(result)


@pytest.mark.parametrize(("stopped", "says"), [
    ("budget: 3 steps", "no answer: the run reached its budget (3 steps) before the model answered"),
    ("error: ConnectError: refused", "no answer: the run failed: ConnectError: refused"),
    ("cancelled", "no answer: the run was cancelled before the model answered"),
])
def test_every_way_of_stopping_without_an_answer_has_a_sentence(stopped: str, says: str) -> None:
    from purpose_agent.models import Usage
    from purpose_agent.runtime.loop import RunResult

    result = RunResult(Trajectory(task="t"), None, Usage(), stopped, 0.1)
    assert result.no_answer_reason == says


# --------------------------------------------------------------------------- adapting CriticConformance


class LengthCritic:
    """Longer answers score higher: a critic the default trajectories do not suit."""

    name = "length"

    def score(self, trajectory: Trajectory) -> Score:
        answer = trajectory.final_answer or ""
        return Score(value=min(10.0, len(answer) / 10), critic=self.name, reason=f"{len(answer)} characters")


LENGTH_PLUGIN = plugin("length", register_critics=lambda register: register("length", lambda context: LengthCritic()))


class LengthSuite(CriticConformance):
    plugin = LENGTH_PLUGIN
    critic_name = "length"


def test_a_critic_the_defaults_do_not_suit_fails_with_both_scores_in_the_message() -> None:
    suite = LengthSuite()
    critic = make_kernel(LENGTH_PLUGIN).critic("length")
    with pytest.raises(AssertionError) as failed:
        suite.test_good_run_outscores_a_bad_run_that_claims_success(critic)
    message = str(failed.value)
    assert "scored the good trajectory 3.1 (reason: '31 characters')" in message
    assert "the bad trajectory 3.4 (reason: '34 characters'); expected good > bad" in message
    assert "override good_trajectory() and bad_trajectory()" in message


class AdaptedLengthSuite(LengthSuite):
    def good_trajectory(self) -> Trajectory:
        return Trajectory(task="Explain recursion.", final_answer="A function that calls itself on a smaller input, "
                          "until it reaches a case it can answer directly.")

    def bad_trajectory(self) -> Trajectory:
        return Trajectory(task="Explain recursion.", final_answer="See recursion.")


def test_an_adapted_suite_passes_and_a_critic_without_a_reason_is_named() -> None:
    suite = AdaptedLengthSuite()
    critic = make_kernel(LENGTH_PLUGIN).critic("length")
    suite.test_score_is_a_score_between_0_and_10(critic)
    suite.test_good_run_outscores_a_bad_run_that_claims_success(critic)
    suite.test_score_gives_a_reason(critic)

    class Silent(LengthCritic):
        def score(self, trajectory: Trajectory) -> Score:
            return Score(value=1.0, critic="length")

    with pytest.raises(AssertionError, match="scored the good trajectory 1.0 with an empty reason"):
        suite.test_score_gives_a_reason(Silent())


OPTIONS_SUITE = '''
from purpose_agent.models import Score, Trajectory
from purpose_agent.testing import plugin
from purpose_agent_conformance import CriticConformance


class JudgeCritic:
    name = "judge"

    def __init__(self, backend):
        self.backend = backend

    def score(self, trajectory):
        verdict = float(self.backend.complete_text(trajectory.final_answer or ""))
        return Score(value=verdict, critic=self.name, reason=f"the judge said {verdict}")


class FakeJudge:
    def complete_text(self, answer):
        return "8" if "verified" in answer else "2"


def register_critics(register):
    register("judge", lambda context: JudgeCritic(context.options["backend"]))


class TestJudge(CriticConformance):
    plugin = plugin("judge", register_critics=register_critics)
    critic_name = "judge"

    def critic_options(self):
        return {"backend": FakeJudge()}

    def good_trajectory(self):
        return Trajectory(task="t", final_answer="verified by the tests")

    def bad_trajectory(self):
        return Trajectory(task="t", final_answer="trust me")


class TestJudgeWithTheDefaults(TestJudge):
    good_trajectory = CriticConformance.good_trajectory
    bad_trajectory = CriticConformance.bad_trajectory
'''


def test_a_suite_with_critic_options_runs_under_pytest_and_failures_show_the_scores(tmp_path: Path) -> None:
    (tmp_path / "test_judge.py").write_text(OPTIONS_SUITE)
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                         capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert "1 failed, 5 passed" in run.stdout, run.stdout + run.stderr
    assert ("critic 'judge' scored the good trajectory 2.0 (reason: 'the judge said 2.0') and the bad trajectory "
            "2.0 (reason: 'the judge said 2.0'); expected good > bad") in run.stdout


# --------------------------------------------------------------------------- the CLI


@pytest.mark.slow
def test_run_without_an_answer_says_why_on_stderr_and_exits_1(run_cli: Any, fixture_site: Path) -> None:
    result = run_cli("run", "say hi", "--model", "fixture-good:x", "--max-steps", "2",
                     site=fixture_site, env={"PURPOSE_AGENT_PLUGINS": "fixture-good"})
    assert result.code == 1
    [line] = [line for line in result.stderr.splitlines() if line.strip()]
    assert line.startswith("purpose-agent: no answer: no member of the team answered (assistant: the model's reply "
                           "could not be used after one repair (the reply was not valid JSON)")
    assert "Traceback" not in result.stderr
