"""The system generator: scripted proposals (good, malformed, needing repair) become runnable systems."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import purpose_agent as pa
from purpose_agent.interfaces import BackendProfile
from purpose_agent.models import ChatRequest
from purpose_agent.testing import FunctionBackend, ScriptedBackend, make_kernel, plugin
from purpose_agent_generate import (
    EvalCase,
    GeneratedSystem,
    GeneratorError,
    SystemSpec,
    generate,
    load_project,
    repair,
    write_project,
)


@pa.tool
def lookup_advisories(repo: str) -> str:
    """Look up security advisories for a repository."""
    return f"{repo}: CVE-2026-0001 (high)"


def kernel_with_tools(*extra: Any) -> Any:
    tools = plugin("toy-tools", register_tools=lambda register: register(
        "lookup_advisories", lambda context: lookup_advisories, description="advisories"))
    prices = plugin("toy-provider", register_backends=lambda register: register(
        "toy", lambda model, context: ScriptedBackend([])),
        backend_profiles=lambda: [BackendProfile(name="toy", prices={"big": (100.0, 300.0), "small": (0.1, 0.1)})])
    return make_kernel(tools, prices, *extra)


def proposal(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "cve-monitor",
        "purpose": "Monitor GitHub repos for CVEs and alert the team",
        "agents": [
            {"name": "scanner", "role": "a security analyst", "instructions": "Check every repo.",
             "task": "find new advisories", "tools": ["lookup_advisories"]},
            {"name": "alerter", "role": "an on-call notifier", "instructions": "Be brief.",
             "task": "write the alert", "tools": ["slack_post"]},
        ],
        "flow": [{"source": "BEGIN", "target": "scanner"}, {"source": "scanner", "target": "alerter"},
                 {"source": "alerter", "target": "DONE"}],
        "evaluation": [{"task": "Check pallets/flask", "expect": ["CVE"]}],
        "routing": {"budget_usd": 1.0, "roles": {"scanner": "toy:small", "alerter": "toy:small"}},
    }
    base.update(changes)
    return base


def test_a_good_proposal_becomes_a_spec_with_missing_tools_listed() -> None:
    model = ScriptedBackend([json.dumps(proposal(agents=[
        {**proposal()["agents"][0], "tools": ["lookup_advisories", "python"]}, proposal()["agents"][1]]))])
    spec = generate("Monitor GitHub repos for CVEs and alert the team", model=model, kernel=kernel_with_tools())
    assert [a.name for a in spec.agents] == ["scanner", "alerter"]
    assert spec.agent("scanner").tools == ["lookup_advisories"] and spec.agent("alerter").tools == []
    missing = {m.name: m for m in spec.missing_tools}
    assert missing["python"].plugin == "purpose-agent-sandbox" and missing["python"].needed_by == ["scanner"]
    assert missing["slack_post"].plugin == "" and missing["slack_post"].needed_by == ["alerter"]
    assert any("'slack_post', which is not installed (no known plugin" in r for r in spec.repairs)
    prompt = model.requests[0].messages[-1].content
    assert "Monitor GitHub repos" in prompt and "lookup_advisories" in prompt and "toy:small" in prompt


def test_malformed_json_is_sent_back_once_with_the_problem() -> None:
    model = ScriptedBackend(["Sure! Here is a system: agents scanner and alerter", json.dumps(proposal())])
    spec = generate("CVE monitor", model=model, kernel=kernel_with_tools())
    assert spec.name == "cve-monitor" and len(model.requests) == 2
    assert "That proposal could not be used: the reply was not valid JSON" in model.requests[1].messages[-1].content


def test_an_invalid_spec_is_sent_back_with_its_validation_errors_then_fails_with_a_sentence() -> None:
    bad = proposal(agents=[{"name": "Scanner Bot", "role": "x"}, {"name": "alerter"}])
    model = ScriptedBackend([json.dumps(bad), json.dumps(bad)])
    with pytest.raises(GeneratorError, match=r"the model's proposal could not be used after one repair: it is not a "
                                             r"valid system \(agents\.0\.name: Value error, agent name 'Scanner Bot'"):
        generate("CVE monitor", model=model, kernel=kernel_with_tools())
    repair_request = model.requests[1].messages[-1].content
    assert "agents.1.role: Field required" in repair_request


def test_a_cycle_without_exit_gets_one_and_the_system_leaves_it() -> None:
    spec = SystemSpec.model_validate(proposal(
        agents=[{"name": "writer", "role": "a writer", "task": "draft"}, {"name": "reviewer", "role": "a reviewer"}],
        flow=[{"source": "BEGIN", "target": "writer"}, {"source": "writer", "target": "reviewer"},
              {"source": "reviewer", "target": "writer"}], routing={}))
    fixed = repair(spec, tools=[])
    assert fixed.flow[0].source == "reviewer" and fixed.flow[0].target == "DONE" and fixed.flow[0].when == "APPROVED"
    assert "APPROVED" in fixed.agent("reviewer").instructions
    assert any("the cycle writer -> reviewer had no exit" in r for r in fixed.repairs)
    assert any("agent 'reviewer' had no task" in r for r in fixed.repairs)
    # Run it: the reviewer sends the draft back once, then approves.
    replies = iter(["draft 1", "needs work", "draft 2", "good. APPROVED"])

    def model(request: ChatRequest) -> str:
        return ScriptedBackend.answer(next(replies))

    result = GeneratedSystem(fixed, kernel=make_kernel(), model=FunctionBackend(model)).run("write a haiku")
    assert [who for who, _ in result.answers] == ["writer", "reviewer", "writer", "reviewer"]
    assert result.answer == "good. APPROVED"


def test_the_flow_guard_stops_a_reviewer_that_never_approves() -> None:
    spec = repair(SystemSpec.model_validate(proposal(
        agents=[{"name": "writer", "role": "a writer", "task": "draft"}, {"name": "reviewer", "role": "a reviewer", "task": "check"}],
        flow=[{"source": "BEGIN", "target": "writer"}, {"source": "writer", "target": "reviewer"},
              {"source": "reviewer", "target": "writer"}], routing={}, max_visits=2)), tools=[])
    model = FunctionBackend(lambda request: ScriptedBackend.answer("not yet"))
    with pytest.raises(pa.runtime.flow.FlowError, match="ran 2 times"):
        GeneratedSystem(spec, kernel=make_kernel(), model=model).run("write")


def test_edges_entry_and_unreachable_agents_are_repaired() -> None:
    spec = SystemSpec.model_validate(proposal(
        agents=[{"name": "a", "role": "first", "task": "t"}, {"name": "b", "role": "second", "task": "t"},
                {"name": "orphan", "role": "unused", "task": "t"}],
        flow=[{"source": "a", "target": "b"}, {"source": "b", "target": "ghost"},
              {"source": "b", "target": "DONE", "when": "FINISHED"}], routing={}))
    fixed = repair(spec, tools=[])
    assert [a.name for a in fixed.agents] == ["a", "b"]
    notes = "\n".join(fixed.repairs)
    assert "edge b -> ghost names an agent that does not exist" in notes
    assert "the flow had no entry; it now starts at 'a'" in notes
    assert "agent 'orphan' is never reached by the flow" in notes
    assert "'b' had only conditional edges; when none matches, the flow now ends" in notes


def test_routing_drops_unknown_backends_and_keeps_within_the_budget() -> None:
    model = ScriptedBackend([json.dumps(proposal(routing={
        "budget_usd": 0.5, "roles": {"scanner": "toy:big", "alerter": "nowhere:model", "ghost": "toy:small"}}))])
    spec = generate("CVE monitor", model=model, kernel=kernel_with_tools())
    # toy:big costs 6,000 x $100/1M + 800 x $300/1M = $0.84 per agent run: over $0.50
    assert spec.routing.roles == {"scanner": "toy:small"}
    notes = "\n".join(spec.repairs)
    assert "no installed plugin serves 'nowhere'" in notes and "agent 'ghost', which does not exist" in notes
    assert "'scanner' moved from 'toy:big' to 'toy:small' to stay within the budget ($0.5 per run)" in notes


def test_evaluation_cases_are_checked_and_empty_ones_dropped() -> None:
    case = EvalCase(task="t", expect=["CVE"], reject=["no advisories"])
    assert case.check("Found CVE-1") == [] and case.check(None) == ["there was no answer"]
    assert case.check("cve? no advisories") == ["the answer contains 'no advisories'"]
    spec = repair(SystemSpec.model_validate(proposal(evaluation=[{"task": "nothing to check"}], routing={})), tools=[])
    assert spec.evaluation == [] and any("nothing to check" in r for r in spec.repairs)


def test_a_system_runs_its_agents_with_their_tools_and_evaluates() -> None:
    kernel = kernel_with_tools()
    spec = generate("CVE monitor", model=ScriptedBackend([json.dumps(proposal(routing={}))]), kernel=kernel)

    def model(request: ChatRequest) -> str:
        system = request.messages[0].content
        if "security analyst" in system:
            if request.messages[-1].content.startswith("Observation from"):
                return ScriptedBackend.answer("advisory found: CVE-2026-0001")
            assert "lookup_advisories" in system and "slack_post" not in system
            return ScriptedBackend.tool_call("lookup_advisories", repo="pallets/flask")
        assert "Work so far:\n[scanner] advisory found" in request.messages[1].content
        return ScriptedBackend.answer("ALERT: CVE-2026-0001 in pallets/flask")

    system = GeneratedSystem(spec, kernel=kernel, model=FunctionBackend(model))
    result = system.run("Check pallets/flask")
    assert result.answer == "ALERT: CVE-2026-0001 in pallets/flask"
    report = system.evaluate()
    assert report.passed == report.total == 1 and "1/1 passed" in str(report)


def test_write_project_and_load_it_back(tmp_path: Path) -> None:
    spec = generate("CVE monitor", model=ScriptedBackend([json.dumps(proposal())]), kernel=kernel_with_tools())
    paths = write_project(spec, tmp_path / "proj", model="toy:small")
    assert [p.name for p in paths] == ["purpose-agent.toml", "system.py"]
    text = paths[0].read_text()
    assert "[system]" in text and '[model]\ndefault = "toy:small"' in text
    assert "Missing tool slack_post (needed by alerter): write it as a @pa.tool" in paths[1].read_text()
    loaded = load_project(tmp_path / "proj", kernel=make_kernel())
    assert loaded.spec == spec
    with pytest.raises(GeneratorError, match="already has purpose-agent.toml and system.py; choose another --out"):
        write_project(spec, tmp_path / "proj")
    with pytest.raises(GeneratorError, match="has no \\[system\\] table"):
        (tmp_path / "empty").mkdir()
        (tmp_path / "empty" / "purpose-agent.toml").write_text("[model]\ndefault = 'x:y'\n")
        load_project(tmp_path / "empty", kernel=make_kernel())


def test_an_empty_use_case_is_refused() -> None:
    with pytest.raises(GeneratorError, match="the use case is empty"):
        generate("  ", model=ScriptedBackend([]), kernel=make_kernel())


def test_a_repair_request_that_fails_says_what_was_wrong_with_the_proposal() -> None:
    def model(request: ChatRequest) -> str:
        if len(request.messages) > 2:
            raise ValueError("Requested tokens (2092) exceed context window of 2048")
        assert "missing_tools" not in json.dumps(request.response_schema)  # the generator fills that in
        return "not json"

    with pytest.raises(GeneratorError, match=r"the model's proposal could not be used \(the reply was not valid JSON\), "
                                             r"and asking for a repair failed \(ValueError: Requested tokens"):
        generate("CVE monitor", model=FunctionBackend(model), kernel=kernel_with_tools())
