"""The plugin tutorial works when followed literally, for the scanner and for the critic."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
TUTORIAL = REPO / "docs" / "writing-a-plugin.md"

pytestmark = pytest.mark.slow


def tutorial_files(package: str | None = None) -> dict[str, str]:
    """Every 'Create `PATH`:' followed by a fenced block, in order (only under ``package/`` if given)."""
    text = TUTORIAL.read_text()
    pattern = re.compile(r"Create `([^`]+)`:\s*\n\s*```[a-z]*\n(.*?)\n```", re.DOTALL)
    files = {path: body + "\n" for path, body in pattern.findall(text)}
    return {path: body for path, body in files.items() if package is None or path.startswith(package + "/")}


def build_and_test(files: dict[str, str], tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """Write the files, install the package (`pip install -e ./PACKAGE`, into a private directory
    instead of the venv) and run its tests (`pytest PACKAGE/tests`); return the install directory
    and an environment that sees it."""
    for relative, body in files.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
    [package_name] = {relative.split("/")[0] for relative in files}
    package = tmp_path / package_name
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--disable-pip-version-check", "--target", str(site), str(package)], check=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH", "")]))}
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(package / "tests")],
                           capture_output=True, text=True, env=env, cwd=tmp_path)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    return site, env


def build_tutorial_package(package: str, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """:func:`build_and_test` over the tutorial's files for ``package``, after checking they are
    exactly its pyproject.toml, its module and its test module."""
    files = tutorial_files(package)
    module = package.replace("-", "_")
    tests = "test_" + package.removeprefix("purpose-agent-").replace("-", "_") + ".py"
    assert set(files) == {f"{package}/pyproject.toml", f"{package}/src/{module}/__init__.py", f"{package}/tests/{tests}"}
    return build_and_test(files, tmp_path)


def listed_plugins(run_cli: Any, site: Path) -> dict[str, dict[str, Any]]:
    """`purpose-agent plugins list --json` with ``site`` installed, by plugin id."""
    return {p["id"]: p for p in json.loads(run_cli("plugins", "list", "--json", site=site).stdout)}


def tutorial_toml_config() -> str:
    text = TUTORIAL.read_text()
    match = re.search(r"Configure it in `purpose-agent.toml`.*?```toml\n(.*?)\n```", text, re.DOTALL)
    assert match, "the tutorial's configuration example is missing"
    return match.group(1) + "\n"


def test_tutorial_plugin_builds_passes_its_tests_and_is_discovered(tmp_path: Path, run_cli: Any) -> None:
    assert {p.split("/")[0] for p in tutorial_files()} == {"purpose-agent-tls-guard", "purpose-agent-source-check"}
    site, env = build_tutorial_package("purpose-agent-tls-guard", tmp_path)

    # `purpose-agent plugins list`
    listed = listed_plugins(run_cli, site)
    assert listed["tls-guard"]["status"] == "ok" and listed["tls-guard"]["roles"] == ["scanner"]

    # the TOML section, as written in the tutorial, reaches the plugin
    (Path.cwd() / "purpose-agent.toml").write_text(tutorial_toml_config())
    probe = (
        "from purpose_agent.kernel import Kernel\nfrom purpose_agent.models import ScanRequest\n"
        "k = Kernel.load()\n"
        "f = k.scan(ScanRequest(text='export GIT_SSL_NO_VERIFY=1; requests.get(u, verify=False)'))\n"
        "print([(x.category, x.severity.value) for x in f if x.scanner == 'tls-guard'])\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "[('python_verify_false', 'critical')]"

    # the invalid value the tutorial shows is reported as it says
    (Path.cwd() / "purpose-agent.toml").write_text('[plugins.tls-guard]\nseverity = "loud"\n')
    listed = listed_plugins(run_cli, site)
    assert listed["tls-guard"]["status"] == "failed"
    assert "invalid configuration in [plugins.tls-guard]" in listed["tls-guard"]["reason"]
    reason = listed["tls-guard"]["reason"]
    assert "'severity' = 'loud'" in reason and "Input should be 'low', 'medium', 'high' or 'critical'" in reason, reason

    # `purpose-agent plugins disable tls-guard`
    assert run_cli("plugins", "disable", "tls-guard", site=site).code == 0
    listed = listed_plugins(run_cli, site)
    assert listed["tls-guard"]["status"] == "disabled"


def test_tutorial_critic_builds_passes_its_tests_and_scores_teams_chosen_in_toml(tmp_path: Path, run_cli: Any) -> None:
    site, env = build_tutorial_package("purpose-agent-source-check", tmp_path)

    # `purpose-agent plugins list`
    listed = listed_plugins(run_cli, site)
    assert listed["source-check"]["status"] == "ok" and listed["source-check"]["roles"] == ["critic"]

    # `[runtime] critic`, as written in the tutorial, chooses the critic for a team that names none
    match = re.search(r"choose it in `purpose-agent.toml`:\s*```toml\n(.*?)\n```", TUTORIAL.read_text(), re.DOTALL)
    assert match, "the tutorial's [runtime] critic example is missing"
    (Path.cwd() / "purpose-agent.toml").write_text(match.group(1) + "\n")
    probe = (
        "import purpose_agent as pa\nfrom purpose_agent.testing import ScriptedBackend\n"
        "team = pa.purpose('Research SQLite', model=ScriptedBackend([ScriptedBackend.answer('see https://x.example/a')]),"
        " tools=[], roles=['researcher'], memory=False)\n"
        "result = team.run('When was SQLite first released?')\n"
        "print(team.critic.name, result.score.value, result.score.reason)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "source-check 0.0 0 of 1 cited source(s) were fetched by a tool"

    # a name no installed plugin registers is a sentence that lists the critics that are
    (Path.cwd() / "purpose-agent.toml").write_text('[runtime]\ncritic = "source-chek"\n')
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
    assert out.returncode != 0 and "no critic named 'source-chek'" in out.stderr and "source-check" in out.stderr
