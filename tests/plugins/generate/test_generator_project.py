"""`purpose-agent generate` writes a project that `purpose-agent run` and `python system.py` execute:
real subprocesses, the openai plugin talking to a loopback server that plays the model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from purpose_agent_http.testing import FakeResponse

pytestmark = pytest.mark.slow

ANSWER = "ALERT: CVE-2026-0001 affects pallets/flask"
SPEC = {
    "name": "cve-monitor",
    "purpose": "Monitor GitHub repos for CVEs and alert the team",
    "agents": [
        {"name": "scanner", "role": "a security analyst", "task": "find new advisories", "tools": ["osv_lookup"]},
        {"name": "alerter", "role": "an on-call notifier", "task": "write the alert"},
    ],
    "flow": [{"source": "BEGIN", "target": "scanner"}, {"source": "scanner", "target": "alerter"}],
    "evaluation": [{"task": "Check pallets/flask", "expect": ["CVE"]}, {"task": "Check psf/requests", "expect": ["CVE"]}],
    "routing": {"roles": {"alerter": "openai:other-model", "scanner": "nowhere:model"}},
}


def chat(text: str) -> FakeResponse:
    return FakeResponse(json_body={"id": "c", "object": "chat.completion", "model": "fake-model", "choices": [
        {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}})


def test_generate_then_run_and_evaluate_the_project(run_cli: Any, server: Any, tmp_path: Path) -> None:
    server.reply_text = json.dumps({"thought": "", "action": "answer", "answer": ANSWER})
    # The first proposal is prose around JSON: the openai backend refuses it as structured output, and the
    # generator asks once more, quoting the problem.
    server.queue("/v1/chat/completions", chat("Here you go:\n```json\n" + json.dumps(SPEC) + "\n```"),
                 chat(json.dumps(SPEC)))
    endpoint = tmp_path / "endpoint.toml"
    endpoint.write_text(f'[plugins.openai]\nbase_url = "{server.url}/v1"\n')
    env = {"PURPOSE_AGENT_CONFIG": str(endpoint), "OPENAI_API_KEY": "test-key", "PURPOSE_AGENT_PLUGINS": "openai,generate"}
    project = tmp_path / "cve"

    made = run_cli("generate", "Monitor GitHub repos for CVEs and alert the team", "--out", str(project),
                   "--model", "openai:fake-model", env=env, cwd=tmp_path)
    assert made.code == 0, made.stderr
    assert "cve-monitor: 2 agent(s)" in made.stdout
    assert "missing tool osv_lookup (for scanner): write it as a @pa.tool in system.py" in made.stdout
    assert "repaired: routing sends 'scanner' to 'nowhere:model', but no installed plugin serves 'nowhere'" in made.stdout
    assert (project / "purpose-agent.toml").is_file() and (project / "system.py").is_file()
    repair_request = server.requests[1].body["messages"][-1]["content"]
    assert repair_request.startswith("That proposal could not be used: the reply was not valid JSON")

    ran = run_cli("run", "Check pallets/flask", env=env, cwd=project)
    assert ran.code == 0, ran.stderr
    assert "system: cve-monitor (scanner, alerter)" in ran.stdout
    assert f"[scanner] {ANSWER}" in ran.stdout and f"[alerter] {ANSWER}" in ran.stdout
    assert f"answer:\n{ANSWER}" in ran.stdout
    calls = [r for r in server.requests if r.path.endswith("/chat/completions")]
    assert [r.body["model"] for r in calls[2:4]] == ["fake-model", "other-model"]  # the alerter's route

    evaluated = subprocess.run([sys.executable, "system.py", "--evaluate"], capture_output=True, text=True,
                               cwd=project, env={**os.environ, **env}, timeout=120)
    assert evaluated.returncode == 0, evaluated.stderr
    assert "PASS  Check pallets/flask" in evaluated.stdout and "2/2 passed" in evaluated.stdout

    again = run_cli("generate", "anything", "--out", str(project), "--model", "openai:fake-model", env=env, cwd=tmp_path)
    assert again.code == 1 and "already has purpose-agent.toml and system.py" in again.stderr
