"""A promoted skill used as a tool: in a real team run with a scripted model, code in the sandbox,
steps as data marked by provenance, and each use credited with the run's score."""

from __future__ import annotations

import random

import pytest
from skill_kernels import SUM_CODE_V2, skills_ci, skills_kernel, skip_unless_the_sandbox_runs, steps_card, sum_card

import purpose_agent as pa
from purpose_agent.models import Score
from purpose_agent.testing import ScriptedBackend
from purpose_agent_skills.tool import UseSkillTool


class AnswerGrader:
    """Scores 9 when the answer holds the expected text, else 2."""

    name = "answer-grader"

    def __init__(self, expected: str) -> None:
        self.expected = expected

    def score(self, trajectory):
        good = self.expected in (trajectory.final_answer or "")
        return Score(value=9.0 if good else 2.0, critic=self.name, reason="expected text " + ("found" if good else "missing"))


@pytest.fixture(autouse=True)
def usable_sandbox(kernel):
    skip_unless_the_sandbox_runs(kernel)


def spreadsheet_team(kernel, model, expected):
    return pa.purpose("Answer questions about spreadsheets", model=model, kernel=kernel, roles=["analyst"],
                      critic=AnswerGrader(expected), memory=False)


@pytest.mark.parametrize(("answer", "score", "success"), [("The sum is 5.0.", 9.0, True), ("I do not know.", 2.0, False)])
def test_a_team_uses_a_promoted_skill_and_the_run_score_credits_it(kernel, ci, answer, score, success):
    ci.add(sum_card())
    assert ci.promote("csv-column-sum").promoted
    model = ScriptedBackend([
        ScriptedBackend.tool_call("use_skill", skill="csv-column-sum", arguments={"text": "a\n2\n3\n", "column": "a"}),
        ScriptedBackend.answer(answer),
    ])
    result = spreadsheet_team(kernel, model, "5.0").run("What is the sum of column a?")
    assert result.answer == answer
    [step] = [s for s in result.trajectory.steps if s.action.kind == "tool"]
    assert step.action.tool == "use_skill"
    observation = step.observation
    assert observation.ok and observation.output == "5.0"
    # code output is tool output: screened by the runner like any other
    assert observation.origin.kind == "tool" and observation.screened
    [use] = ci.store.uses("csv-column-sum")
    assert use.tool_ok and use.version == 1 and use.run_id
    assert (use.run_score, use.success) == (score, success)
    assert ci.store.get("csv-column-sum", 1).successes == int(success)


def test_the_tool_lists_promoted_skills_only_and_validates_arguments(kernel, ci):
    ci.add(sum_card())
    ci.add(steps_card(["Tag the release."]))  # a candidate: not offered
    ci.promote("csv-column-sum")
    tool = kernel.create("tool", "use_skill")
    assert tool.parameters["properties"]["skill"]["enum"] == ["csv-column-sum"]
    assert "- csv-column-sum(text: string, column: string): Sum one numeric column of CSV text." in tool.description
    bad = tool.run({"skill": "csv-column-sum", "arguments": {"text": "a\n1\n", "column": 3}})
    assert not bad.ok and bad.error.startswith("the arguments do not fit skill 'csv-column-sum': column: 3 is not "
                                               "of type 'string'")
    unknown = tool.run({"skill": "release-checklist", "arguments": {"version": "1"}})
    assert not unknown.ok and "has no promoted version; promote one with" in unknown.error
    assert ci.store.uses("csv-column-sum") == []  # refused calls are not uses


def test_a_failing_call_is_a_failed_use_of_that_version(kernel, ci):
    ci.add(sum_card())
    ci.promote("csv-column-sum")
    tool = kernel.create("tool", "use_skill")
    failed = tool.run({"skill": "csv-column-sum", "arguments": {"text": "a\nx\n", "column": "a"}})
    assert not failed.ok and failed.error == ("skill 'csv-column-sum' v1 failed: ValueError: could not convert "
                                              "string to float: 'x'")
    [use] = ci.store.uses("csv-column-sum")
    assert not use.tool_ok and not use.success


@pytest.mark.parametrize(("author", "kind", "untrusted"), [("operator", "operator", False), ("model", "tool", True)])
def test_steps_come_back_as_data_marked_by_provenance(kernel, ci, author, kind, untrusted):
    ci.add(steps_card(["Run the tests.", "Tag the release."], author=author))
    ci.promote("release-checklist")
    tool = kernel.create("tool", "use_skill")
    observation = tool.run({"skill": "release-checklist", "arguments": {"version": "2.1"}})
    assert observation.ok
    written_by = "" if author == "operator" else " [written by: model]"
    assert f"- release-checklist(version: string){written_by}: Prepare a release." in tool.description
    assert observation.output == ("Skill release-checklist (v1): Prepare a release.\nSteps:\n1. Run the tests.\n"
                                  '2. Tag the release.\nArguments: {"version": "2.1"}')
    assert observation.origin.kind == kind and observation.origin.untrusted is untrusted


