"""Stored and untrusted text never reaches the operator's terminal as control sequences."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from purpose_agent.cli import main
from purpose_agent.models import MemoryItem, MemoryKind, MemoryStatus
from purpose_agent.terminal_text import printable, printable_json
from purpose_agent.testing import make_kernel

#: Rewrites the window title (OSC), clears the screen (CSI), sets the clipboard (OSC 52), a C1
#: CSI, a carriage return that overwrites the line, and a right-to-left override.
HOSTILE = (
    "café: use tabs\x1b]0;pwned\x07\x1b[2J\x1b]52;c;cm0gLXJmIC8=\x07 \x9b31m\rsafe\u202eexe.txt"
)
#: What may appear raw on a terminal: printable text, newline and tab.
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A memory database with one hostile item that has a history of two versions."""
    path = tmp_path / "memory.db"
    kernel = make_kernel(builtins=True)
    store = kernel.memory_store("sqlite", path=str(path))
    item = MemoryItem(id="hostile1", text=HOSTILE, kind=MemoryKind.HEURISTIC, tags=["t\x1b[8mag"],
                      status=MemoryStatus.CANDIDATE)
    store.add(item)
    stored = store.get("hostile1")
    store.update(stored.model_copy(update={"status": MemoryStatus.QUARANTINED,
                                           "status_reason": "scanner said \x1b[31mfine\x1b[0m"}))
    store.close()
    return path


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    "action",
    [["list"], ["show", "hostile1"], ["history", "hostile1"]],
)
def test_memory_commands_show_control_characters_as_visible_escapes(
    db: Path, capsys: pytest.CaptureFixture[str], action: list[str]
) -> None:
    code, out, err = cli(capsys, "memory", *action, "--db", str(db))
    assert code == 0, err
    assert not RAW_CONTROL.findall(out), f"raw control characters reached the terminal: {RAW_CONTROL.findall(out)}"
    assert "\\x1b]0;pwned\\x07" in out or "\\x1b]0;pwned" in out  # visible, so the operator sees the attempt


def test_memory_show_escapes_reasons_and_tags_too(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = cli(capsys, "memory", "show", "hostile1", "--db", str(db))
    assert "scanner said \\x1b[31mfine\\x1b[0m" in out
    assert "t\\x1b[8mag" in out
    assert "\\u202eexe.txt" in out


@pytest.mark.parametrize("action", [["list", "--json"], ["show", "hostile1", "--json"], ["history", "hostile1", "--json"]])
def test_json_output_escapes_what_json_leaves_raw_and_still_parses_to_the_stored_text(
    db: Path, capsys: pytest.CaptureFixture[str], action: list[str]
) -> None:
    code, out, _ = cli(capsys, "memory", *action, "--db", str(db))
    assert code == 0
    assert not RAW_CONTROL.findall(out)
    texts = [json.loads(line)["text"] for line in out.splitlines() if line.startswith("{") and line.endswith("}")]
    if action[0] == "show":
        texts = [json.loads(out)["text"]]
    assert texts and all(text == HOSTILE for text in texts)


def test_run_answers_and_scores_are_escaped(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The model's answer and the critic's reason are untrusted text too."""
    import purpose_agent.runtime.agents as agents
    from purpose_agent.models import Score, Trajectory, Usage

    class HostileTeam:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            from purpose_agent.runtime.events import EventBus

            self.roles = ["assistant"]
            self.bus = EventBus()
            self.backend = SimpleNamespace(name="scripted:\x1b[2J")

        def status(self) -> dict[str, Any]:
            return {"model": "scripted:\x1b[2J"}

        def run(self, task: str) -> Any:
            return agents.TeamResult(
                answer=HOSTILE, score=Score(value=7.0, reason="good \x1b]0;owned\x07", critic="standard"),
                members={}, trajectory=Trajectory(task=task), usage=Usage(),
            )

    monkeypatch.setattr(agents, "Team", HostileTeam)
    code, out, _ = cli(capsys, "run", "say hi")
    assert code == 0
    assert not RAW_CONTROL.findall(out), RAW_CONTROL.findall(out)
    assert "\\x1b]0;pwned" in out and "good \\x1b]0;owned\\x07" in out


def test_error_sentences_escape_what_they_quote(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "memory", "show", "no\x1b]0;x\x07such", "--db", str(tmp_path / "m.db"))
    assert code == 1
    assert not RAW_CONTROL.findall(err)


def test_printable_keeps_text_and_makes_controls_visible() -> None:
    assert printable("naïve 日本語\ttab\nline") == "naïve 日本語\ttab\nline"
    assert printable("a\x1b[2Jb\x9bc\u202ed\udcff") == "a\\x1b[2Jb\\x9bc\\u202ed\\udcff"
    assert printable("a\tb\nc\rd", one_line=True) == "a\\x09b\\x0ac\\x0dd"
    serialised = json.dumps({"t": "x\x9by\u202ez"}, ensure_ascii=False)
    assert json.loads(printable_json(serialised)) == {"t": "x\x9by\u202ez"}
    assert "\x9b" not in printable_json(serialised) and "\u202e" not in printable_json(serialised)


def test_output_the_terminal_cannot_encode_is_escaped_not_a_traceback(db: Path, tmp_path: Path) -> None:
    """An ASCII-only terminal (LANG=C) gets backslash escapes instead of UnicodeEncodeError."""
    done = subprocess.run(
        [sys.executable, "-m", "purpose_agent", "memory", "show", "hostile1", "--db", str(db)],
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONIOENCODING": "ascii",
             **{k: v for k, v in os.environ.items() if k == "PYTHONPATH"}},
        timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert b"Traceback" not in done.stderr
    assert b"caf\\xe9" in done.stdout and b"\\u202eexe.txt" in done.stdout
