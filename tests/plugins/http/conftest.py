"""The HTTP client-layer tests run against loopback servers; none may take longer than 30 s."""

from __future__ import annotations

import pytest


@pytest.fixture
def deadline_seconds() -> float:
    return 30
