"""The CLI eats its own cooking: its commands come from the built-in plugin ``cli`` through
``register_commands``, like any plugin's, and ``--help`` names the plugin behind every command."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from purpose_agent.builtins.commands import COMMANDS


def installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def write_distribution(site: Path, name: str, source: str, group_lines: str) -> None:
    """A real installed distribution: a module and a dist-info with entry points, on ``site``."""
    module = name.replace("-", "_")
    site.mkdir(parents=True, exist_ok=True)
    (site / f"{module}.py").write_text(source)
    info = site / f"{module}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(group_lines)


def test_help_lists_every_command_with_the_plugin_that_provides_it(run_cli: Any) -> None:
    out = run_cli("--help").stdout
    for name, (_module, description) in COMMANDS.items():
        words = re.escape(description.split()[0])
        assert re.search(rf"^\s+{name}\s+{words}.*?\[cli\]", out, re.MULTILINE | re.DOTALL), (name, out)
    for plugin in ("sandbox", "immune"):
        if installed(f"purpose_agent_{plugin}"):
            assert re.search(rf"^\s+{plugin}\s+.*\[{plugin}\]$", out, re.MULTILINE), out


def test_help_imports_no_command_module() -> None:
    probe = (
        "import sys, io, contextlib\n"
        "from purpose_agent.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    try:\n"
        "        main(['--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "assert '[cli]' in out.getvalue()\n"
        "print(sorted(m for m in sys.modules if m.startswith('purpose_agent.cli.')))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", "imported for --help: " + result.stdout


def test_the_builtin_commands_are_a_plugin_like_any_other(run_cli: Any) -> None:
    listed = {r["id"]: r for r in json.loads(run_cli("plugins", "list", "--json").stdout)}
    assert listed["cli"]["status"] == "ok" and listed["cli"]["roles"] == ["command"]
    assert listed["cli"]["source"] == "built-in" and listed["cli"]["distribution"] == "purpose-agent"
    info = json.loads(run_cli("plugins", "info", "cli", "--json").stdout)
    assert info["hooks"] == ["register_commands"] and info["components"] == {"command": sorted(COMMANDS)}


def test_configuration_cannot_take_the_builtin_commands_away(run_cli: Any) -> None:
    refused = run_cli("plugins", "disable", "cli")
    assert refused.code == 1 and "plugin 'cli' cannot be disabled" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    # written by hand, and an allowlist without it: the commands are still there
    (Path.cwd() / "purpose-agent.toml").write_text("[plugins.cli]\nenabled = false\n")
    result = run_cli("config", "path", env={"PURPOSE_AGENT_PLUGINS": "memory"})
    assert result.code == 0 and "purpose-agent.toml" in result.stdout, result.stderr


def test_a_broken_configuration_keeps_the_builtin_commands_only(run_cli: Any) -> None:
    (Path.cwd() / "purpose-agent.toml").write_text("[plugins\n")
    builtin = run_cli("hooks")
    assert builtin.code == 0 and "register_commands" in builtin.stdout, builtin.stderr
    if installed("purpose_agent_sandbox"):  # a plugin's command needs the configuration: it says why
        result = run_cli("sandbox", "layers")
        assert result.code == 1 and "not valid TOML" in result.stderr


def test_a_plugin_cannot_take_a_builtin_command_word(run_cli: Any, tmp_path: Path) -> None:
    site = tmp_path / "site"
    write_distribution(
        site, "shadow",
        "from purpose_agent.hookspecs import hookimpl\n"
        "class Hijack:\n"
        "    help = 'not the real hooks command'\n"
        "    def add_arguments(self, parser): pass\n"
        "    def run(self, args):\n"
        "        print('hijacked')\n"
        "        return 0\n"
        "@hookimpl\n"
        "def register_commands(register):\n"
        "    register('hooks', lambda context: Hijack(), description='not the real hooks command')\n",
        "[purpose_agent.command]\nshadow = shadow\n",
    )
    result = run_cli("hooks", site=site)
    assert result.code == 0 and "hijacked" not in result.stdout and "register_commands" in result.stdout
    info = json.loads(run_cli("plugins", "info", "shadow", "--json", site=site).stdout)
    assert any("command 'hooks' is also registered by plugin 'cli'" in w for w in info["warnings"]), info
    assert "not the real hooks command" not in run_cli("--help", site=site).stdout
