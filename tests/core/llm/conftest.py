"""Fixtures for the client-layer tests: a loopback fake server, and a deadline on every test."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest

from purpose_agent.llm.fakeserver import FakeLLMServer

#: No test here may take longer than this; a hang becomes a failure, not a stuck CI job.
DEADLINE_S = 30


@pytest.fixture(autouse=True)
def deadline() -> Iterator[None]:
    def expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"test exceeded its {DEADLINE_S} s deadline (something hung)")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, DEADLINE_S)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as fake:
        yield fake
