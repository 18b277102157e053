"""AGENTS.md: nested files, closest wins, overrides, size caps, and delivery into a run."""

from __future__ import annotations

import json
from pathlib import Path

import purpose_agent as pa
import purpose_agent_agents_md as agents_md
from purpose_agent.testing import ScriptedBackend, make_kernel


def tree(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (tmp_path / "AGENTS.md").write_text("outside the repository: must not be read")
    (repo / "AGENTS.md").write_text("Use tabs.")
    deep = repo / "pkg" / "sub"
    deep.mkdir(parents=True)
    (repo / "pkg" / "AGENTS.md").write_text("Use spaces, not tabs.")
    return deep


def test_nested_files_closest_last_and_stops_at_the_repository_root(tmp_path: Path) -> None:
    texts = agents_md.collect(tree(tmp_path))
    assert [t.splitlines()[-1] for t in texts] == ["Use tabs.", "Use spaces, not tabs."]
    assert not any("outside the repository" in t for t in texts)


def test_an_override_file_replaces_agents_md_in_its_folder(tmp_path: Path) -> None:
    deep = tree(tmp_path)
    (deep.parent / "AGENTS.override.md").write_text("Local override: 2 spaces.")
    assert agents_md.collect(deep)[-1].endswith("Local override: 2 spaces.")


def test_large_files_are_capped_and_say_so(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "AGENTS.md").write_text("x" * 5000)
    [text] = agents_md.collect(tmp_path, max_bytes=1000)
    assert "[AGENTS.md cut at 1000 bytes of 5000]" in text and text.count("x") == 1000


def test_settings_come_from_toml(tmp_path: Path) -> None:
    deep = tree(tmp_path)
    kernel = make_kernel({"agents-md": agents_md}, config={"plugins": {"agents-md": {"file_names": ["RULES.md"]}}})
    (deep / "RULES.md").write_text("Only this.")
    assert [t.splitlines()[-1] for t in kernel.instructions("task", str(deep))] == ["Only this."]


def test_instructions_reach_the_model_in_a_run(tmp_path: Path, monkeypatch: object) -> None:
    deep = tree(tmp_path)
    monkeypatch.chdir(deep)  # type: ignore[attr-defined]
    backend = ScriptedBackend([json.dumps({"thought": "", "action": "answer", "answer": "ok"})])
    kernel = make_kernel({"agents-md": agents_md})
    pa.Spark(role="coder", model=backend, tools=[], kernel=kernel).run("format the code")
    system = backend.requests[0].messages[0].content
    assert "Use tabs." in system and "Use spaces, not tabs." in system
    assert system.index("Use tabs.") < system.index("Use spaces, not tabs.")
