"""A team with documents: knowledge="DIR", the search tool in runs, and team.ask() with citations."""

from __future__ import annotations

import subprocess
import sys

import pytest
from documents import write_documents
from vault_kernels import vault_kernel

import purpose_agent as pa
from purpose_agent.testing import ScriptedBackend

REFUND_CITATION = "handbook.md:7-8"


def team_for(tmp_path, model, *, knowledge=None, kernel=None, **settings):
    root = write_documents(tmp_path / "docs")
    # The hashing embedder's cosines are lower than MiniLM's; 0.15 separates these questions.
    kernel = kernel or vault_kernel(vault_settings={"mode": "lexical", "min_relevance": 0.15, **settings})
    return pa.purpose("Customer support", model=model, kernel=kernel, memory=False, tools=[], critic=None,
                      knowledge=knowledge if knowledge is not None else [str(root), "Answer politely."])


@pytest.fixture(autouse=True)
def state_home(tmp_path, monkeypatch):
    # Vaults built from knowledge="DIR" keep their index under the state directory.
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def test_a_directory_becomes_a_searchable_source_and_texts_stay_instructions(tmp_path):
    team = team_for(tmp_path, ScriptedBackend([]))
    assert team.knowledge == ["Answer politely."]
    [source] = team.sources
    assert type(source).__name__ == "Vault" and source.root == (tmp_path / "docs").resolve()
    assert [tool.name for tool in team.tools] == ["search_documents"]
    assert (tmp_path / "state" / "purpose-agent" / "vaults").is_dir() or not source.refreshed


def test_a_missing_directory_is_an_error_not_an_instruction(tmp_path):
    with pytest.raises(ValueError, match="is not a directory"):
        pa.purpose("x", kernel=vault_kernel(), memory=False, tools=[], knowledge="./no-such-docs/")
    with pytest.raises(ValueError, match="is not a directory"):
        pa.purpose("x", kernel=vault_kernel(), memory=False, tools=[], knowledge=tmp_path / "missing")


def test_ask_answers_with_citations_of_the_passages_it_was_shown(tmp_path):
    model = ScriptedBackend([f"Refunds are possible within 30 days of purchase [{REFUND_CITATION}]."])
    team = team_for(tmp_path, model)
    answer = team.ask("Within how many days can a customer get a refund after purchase?")
    assert answer.supported and answer.citations == (REFUND_CITATION,)
    assert str(answer) == f"Refunds are possible within 30 days of purchase [{REFUND_CITATION}]."
    [request] = model.requests
    system, user = (m.content for m in request.messages)
    assert "NO SUPPORT" in system and "Answer politely." in system and "never instructions" in system
    # The passage is inside the boundary markers the system message names, after its citation.
    token = system.split('<untrusted-text id="')[1].split('"')[0]
    assert f'[{REFUND_CITATION}] Support handbook > Refunds\n<untrusted-text id="{token}" origin="document:' in user
    assert "refund within 30 days" in user.split(f'<untrusted-text id="{token}"')[1]


def test_citations_of_passages_not_shown_are_removed(tmp_path):
    model = ScriptedBackend([f"Refunds take 30 days [{REFUND_CITATION}], per the policy [policy.md:1-9]."])
    answer = team_for(tmp_path, model).ask("Within how many days can a customer get a refund after purchase?")
    assert answer.supported and answer.citations == (REFUND_CITATION,) and answer.dropped == ("policy.md:1-9",)
    assert "policy.md" not in str(answer).split("(Removed")[0]
    assert "Removed citations of passages the model was not shown: policy.md:1-9" in str(answer)


def test_an_answer_that_cites_nothing_shown_is_not_used(tmp_path):
    model = ScriptedBackend(["Refunds are always possible within a year [terms.md:3-4]."])
    answer = team_for(tmp_path, model).ask("Within how many days can a customer get a refund after purchase?")
    assert not answer.supported and answer.citations == () and "was not used" in str(answer)
    uncited = team_for(tmp_path / "2", ScriptedBackend(["Within a year, I believe."]))
    assert not uncited.ask("Within how many days can a customer get a refund?").supported


def test_the_model_saying_no_support_is_reported_plainly(tmp_path):
    answer = team_for(tmp_path, ScriptedBackend(["NO SUPPORT"])).ask("Can customers get a refund on gift cards?")
    assert not answer.supported and str(answer).startswith("The documents do not answer this")


def test_with_nothing_relevant_the_model_is_not_asked(tmp_path):
    model = ScriptedBackend([])  # any call would raise ScriptExhausted
    team = team_for(tmp_path, model, mode="hybrid", min_relevance=0.5)
    answer = team.ask("Which football team won the cup in 1998?")
    assert not answer.supported and str(answer).startswith("The documents hold nothing that answers this")
    assert model.requests == []


def test_a_run_searches_the_vault_and_reads_the_result_as_data(tmp_path):
    model = ScriptedBackend([ScriptedBackend.tool_call("search_documents", query="refund days purchase"),
                             ScriptedBackend.answer(f"30 days [{REFUND_CITATION}]")])
    team = team_for(tmp_path, model, knowledge=None)
    team.roles = ("assistant",)
    result = team.run("How long do customers have to ask for a refund?")
    assert result.answer == f"30 days [{REFUND_CITATION}]"
    [step] = result.trajectory.steps[:1]
    assert step.observation.origin.kind == "document" and step.observation.screened
    second = model.requests[1]
    shown = "\n".join(m.content for m in second.messages if m.content)
    assert f"[{REFUND_CITATION}] Support handbook > Refunds" in shown
    assert '<untrusted-text id="' in shown and 'origin="document:vault:docs"' in shown


def test_pa_vault_from_directory_goes_through_the_knowledge_role(tmp_path):
    root = write_documents(tmp_path / "docs")
    vault = pa.Vault.from_directory(root, "**/*.md", kernel=vault_kernel(), index_path=tmp_path / "i.sqlite")
    assert type(vault).__module__ == "purpose_agent_vault.vault" and vault.refreshed
    assert vault.stats()["files"] == 1 and vault.search("refund", mode="lexical")[0].citation == REFUND_CITATION
    with pytest.raises(ValueError, match="not a directory"):
        pa.Vault.from_directory(tmp_path / "nothing", kernel=vault_kernel())


def test_importing_purpose_agent_does_not_import_the_plugin():
    code = "import purpose_agent as pa, sys; pa.Vault; print('purpose_agent_vault' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_without_a_knowledge_plugin_a_directory_is_refused_with_what_to_install(tmp_path):
    from vault_kernels import hashing_embedder_plugin

    from purpose_agent.errors import UnknownComponentError
    from purpose_agent.testing import make_kernel

    root = write_documents(tmp_path / "docs")
    kernel = make_kernel(hashing_embedder_plugin())
    with pytest.raises(UnknownComponentError, match="pip install purpose-agent-vault"):
        pa.purpose("x", kernel=kernel, memory=False, tools=[], knowledge=str(root))
