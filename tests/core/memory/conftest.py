"""Fixtures for the memory tests: a private data directory, kernels with the stores, a deadline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from purpose_agent_sqlite.testing import store_kernel


@pytest.fixture
def deadline_seconds() -> float:
    """60 s per test (none here is slow)."""
    return 60


@pytest.fixture(autouse=True)
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the default database location at a temporary directory."""
    home = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    return home


@pytest.fixture
def kernel() -> Any:
    """A kernel with the two embedded stores (purpose-agent-sqlite), isolated from whatever else is installed."""
    return store_kernel()


@pytest.fixture(params=["memory", "sqlite"])
def any_store(request: pytest.FixtureRequest, kernel: Any, tmp_path: Path) -> Iterator[Any]:
    """Each store the retrieval and lifecycle code must work with."""
    options = {"path": str(tmp_path / "any.db")} if request.param == "sqlite" else {}
    store = kernel.memory_store(request.param, **options)
    yield store
    store.close()


@pytest.fixture
def sqlite_store(kernel: Any, tmp_path: Path) -> Iterator[Any]:
    store = kernel.memory_store("sqlite", path=str(tmp_path / "memory.db"))
    yield store
    store.close()
