"""`doctor` and `models` show providers as one compact table: one row per provider, the advice a
status needs said once, colour only on a terminal without NO_COLOR, and stable `--json` keys."""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from purpose_agent.cli.models_cmd import NO_KEY_ADVICE
from purpose_agent.cli.tables import Styled, colour_wanted, render_table

ANSI = re.compile(r"\x1b\[[0-9;]*m")
#: The key variables of the workspace's provider packages.
KEY_VARIABLES = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GROQ_API_KEY", "OPENROUTER_API_KEY", "DEEPSEEK_API_KEY",
                 "MISTRAL_API_KEY", "TOGETHER_API_KEY", "FIREWORKS_API_KEY", "CEREBRAS_API_KEY", "HF_TOKEN")
# No provider key, and an Ollama address where nothing listens: every key provider says "no API key".
NO_KEYS = {**dict.fromkeys(KEY_VARIABLES, ""), "OLLAMA_HOST": "http://127.0.0.1:9"}
# The sentence each provider used to repeat, once per provider.
LONG_SENTENCE = "or choose another model ([model] default"


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


# --------------------------------------------------------------------------- the table itself


def test_colour_only_on_a_terminal_and_never_with_no_color() -> None:
    assert colour_wanted(FakeTerminal(), environ={}) is True
    assert colour_wanted(io.StringIO(), environ={}) is False
    assert colour_wanted(FakeTerminal(), environ={"NO_COLOR": "1"}) is False
    assert colour_wanted(FakeTerminal(), environ={"TERM": "dumb"}) is False


def test_coloured_and_plain_tables_line_up_the_same() -> None:
    rows = [["groq", Styled("no API key", "33"), "set GROQ_API_KEY"], ["ollama", Styled("ok", "32"), "2 models"]]
    plain = render_table(("PROVIDER", "STATUS", "WHAT TO DO"), rows)
    coloured = render_table(("PROVIDER", "STATUS", "WHAT TO DO"), rows, colour=True)
    assert all("\x1b[" not in line for line in plain)
    assert any("\x1b[33mno API key\x1b[0m" in line for line in coloured)
    assert [ANSI.sub("", line) for line in coloured] == plain
    assert plain[1] == "groq      no API key  set GROQ_API_KEY"
    assert plain[2] == "ollama    ok          2 models"


# --------------------------------------------------------------------------- models and doctor


def no_key_providers(run_cli: Any) -> list[str]:
    report = run_cli("models", "--json", env=NO_KEYS).json()
    return [p["provider"] for p in report["providers"] if p["status"] == "no_api_key"]


@pytest.mark.parametrize("command", ["models", "doctor"])
def test_the_missing_key_advice_is_said_once_and_each_provider_is_one_row(command: str, run_cli: Any) -> None:
    missing = no_key_providers(run_cli)
    assert len(missing) >= 5, "the workspace installs the key-based provider plugins"
    out = run_cli(command, env=NO_KEYS).stdout
    assert LONG_SENTENCE not in out
    assert out.count(NO_KEY_ADVICE) == 1, out
    lines = out.splitlines()
    for provider in missing:
        rows = [line for line in lines if line.split()[:1] == [provider] and "no API key" in line]
        assert len(rows) == 1 and re.search(r"no API key +set [A-Z_]+$", rows[0]), (provider, out)


def test_models_json_keys_are_stable(run_cli: Any) -> None:
    report = run_cli("models", "--json", env=NO_KEYS).json()
    assert set(report) == {"default", "providers"}
    for entry in report["providers"]:
        assert set(entry) == {"provider", "status", "models", "default_model", "error", "action"}, entry
        assert entry["status"] in {"ok", "no_api_key", "unreachable", "failed", "unchecked"}
    groq = next((p for p in report["providers"] if p["provider"] == "groq"), None)
    if groq is not None:
        assert groq["status"] == "no_api_key" and groq["action"] == "set GROQ_API_KEY"
        assert "GROQ_API_KEY" in groq["error"]


def test_doctor_json_backend_keys_are_stable(run_cli: Any) -> None:
    report = run_cli("doctor", "--json", env=NO_KEYS).json()
    for entry in report["backends"]:
        assert set(entry) == {"name", "plugin", "status", "reachable", "detail", "action"}, entry
        assert entry["status"] in {"ok", "no_api_key", "unreachable", "failed", "unchecked"}
    statuses = {b["name"]: b for b in report["backends"]}
    if "groq" in statuses:
        assert statuses["groq"]["status"] == "no_api_key" and statuses["groq"]["action"] == "set GROQ_API_KEY"
    if "ollama" in statuses:
        assert statuses["ollama"]["status"] == "unreachable"


def run_on_a_terminal(*args: str, env: dict[str, str]) -> str:
    """Run the CLI with its stdout on a pseudo-terminal, as a user at a shell would."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "purpose_agent", *args], stdout=follower,
                            stderr=subprocess.DEVNULL, env={**os.environ, **env}, cwd=Path.cwd())
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode("utf-8", errors="replace")


def test_models_is_coloured_on_a_terminal_unless_no_color_is_set(isolated_config: Path) -> None:
    env = {**NO_KEYS, "TERM": "xterm", "NO_COLOR": ""}
    assert "\x1b[33mno API key" in run_on_a_terminal("models", env=env)
    assert "\x1b[" not in run_on_a_terminal("models", env={**env, "NO_COLOR": "1"})
