"""The plugin tutorial works when followed literally."""

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


def tutorial_files() -> dict[str, str]:
    """Every 'Create `PATH`:' followed by a fenced block, in order."""
    text = TUTORIAL.read_text()
    pattern = re.compile(r"Create `([^`]+)`:\s*\n\s*```[a-z]*\n(.*?)\n```", re.DOTALL)
    return {path: body + "\n" for path, body in pattern.findall(text)}


def tutorial_toml_config() -> str:
    text = TUTORIAL.read_text()
    match = re.search(r"Configure it in `purpose-agent.toml`.*?```toml\n(.*?)\n```", text, re.DOTALL)
    assert match, "the tutorial's configuration example is missing"
    return match.group(1) + "\n"


def test_tutorial_plugin_builds_passes_its_tests_and_is_discovered(tmp_path: Path, run_cli: Any) -> None:
    files = tutorial_files()
    assert set(files) == {
        "purpose-agent-tls-guard/pyproject.toml",
        "purpose-agent-tls-guard/src/purpose_agent_tls_guard/__init__.py",
        "purpose-agent-tls-guard/tests/test_tls_guard.py",
    }
    for relative, body in files.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
    package = tmp_path / "purpose-agent-tls-guard"
    site = tmp_path / "site"
    # `pip install -e ./purpose-agent-tls-guard`, into a private directory instead of the venv
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--disable-pip-version-check", "--target", str(site), str(package)], check=True)
    env = {**os.environ, "PYTHONPATH": str(site)}
    # `pytest purpose-agent-tls-guard/tests`
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(package / "tests")],
                           capture_output=True, text=True, env=env, cwd=tmp_path)
    assert tests.returncode == 0, tests.stdout + tests.stderr

    # `purpose-agent plugins list`
    listed = {p["id"]: p for p in json.loads(run_cli("plugins", "list", "--json", site=site).stdout)}
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
    listed = {p["id"]: p for p in json.loads(run_cli("plugins", "list", "--json", site=site).stdout)}
    assert listed["tls-guard"]["status"] == "failed"
    assert "invalid configuration in [plugins.tls-guard]" in listed["tls-guard"]["reason"]
    assert "'severity': Input should be 'low', 'medium', 'high' or 'critical' (got 'loud')" in listed["tls-guard"]["reason"]

    # `purpose-agent plugins disable tls-guard`
    assert run_cli("plugins", "disable", "tls-guard", site=site).code == 0
    listed = {p["id"]: p for p in json.loads(run_cli("plugins", "list", "--json", site=site).stdout)}
    assert listed["tls-guard"]["status"] == "disabled"
