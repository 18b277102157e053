"""``purpose-agent a2a serve`` and ``call`` as real processes."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from a2a.client import A2ACardResolver

pytestmark = pytest.mark.slow


def cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PURPOSE_AGENT")}
    env.update({"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "XDG_CACHE_HOME": str(tmp_path / "cache"),
                "HOME": str(tmp_path / "home"), **extra})
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(tmp_path: Path, *args: str, **env: str) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "purpose_agent", "a2a", "serve", "--port", str(port), *args],
                               cwd=tmp_path, env=cli_env(tmp_path, **env), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + "/.well-known/agent-card.json", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"server did not start: {process.communicate()}") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(15)


def test_serve_refuses_a_public_bind_without_a_token(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "purpose_agent", "a2a", "serve", "--host", "0.0.0.0"],
                            cwd=tmp_path, env=cli_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "refusing to serve on 0.0.0.0 without authentication: set PURPOSE_AGENT_A2A_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_publishes_the_card_the_sdk_resolves(tmp_path: Path) -> None:
    with serving(tmp_path, "--purpose", "Translate release notes") as url:
        async def resolve() -> object:
            async with httpx.AsyncClient() as http:
                return await A2ACardResolver(http, url).get_agent_card()

        card = asyncio.run(resolve())
    assert "Translate release notes" in card.description  # type: ignore[attr-defined]
    assert card.supported_interfaces[0].url == url  # type: ignore[attr-defined]


def test_serve_with_a_token_requires_it(tmp_path: Path) -> None:
    with serving(tmp_path, PURPOSE_AGENT_A2A_TOKEN="cli-token") as url:
        body = {"jsonrpc": "2.0", "id": 1, "method": "GetTask", "params": {"id": "x"}}
        anonymous = httpx.post(url + "/", json=body, headers={"A2A-Version": "1.0"})
        card = httpx.get(url + "/.well-known/agent-card.json").json()
    assert anonymous.status_code == 401
    assert "bearer" in card["securitySchemes"]


def test_call_names_an_unknown_agent_and_the_configured_ones(tmp_path: Path) -> None:
    (tmp_path / "purpose-agent.toml").write_text('[plugins.a2a.agents.helper]\nurl = "http://127.0.0.1:9"\n')
    unknown = subprocess.run([sys.executable, "-m", "purpose_agent", "a2a", "call", "nobody", "hi"], cwd=tmp_path,
                             env=cli_env(tmp_path), capture_output=True, text=True, timeout=60)
    down = subprocess.run([sys.executable, "-m", "purpose_agent", "a2a", "call", "helper", "hi"], cwd=tmp_path,
                          env=cli_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert unknown.returncode == 2 and "no remote agent 'nobody'" in unknown.stderr and "known: helper" in unknown.stderr
    assert down.returncode == 1 and "remote agent 'helper' unavailable" in down.stderr
    assert "Traceback" not in unknown.stderr + down.stderr
