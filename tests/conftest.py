"""Shared fixtures: isolated config homes, and the fixture plugin distributions installed for real."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURE_DISTS = REPO / "tests" / "fixtures" / "dists"


@pytest.fixture
def deadline_seconds(request: pytest.FixtureRequest) -> float:
    """How long one test may run; a directory's conftest may override this fixture."""
    return 300 if request.node.get_closest_marker("slow") else 120


@pytest.fixture(autouse=True)
def deadline(deadline_seconds: float) -> Iterator[None]:
    """Turn a hang into a failure (SIGALRM in the main thread), never a stuck CI job."""

    def expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"test exceeded its {deadline_seconds:g} s deadline (something hung)")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, deadline_seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def server() -> Iterator[Any]:
    """An LLM server speaking the OpenAI, Ollama and Anthropic protocols on a loopback port."""
    from purpose_agent_http.testing import FakeLLMServer

    with FakeLLMServer() as fake:
        yield fake


@pytest.fixture(autouse=True)
def isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point user config at an empty temporary home and clear our environment variables, so no
    test reads the developer's real configuration."""
    home = tmp_path / "home"
    (home / ".config").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))  # the embedding cache, for one
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))  # the memory store's default file
    for name in ("PURPOSE_AGENT_CONFIG", "PURPOSE_AGENT_PLUGINS", "PURPOSE_AGENT_STRICT"):
        monkeypatch.delenv(name, raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return home


@pytest.fixture(scope="session")
def fixture_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Install every distribution under tests/fixtures/dists into one target directory.

    They are real installed distributions (dist-info with entry_points.txt), kept out of the
    development environment: only processes given this directory on PYTHONPATH see them.
    """
    target = tmp_path_factory.mktemp("fixture-site")
    dists = sorted(p for p in FIXTURE_DISTS.iterdir() if (p / "pyproject.toml").is_file())
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
         "--no-build-isolation", "--target", str(target), *map(str, dists)],
        check=True,
    )
    return target


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self) -> object:
        """Parse stdout as JSON."""
        return json.loads(self.stdout)


@pytest.fixture
def run_cli(isolated_config: Path) -> Callable[..., CliResult]:
    """Run ``python -m purpose_agent`` in a fresh interpreter with the isolated config home."""

    def run(*args: str, site: Path | None = None, env: dict[str, str] | None = None, cwd: Path | None = None,
            timeout: float = 60) -> CliResult:
        full_env = dict(os.environ)
        if site is not None:
            full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), full_env.get("PYTHONPATH", "")]))
        full_env.update(env or {})
        proc = subprocess.run(
            [sys.executable, "-m", "purpose_agent", *args],
            capture_output=True, text=True, env=full_env, cwd=cwd or Path.cwd(), timeout=timeout,
        )
        return CliResult(proc.returncode, proc.stdout, proc.stderr)

    return run


@pytest.fixture
def tmp_toml(tmp_path: Path) -> Iterator[Callable[[str, str], Path]]:
    """Write a TOML file under tmp_path and return its path."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    yield write