def test_a_model_written_steps_skill_reaches_the_model_marked_as_data(kernel, ci):
    ci.add(steps_card(["Run the tests.", "Tag the release."], author="model"))
    ci.promote("release-checklist")
    model = ScriptedBackend([ScriptedBackend.tool_call("use_skill", skill="release-checklist",
                                                      arguments={"version": "2.1"}),
                             ScriptedBackend.answer("Released.")])
    spreadsheet_team(kernel, model, "Released").run("Release version 2.1")
    prompt = "\n".join(m.content for m in model.requests[-1].messages)
    assert '<untrusted-text id="' in prompt and "1. Run the tests." in prompt


def test_competing_versions_are_chosen_by_measured_success_through_the_tool(kernel, ci):
    ci.add(sum_card())
    ci.promote("csv-column-sum")
    ci.add(sum_card(code=SUM_CODE_V2))
    ci.promote("csv-column-sum")
    # v1 has a poor record, v2 a good one: the tool picks v2 almost always.
    for _ in range(20):
        ci.store.record_use("csv-column-sum", 1, {"text": "a\n1\n", "column": "a"}, False)
        ci.store.record_use("csv-column-sum", 2, {"text": "a\n1\n", "column": "a"}, True)
    tool = UseSkillTool(ci, rng=random.Random(3))
    versions = [tool.run({"skill": "csv-column-sum", "arguments": {"text": "a\n1\n", "column": "a"}}).data["version"]
                for _ in range(3)]
    assert versions == [2, 2, 2]


def test_without_a_sandbox_a_code_skill_is_refused_not_run_here(tmp_path):
    kernel = skills_kernel(tmp_path)
    ci = skills_ci(kernel, tmp_path)
    ci.add(sum_card())
    ci.promote("csv-column-sum")
    bare = skills_kernel(tmp_path, sandbox=False)
    observation = bare.create("tool", "use_skill").run({"skill": "csv-column-sum",
                                                        "arguments": {"text": "a\n1\n", "column": "a"}})
    assert not observation.ok
    assert observation.error.startswith("skill code and tests run only in a sandbox, and there is none: ")
    assert ci.store.uses("csv-column-sum") == []


def test_an_unreadable_store_does_not_break_a_team(tmp_path):
    garbage = tmp_path / "skills.sqlite"
    garbage.write_bytes(b"this is not a SQLite file, and it is long enough for SQLite to say so" * 20)
    kernel = skills_kernel(tmp_path)
    model = ScriptedBackend([ScriptedBackend.tool_call("use_skill", skill="csv-column-sum", arguments={}),
                             ScriptedBackend.answer("done")])
    team = spreadsheet_team(kernel, model, "done")
    assert "use_skill" not in [t.name for t in team.tools]  # nothing it could offer: left out
    result = team.run("Sum it")
    assert result.answer == "done"
    tool = kernel.create("tool", "use_skill")  # asked for by name, it says why it cannot help
    assert f"(the skills store {garbage} cannot be read: file is not a database)" in tool.description
    observation = tool.run({"skill": "csv-column-sum", "arguments": {}})
    assert not observation.ok and observation.error.startswith(f"the skills store {garbage} failed: ")


def test_use_skill_is_offered_to_teams_only_once_a_skill_is_promoted(tmp_path):
    kernel = skills_kernel(tmp_path)
    assert "use_skill" not in [t.name for t in kernel.tools()]
    ci = skills_ci(kernel, tmp_path)
    ci.add(sum_card())
    assert "use_skill" not in [t.name for t in kernel.tools()]  # a candidate is not usable
    ci.promote("csv-column-sum")
    [tool] = [t for t in kernel.tools() if t.name == "use_skill"]
    assert "csv-column-sum(" in tool.description


def test_a_member_run_without_a_score_waits_for_the_team_score(tmp_path):
    from purpose_agent.models import Event
    from purpose_agent_skills import outcomes
    from purpose_agent_skills.store import SkillStore

    store = SkillStore(tmp_path / "skills.sqlite")
    store.add(steps_card(["Tag the release."]))
    credited = store.record_use("release-checklist", 1, {"version": "1"}, True)
    unscored = store.record_use("release-checklist", 1, {"version": "2"}, True)
    outcomes.expect(credited, store, 7.0)
    outcomes.expect(unscored, store, 7.0)
    origin = f"tool:{outcomes.origin_name('release-checklist', 1, credited)}"
    outcomes.observe(Event(type="tool.finished", run_id="member", parent_run_id="team", data={"origin": origin}))
    outcomes.observe(Event(type="run.finished", run_id="member", parent_run_id="team", data={"score": None}))
    assert {use.id: use.run_score for use in store.uses("release-checklist")}[credited] is None  # not yet
    outcomes.observe(Event(type="team.finished", run_id="team", data={"score": 3.0}))
    by_id = {use.id: use for use in store.uses("release-checklist")}
    assert (by_id[credited].run_score, by_id[credited].success, by_id[credited].run_id) == (3.0, False, "team")
    # a use no run reported keeps the tool's outcome
    assert (by_id[unscored].run_score, by_id[unscored].success) == (None, True)


def test_building_a_team_without_skills_creates_no_store(tmp_path):
    kernel = skills_kernel(tmp_path)
    tool = kernel.create("tool", "use_skill")
    assert "(no skill is promoted yet)" in tool.description
    observation = tool.run({"skill": "anything", "arguments": {}})
    assert not observation.ok and observation.error.startswith("no skill is stored yet, so there is no 'anything'")
    assert not (tmp_path / "skills.sqlite").exists()
