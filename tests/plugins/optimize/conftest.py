"""The optimizer's tests: optimize_kit.py (next to this file) holds the shared team and model."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(autouse=True)
def state_dir(tmp_path, monkeypatch):
    """Every test records into its own state directory (the kernel's state_dir() reads it)."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "state" / "purpose-agent"
