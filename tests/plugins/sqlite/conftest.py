"""Fixtures for the embedded store's tests: a kernel with its two stores (``sqlite`` and
``memory``), isolated from whatever else is installed, and a store in a temporary file. (The
default data directory is a temporary one for every test: tests/conftest.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from purpose_agent_sqlite.testing import store_kernel


@pytest.fixture
def kernel() -> Any:
    """A kernel with this package's two stores and nothing else."""
    return store_kernel()


@pytest.fixture
def sqlite_store(kernel: Any, tmp_path: Path) -> Iterator[Any]:
    store = kernel.memory_store("sqlite", path=str(tmp_path / "memory.db"))
    yield store
    store.close()
