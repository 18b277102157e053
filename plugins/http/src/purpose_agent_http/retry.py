"""When to try a failed request again, and how long to wait first.

Exponential backoff with full jitter (a random wait between 0 and the exponential step, so many
clients rate-limited together do not retry in lock-step), capped, and overridden by the server's
own ``Retry-After`` (seconds or an HTTP date) or a provider's reset header when it gives one.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

#: HTTP statuses worth another try: timeouts, conflicts, rate limits, server errors, and 529
#: (Anthropic's "overloaded").
RETRYABLE_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts a request gets and how the waits between them grow.

    ``max_attempts`` counts the first try (1 means no retries). ``max_wait`` caps every wait,
    including one a server asks for with ``Retry-After``: a server asking for an hour should
    surface as an error the caller can act on, not a hung program.
    """

    max_attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_wait: float = 60.0
    jitter: bool = True

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """The wait before retry number ``attempt`` (1-based) when the server said nothing."""
        step = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        if not self.jitter:
            return step
        return (rng or random).uniform(0, step)

    def delay(self, attempt: int, server_wait: float | None) -> float:
        """The wait to use: the server's, if it gave one (capped), else the backoff."""
        if server_wait is not None:
            return max(0.0, min(server_wait, self.max_wait))
        return self.backoff(attempt)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or an HTTP date), or ``None``."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def parse_duration(value: str | None) -> float | None:
    """Seconds from a Go-style duration as OpenAI and Groq send in reset headers (``6m0s``, ``1.5s``, ``250ms``)."""
    if not value:
        return None
    text = value.strip()
    try:
        return float(text)
    except ValueError:
        pass
    total, number = 0.0, ""
    index = 0
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    while index < len(text):
        char = text[index]
        if char.isdigit() or char == ".":
            number += char
            index += 1
            continue
        unit = "ms" if text.startswith("ms", index) else char
        if unit not in units or not number:
            return None
        total += float(number) * units[unit]
        number = ""
        index += len(unit)
    if number:  # trailing number without unit
        return None
    return total
