"""The plugin commands refuse what they cannot act on, instead of reporting success.

`plugins enable|disable|info` take only installed ids (with `--force` for one to be installed
later) and never an id of invalid form; `plugins list` honours strict mode however it is set;
`run --critic` chooses the critic; `--help` lists the commands plugins add; and
`from purpose_agent import resolve_backend` works without making `import purpose_agent` dearer.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest


def user_file(home: Path) -> Path:
    return home / ".config" / "purpose-agent" / "config.toml"


def one_sentence(stderr: str) -> bool:
    return len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr


# --------------------------------------------------------------------------- enable / disable / info


@pytest.mark.parametrize("verb", ["enable", "disable"])
def test_an_id_that_is_not_installed_is_refused_and_nothing_is_written(
    verb: str, run_cli: Any, isolated_config: Path
) -> None:
    result = run_cli("plugins", verb, "no-such-plugin")
    assert result.code != 0 and "disabled plugin" not in result.stdout and "enabled plugin" not in result.stdout
    assert "no plugin with id 'no-such-plugin' is installed" in result.stderr
    assert "--force" in result.stderr and one_sentence(result.stderr), result.stderr
    assert not user_file(isolated_config).exists()


def test_a_typo_names_the_nearest_installed_id_and_the_real_plugin_stays_enabled(run_cli: Any) -> None:
    result = run_cli("plugins", "disable", "memroy")
    assert result.code != 0
    assert "did you mean 'memory'?" in result.stderr and one_sentence(result.stderr), result.stderr
    listed = {p["id"]: p for p in run_cli("plugins", "list", "--json").json()}  # type: ignore[union-attr]
    assert listed["memory"]["status"] == "ok"


@pytest.mark.parametrize("args", [("disable", "Bad_Name"), ("enable", "Bad_Name", "--force"),
                                  ("disable", "grou.p", "--force"), ("info", "Bad_Name")])
def test_an_invalid_id_form_is_refused_even_with_force(args: tuple[str, ...], run_cli: Any,
                                                       isolated_config: Path) -> None:
    result = run_cli("plugins", *args)
    assert result.code != 0
    assert "is not valid: use lower-case letters, digits, '-' and '_'" in result.stderr
    assert one_sentence(result.stderr), result.stderr
    assert not user_file(isolated_config).exists()


def test_force_configures_a_plugin_that_will_be_installed_later(run_cli: Any, isolated_config: Path) -> None:
    result = run_cli("plugins", "disable", "future-scanner", "--force")
    assert result.code == 0, result.stderr
    assert tomllib.loads(user_file(isolated_config).read_text()) == {"plugins": {"future-scanner": {"enabled": False}}}
    record = {p["id"]: p for p in run_cli("plugins", "list", "--json").json()}["future-scanner"]  # type: ignore[union-attr]
    assert record["status"] == "missing"


def test_an_installed_id_is_enabled_and_disabled_as_before(run_cli: Any, isolated_config: Path) -> None:
    assert run_cli("plugins", "disable", "memory").code == 0
    assert run_cli("plugins", "enable", "memory").code == 0
    assert tomllib.loads(user_file(isolated_config).read_text()) == {"plugins": {"memory": {"enabled": True}}}


def test_info_on_a_typo_suggests_the_installed_id(run_cli: Any) -> None:
    result = run_cli("plugins", "info", "sqlit")
    assert result.code != 0
    assert "no plugin with id 'sqlit'" in result.stderr and "did you mean 'sqlite'?" in result.stderr
    assert "--force" not in result.stderr and one_sentence(result.stderr), result.stderr


# --------------------------------------------------------------------------- strict mode in plugins list


@pytest.mark.parametrize("how", ["environment", "toml"])
def test_configured_strict_mode_makes_plugins_list_fail_with_the_problems(
    how: str, run_cli: Any, fixture_site: Path
) -> None:
    env = {"PURPOSE_AGENT_STRICT": "1"} if how == "environment" else {}
    if how == "toml":
        (Path.cwd() / "purpose-agent.toml").write_text("[kernel]\nstrict = true\n")
    result = run_cli("plugins", "list", site=fixture_site, env=env)
    assert result.code != 0
    assert "fixture-import-error" in result.stdout  # the listing still prints
    assert "strict mode" in result.stderr and "Traceback" not in result.stderr
    assert re.search(r"fixture-import-error: could not be imported", result.stderr), result.stderr


def test_without_strict_mode_plugins_list_succeeds_despite_problems(run_cli: Any, fixture_site: Path) -> None:
    result = run_cli("plugins", "list", site=fixture_site)
    assert result.code == 0, result.stderr
    assert "fixture-import-error" in result.stdout and result.stderr == ""


# --------------------------------------------------------------------------- run --critic


def test_run_takes_the_critic_by_name_like_the_api(run_cli: Any, fixture_site: Path) -> None:
    result = run_cli("run", "say hi", "--model", "fixture-good:x", "--max-steps", "1", "--critic", "no-such-critic",
                     site=fixture_site, env={"PURPOSE_AGENT_PLUGINS": "fixture-good"})
    assert result.code == 1
    assert "no critic named 'no-such-critic'" in result.stderr and "Traceback" not in result.stderr
    chosen = run_cli("run", "say hi", "--model", "fixture-good:x", "--max-steps", "1", "--critic", "test-critic",
                     site=fixture_site, env={"PURPOSE_AGENT_PLUGINS": "fixture-good,test-critic"})
    assert "(test-critic: " in chosen.stdout, chosen.stdout + chosen.stderr


# --------------------------------------------------------------------------- --help lists plugin commands


def test_help_lists_the_commands_plugins_add_with_their_help(run_cli: Any, fixture_site: Path) -> None:
    result = run_cli("--help", site=fixture_site)
    assert result.code == 0, result.stderr
    assert re.search(r"fixture-hello\s+say hello \(fixture\)", result.stdout), result.stdout
    assert "plugins" in result.stdout and "doctor" in result.stdout  # the built-ins are still there


def test_help_lists_the_workspace_plugin_commands(run_cli: Any) -> None:
    out = run_cli("--help").stdout
    assert re.search(r"sandbox\s+run a Python file in the sandbox", out), out
    assert re.search(r"immune\s+evaluate the immune scanners", out), out


def test_help_prints_even_with_a_broken_config(run_cli: Any) -> None:
    (Path.cwd() / "purpose-agent.toml").write_text("[plugins\n")
    result = run_cli("--help")
    assert result.code == 0 and "plugins" in result.stdout and "Traceback" not in result.stderr


def test_help_imports_only_the_plugins_that_add_commands(fixture_site: Path) -> None:
    probe = (
        "import sys, io, contextlib\n"
        "from purpose_agent.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        "        main(['--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(sorted(m for m in ('pa_fixture_good', 'pa_fixture_heavy', 'pa_fixture_raises') if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(fixture_site)}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)
    # fixture-good adds a command; the heavy and raising fixtures add none
    assert out.stdout.strip().splitlines()[-1] == "['pa_fixture_good']"


# --------------------------------------------------------------------------- the documented import


def test_resolve_backend_is_importable_from_the_package_and_stays_lazy() -> None:
    probe = (
        "import json, sys\n"
        "import purpose_agent\n"
        "eager = 'purpose_agent.resolve' in sys.modules\n"
        "from purpose_agent import resolve_backend\n"
        "print(json.dumps([eager, resolve_backend.__module__, 'resolve_backend' in dir(purpose_agent)]))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [False, "purpose_agent.resolve", True]
