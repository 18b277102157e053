"""Failure isolation with real installed distributions (tests/fixtures/dists), via the CLI.

Each fixture distribution is built and installed into a private directory, then the real
``purpose-agent`` CLI runs in a fresh interpreter with that directory on its path, so entry
points are read from real metadata exactly as on a user's machine.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow


def listing(run_cli: Any, site: Path, *args: str, env: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    result = run_cli("plugins", "list", "--json", *args, site=site, env=env)
    assert result.code == 0, result.stderr
    return {p["id"]: p for p in json.loads(result.stdout)}


def test_plugins_list_reports_every_failure_mode_and_keeps_going(run_cli: Any, fixture_site: Path) -> None:
    plugins = listing(run_cli, fixture_site)
    assert plugins["fixture-good"]["status"] == "ok"
    assert plugins["fixture-good"]["distribution"] == "pa-fixture-good"
    assert plugins["fixture-good"]["version"] == "0.0.1"
    assert plugins["fixture-good"]["roles"] == ["backend", "command"]
    assert plugins["memory"]["status"] == "ok"  # the built-in is unaffected

    broken = plugins["fixture-import-error"]
    assert broken["status"] == "failed"
    assert "could not be imported" in broken["reason"] and "pa_fixture_module_that_does_not_exist" in broken["reason"]

    assert plugins["fixture-unknown-hook"]["status"] == "failed"
    assert "register_frobnicators" in plugins["fixture-unknown-hook"]["reason"]

    assert plugins["fixture-future-api"]["status"] == "failed"
    assert "written for hook API 1.9" in plugins["fixture-future-api"]["reason"]

    dup = plugins["fixture-dup"]
    assert dup["status"] == "failed"
    assert "pa-fixture-dup-a 0.0.1" in dup["reason"] and "pa-fixture-dup-b 0.0.1" in dup["reason"]

    # imports fine; its hooks raise only when called, which plugins list does not need to do
    assert plugins["fixture-raises"]["status"] == "ok"
    for record in plugins.values():
        assert set(record) >= {"id", "distribution", "version", "roles", "status", "reason"}


def test_a_plugin_that_raises_in_a_hook_is_skipped_and_others_work(run_cli: Any, fixture_site: Path) -> None:
    result = run_cli("doctor", "--json", site=fixture_site)
    report = json.loads(result.stdout)
    assert result.code == 1, "doctor must report the broken plugins"
    statuses = {p["id"]: p for p in report["plugins"]}
    assert statuses["fixture-raises"]["status"] == "failed"
    assert "raised in hook register_backends: RuntimeError: backend registry exploded" in statuses["fixture-raises"]["reason"]
    names = [b["name"] for b in report["backends"]]
    assert {"fixture-good", "fixture-heavy"} <= set(names) and "fixture-raises" not in names


def test_invalid_settings_section_is_reported_with_file_and_key(run_cli: Any, fixture_site: Path) -> None:
    project = Path.cwd() / "purpose-agent.toml"
    project.write_text('[plugins.fixture-good]\nretries = "many"\n')
    good = listing(run_cli, fixture_site)["fixture-good"]
    assert good["status"] == "failed"
    assert "invalid configuration in [plugins.fixture-good]" in good["reason"]
    assert str(project) in good["reason"] and "'retries'" in good["reason"]


def test_settings_reach_the_plugin(run_cli: Any, fixture_site: Path) -> None:
    (Path.cwd() / "purpose-agent.toml").write_text('[plugins.fixture-good]\ngreeting = "ahoy"\n')
    result = run_cli("fixture-hello", "world", site=fixture_site)
    assert result.code == 0, result.stderr
    assert result.stdout.strip() == "ahoy, world"


def test_disable_works_while_the_plugin_is_broken_and_then_it_is_not_imported(run_cli: Any, fixture_site: Path) -> None:
    result = run_cli("plugins", "disable", "fixture-import-error", "--project", site=fixture_site)
    assert result.code == 0, result.stderr
    written = tomllib.loads((Path.cwd() / "purpose-agent.toml").read_text())
    assert written == {"plugins": {"fixture-import-error": {"enabled": False}}}
    record = listing(run_cli, fixture_site)["fixture-import-error"]
    assert record["status"] == "disabled" and "disabled in configuration" in record["reason"]
    result = run_cli("plugins", "enable", "fixture-import-error", "--project", site=fixture_site)
    assert listing(run_cli, fixture_site)["fixture-import-error"]["status"] == "failed"


def test_required_broken_plugin_fails_hard_with_a_clear_message(run_cli: Any, fixture_site: Path) -> None:
    (Path.cwd() / "purpose-agent.toml").write_text("[plugins.fixture-import-error]\nrequired = true\n")
    result = run_cli("doctor", site=fixture_site)
    assert result.code == 1
    assert "required plugin 'fixture-import-error'" in result.stderr
    assert "Traceback" not in result.stderr


def test_strict_mode_makes_problems_an_error_exit(run_cli: Any, fixture_site: Path) -> None:
    result = run_cli("--strict", "plugins", "list", site=fixture_site)
    assert result.code == 1
    assert "fixture-import-error" in result.stdout  # the listing still prints
    clean = run_cli("--strict", "plugins", "list", site=fixture_site,
                    env={"PURPOSE_AGENT_PLUGINS": "memory,fixture-good"})
    assert clean.code == 0, clean.stdout + clean.stderr


def test_purpose_agent_plugins_env_restricts_loading(run_cli: Any, fixture_site: Path) -> None:
    plugins = listing(run_cli, fixture_site, env={"PURPOSE_AGENT_PLUGINS": "fixture-good"})
    assert plugins["fixture-good"]["status"] == "ok"
    assert plugins["memory"]["status"] == "disabled"
    assert plugins["fixture-import-error"]["status"] == "disabled"
    none = listing(run_cli, fixture_site, env={"PURPOSE_AGENT_PLUGINS": ""})
    assert {p["status"] for p in none.values() if p["id"] not in ("fixture-dup", "cli")} == {"disabled"}
    assert none["cli"]["status"] == "ok"  # the CLI's own commands: an allowlist cannot take them away


def test_discovery_and_listing_do_not_import_heavy_dependencies(fixture_site: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    probe = (
        "import sys, json\n"
        "from purpose_agent.cli import main\n"
        "import io, contextlib\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['plugins', 'list'])\n"
        "heavy = ['pa_fixture_heavy.heavy_sdk', 'httpx', 'openai', 'llama_cpp', 'numpy', 'detect_secrets']\n"
        "print(json.dumps({'loaded': 'pa_fixture_heavy' in sys.modules,"
        " 'heavy': [m for m in heavy if m in sys.modules]}))\n"
    )
    # a fresh state directory: nothing remembered from an earlier listing, so the plugin is imported
    env = {"PYTHONPATH": str(fixture_site), "PATH": "/usr/bin:/bin", "XDG_STATE_HOME": str(tmp_path / "state")}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["loaded"], "the plugin itself should be imported by plugins list"
    assert result["heavy"] == []


def test_plugin_info_shows_hooks_config_and_components(run_cli: Any, fixture_site: Path) -> None:
    (Path.cwd() / "purpose-agent.toml").write_text('[plugins.fixture-good]\ngreeting = "yo"\n')
    result = run_cli("plugins", "info", "fixture-good", "--json", site=fixture_site)
    info = json.loads(result.stdout)
    assert info["hooks"] == ["register_backends", "register_commands", "settings_model"]
    assert info["config_section"] == {"greeting": "yo"}
    assert info["components"] == {"backend": ["fixture-good"], "command": ["fixture-hello"]}
    missing = run_cli("plugins", "info", "nope", site=fixture_site)
    assert missing.code == 1 and "no plugin with id 'nope'" in missing.stderr
