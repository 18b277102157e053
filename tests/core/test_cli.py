"""The CLI's config commands, entry points, and the generated hooks reference."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

from purpose_agent.cli.hooks_cmd import render_markdown

REPO = Path(__file__).resolve().parents[2]


def test_docs_hooks_md_is_generated_from_the_hookspecs() -> None:
    committed = (REPO / "docs" / "hooks.md").read_text()
    assert committed == render_markdown(), (
        "docs/hooks.md is out of date: run `purpose-agent hooks --markdown > docs/hooks.md`"
    )


def test_every_hook_is_documented_with_when_args_and_returns() -> None:
    from purpose_agent import hookspecs

    for name in dir(hookspecs):
        func = getattr(hookspecs, name)
        if hasattr(func, "purpose_agent_spec"):
            doc = func.__doc__ or ""
            assert "Called:" in doc and "Returns:" in doc, f"hook {name} lacks 'Called:'/'Returns:'"


def test_config_set_show_and_path(run_cli: Any, isolated_config: Path) -> None:
    assert run_cli("config", "set", "plugins.groq.timeout", "30").code == 0
    user_file = isolated_config / ".config" / "purpose-agent" / "config.toml"
    assert tomllib.loads(user_file.read_text()) == {"plugins": {"groq": {"timeout": 30}}}
    shown = run_cli("config", "show", "--json").json()
    assert shown["plugins.groq.timeout"] == {"value": 30, "source": f"user: {user_file}"}
    text = run_cli("config", "show").stdout
    assert f"plugins.groq.timeout = 30    # user: {user_file}" in text
    paths = run_cli("config", "path").stdout
    assert str(user_file) in paths and "[found]" in paths
    assert run_cli("config", "unset", "plugins.groq.timeout").code == 0
    assert tomllib.loads(user_file.read_text()) == {"plugins": {"groq": {}}}


def test_config_set_refuses_a_secret(run_cli: Any, isolated_config: Path) -> None:
    result = run_cli("config", "set", "plugins.groq.api_key", "sk-123")
    assert result.code == 1 and "api_key_env" in result.stderr
    assert not (isolated_config / ".config" / "purpose-agent" / "config.toml").exists()


def test_writes_go_to_the_project_file_when_there_is_one(run_cli: Any) -> None:
    project = Path.cwd() / "purpose-agent.toml"
    project.write_text("[kernel]\nstrict = false\n")
    assert run_cli("plugins", "disable", "memory").code == 0
    assert tomllib.loads(project.read_text())["plugins"] == {"memory": {"enabled": False}}


def test_malformed_config_is_one_clear_line_not_a_traceback(run_cli: Any) -> None:
    (Path.cwd() / "purpose-agent.toml").write_text("[plugins\n")
    result = run_cli("plugins", "list")
    assert result.code == 1
    assert "purpose-agent.toml is not valid TOML" in result.stderr and "Traceback" not in result.stderr
    # disable still works: it only edits a file... but not a broken one, and says so
    fix = run_cli("plugins", "disable", "x")
    assert fix.code == 1 and "not valid TOML" in fix.stderr


def test_console_script_and_module_entry_agree(run_cli: Any) -> None:
    script = Path(sys.executable).with_name("purpose-agent")
    by_script = subprocess.run([str(script), "--version"], capture_output=True, text=True)
    assert by_script.stdout.strip() == run_cli("--version").stdout.strip()
    assert by_script.stdout.startswith("purpose-agent ")


def test_help_with_no_arguments_and_unknown_command(run_cli: Any) -> None:
    assert "plugins" in run_cli().stdout
    unknown = run_cli("frobnicate")
    assert unknown.code == 2 and "invalid choice: 'frobnicate'" in unknown.stderr


def test_plugins_list_json_shape(run_cli: Any) -> None:
    records = json.loads(run_cli("plugins", "list", "--json").stdout)
    memory = next(r for r in records if r["id"] == "memory")
    assert memory["status"] == "ok" and memory["roles"] == ["memory_store"] and memory["reason"] == ""
