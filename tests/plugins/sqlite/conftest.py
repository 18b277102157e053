"""Fixtures for the embedded store's tests: a private data directory and a kernel with its two
stores (``sqlite`` and ``memory``), isolated from whatever else is installed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from purpose_agent_sqlite.testing import store_kernel


@pytest.fixture(autouse=True)
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the default database location at a temporary directory."""
    home = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    return home


@pytest.fixture
def kernel() -> Any:
    """A kernel with this package's two stores and nothing else."""
    return store_kernel()


@pytest.fixture
def sqlite_store(kernel: Any, tmp_path: Path) -> Iterator[Any]:
    store = kernel.memory_store("sqlite", path=str(tmp_path / "memory.db"))
    yield store
    store.close()
