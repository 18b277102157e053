"""``purpose-agent run`` and the wizard, through an installed backend plugin."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from purpose_agent.cli.run_cmd import wizard

pytestmark = pytest.mark.slow


def test_run_shows_progress_and_stops_safely_on_unusable_replies(run_cli: Any, fixture_site: Path, tmp_path: Path) -> None:
    trace = tmp_path / "trace.jsonl"
    result = run_cli("run", "say hi", "--model", "fixture-good:x", "--max-steps", "2", "--trace", str(trace),
                     site=fixture_site, env={"PURPOSE_AGENT_PLUGINS": "fixture-good"})
    # The echo backend never answers with an action: every member stops safely after one repair.
    assert result.code == 1, result.stderr
    assert "team: assistant, reviewer on fixture-good:x" in result.stdout
    assert "reply unusable; repair failed: stopped safely" in result.stdout
    assert "answer:\n(no answer)" in result.stdout
    assert '"type":"run.started"' in trace.read_text().replace(" ", "")


def test_wizard_asks_and_quits_on_end_of_input() -> None:
    out = io.StringIO()
    assert wizard(io.StringIO("Help me plan\n"), out) == 0
    assert "What should the team help with?" in out.getvalue() and "What is the first task?" in out.getvalue()
