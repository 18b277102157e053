"""Fixtures for the sandbox tests: real sandboxes, host canaries, listeners and sentinels."""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sandbox_judges import BASE_SETTINGS, NAMESPACES_ONLY, Canaries, Listeners, build_sandbox, jail_pids

from purpose_agent.errors import SandboxUnavailable


@pytest.fixture(autouse=True)
def no_jail_process_left_from_an_earlier_test() -> Iterator[None]:
    """The host-side judges count every process of the jail uid: let an earlier test's killed
    jail finish exiting first (an OOM-killed process can take a moment), and fail if one lives on."""
    deadline = time.monotonic() + 10
    while jail_pids() and time.monotonic() < deadline:
        time.sleep(0.05)
    left = jail_pids()
    if left:
        pytest.fail(f"jail processes outlived their run by 10 s: host pids {left}")
    yield


def _usable(settings: dict[str, Any]) -> Any:
    sandbox = build_sandbox(**settings)
    try:
        sandbox.run("pass", timeout=10)
    except SandboxUnavailable as exc:
        pytest.skip(f"the sandbox refuses to run on this machine: {exc}")
    return sandbox


@pytest.fixture(scope="session")
def strict_sandbox() -> Any:
    """All layers required (the default policy)."""
    return _usable(BASE_SETTINGS)


@pytest.fixture(scope="session")
def ns_sandbox() -> Any:
    """Seccomp and Landlock switched off: namespaces, uid and rlimits must hold on their own."""
    return _usable(NAMESPACES_ONLY)


@pytest.fixture(params=["strict", "namespaces-only"])
def any_sandbox(request: pytest.FixtureRequest) -> Any:
    """Both configurations, for attempts that must fail with or without seccomp/Landlock."""
    name = "strict_sandbox" if request.param == "strict" else "ns_sandbox"
    return request.getfixturevalue(name)


@pytest.fixture
def canaries(monkeypatch: pytest.MonkeyPatch) -> Iterator[Canaries]:
    token = secrets.token_hex(8)
    directory = Path(f"/var/tmp/purpose-agent-canary-{token}")
    directory.mkdir(mode=0o755)
    directory.chmod(0o755)
    public_value = "public-canary-" + secrets.token_hex(16)
    root_value = "root-canary-" + secrets.token_hex(16)
    public_file = directory / "secret.txt"
    public_file.write_text(public_value)
    public_file.chmod(0o644)
    root_file = directory / "root-only.txt"
    root_file.write_text(root_value)
    root_file.chmod(0o600)
    env_value = "env-canary-" + secrets.token_hex(16)
    monkeypatch.setenv("PURPOSE_AGENT_SECRET_CANARY", env_value)
    try:
        yield Canaries(
            "PURPOSE_AGENT_SECRET_CANARY", env_value, directory, public_file, public_value, root_file, root_value
        )
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def listeners(canaries: Canaries) -> Iterator[Listeners]:
    tcp4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp4.bind(("127.0.0.1", 0))
    tcp4.listen(16)
    tcp6: socket.socket | None
    try:
        tcp6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        tcp6.bind(("::1", 0))
        tcp6.listen(16)
    except OSError:
        tcp6 = None
    udp4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp4.bind(("127.0.0.1", 0))
    unix_path = canaries.directory / "host.sock"
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix.bind(str(unix_path))
    unix_path.chmod(0o777)
    unix.listen(16)
    abstract_name = "purpose-agent-canary-" + secrets.token_hex(8)
    abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    abstract.bind("\0" + abstract_name)
    abstract.listen(16)
    socks = [s for s in (tcp4, tcp6, udp4, unix, abstract) if s is not None]
    for sock in socks:
        sock.setblocking(False)
    try:
        yield Listeners(tcp4, tcp6, udp4, unix_path, unix, abstract_name, abstract)
    finally:
        for sock in socks:
            sock.close()


@pytest.fixture
def sentinel() -> Iterator[subprocess.Popen[bytes]]:
    """A host process the code will try to kill, trace or read; it must survive untouched."""
    marker = "sentinel-" + secrets.token_hex(8)
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", marker])
    proc.marker = marker  # type: ignore[attr-defined]
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()
