"""``purpose-agent ui`` as a real process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow


def cli_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PURPOSE_AGENT")}
    env.update({"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "XDG_CACHE_HOME": str(tmp_path / "cache"),
                "HOME": str(tmp_path / "home")})
    return env


def test_ui_refuses_a_public_bind_without_a_token(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "purpose_agent", "ui", "--host", "0.0.0.0"], cwd=tmp_path,
                            env=cli_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "without authentication: set PURPOSE_AGENT_UI_TOKEN" in result.stderr


def test_ui_serves_the_page_and_the_status(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "purpose_agent", "ui", "--port", str(port), "--purpose",
                                "Review pull requests", "--no-memory"], cwd=tmp_path, env=cli_env(tmp_path),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                page = httpx.get(url + "/", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline, process.communicate()
                time.sleep(0.1)
        status = httpx.get(url + "/api/status").json()
    finally:
        process.terminate()
        process.wait(15)
    assert "new EventSource" in page.text
    assert status["team"]["purpose"] == "Review pull requests"
