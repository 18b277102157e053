"""A circuit breaker for calls to one remote agent.

closed: calls go through; ``failure_threshold`` consecutive failures open the circuit.
open: calls fail at once (no network) until ``reset_after_s`` has passed; then the circuit is
half-open. half-open: exactly one call (the probe) goes through; success closes the circuit,
failure opens it again for another ``reset_after_s``. Every state change is reported to
``on_change(old, new, reason)`` so it can be shown in a run's events.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Literal

State = Literal["closed", "open", "half_open"]


class CircuitOpen(Exception):
    """Raised by :meth:`CircuitBreaker.before_call` when the call must not be made."""


class CircuitBreaker:
    """Thread-safe closed / open / half-open breaker with a single half-open probe."""

    def __init__(
        self,
        *,
        failure_threshold: int = 3,
        reset_after_s: float = 30.0,
        on_change: Callable[[State, State, str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failure_threshold = failure_threshold
        self.reset_after_s = reset_after_s
        self.on_change = on_change
        self._clock = clock
        self._lock = threading.Lock()
        self._state: State = "closed"
        self._failures = 0
        self._opened_at = 0.0
        self._probing = False

    @property
    def state(self) -> State:
        """The current state (an open circuit whose wait is over reads ``half_open``)."""
        with self._lock:
            if self._state == "open" and self._clock() - self._opened_at >= self.reset_after_s:
                return "half_open"
            return self._state

    @property
    def failures(self) -> int:
        """Consecutive failures counted since the last success."""
        return self._failures

    def retry_in(self) -> float:
        """Seconds until an open circuit lets a probe through (0 when not open)."""
        with self._lock:
            if self._state != "open":
                return 0.0
            return max(0.0, self.reset_after_s - (self._clock() - self._opened_at))

    def before_call(self) -> None:
        """Admit a call or raise :class:`CircuitOpen` with a sentence saying when to retry."""
        changed: tuple[State, State, str] | None = None
        with self._lock:
            if self._state == "open":
                waited = self._clock() - self._opened_at
                if waited < self.reset_after_s:
                    raise CircuitOpen(
                        f"circuit open after {self._failures} consecutive failure(s); "
                        f"next attempt allowed in {self.reset_after_s - waited:.1f} s"
                    )
                self._state = "half_open"
                changed = ("open", "half_open", f"{self.reset_after_s:g} s passed; one probe call allowed")
            if self._state == "half_open":
                if self._probing:
                    raise CircuitOpen("circuit half-open: a probe call is already in flight; try again shortly")
                self._probing = True
        if changed:
            self._report(*changed)

    def record_success(self) -> None:
        """A call succeeded: reset the count; a half-open circuit closes."""
        with self._lock:
            old = self._state
            self._state, self._failures, self._probing = "closed", 0, False
        if old != "closed":
            self._report(old, "closed", "a call succeeded")

    def record_failure(self, reason: str) -> None:
        """A call failed: count it; open the circuit at the threshold, or at once when half-open."""
        with self._lock:
            old = self._state
            self._failures += 1
            self._probing = False
            opens = old == "half_open" or (old == "closed" and self._failures >= self.failure_threshold)
            if opens:
                self._state, self._opened_at = "open", self._clock()
        if opens:
            why = "the probe failed" if old == "half_open" else f"{self._failures} consecutive failures"
            self._report(old, "open", f"{why}: {reason}")

    def _report(self, old: State, new: State, reason: str) -> None:
        if self.on_change is not None:
            self.on_change(old, new, reason)
