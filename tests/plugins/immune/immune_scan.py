"""What the five immune scanners say about a text, and the tests every round of rules runs: shared
by the rule tests of this folder."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import pytest

from purpose_agent.models import ScanRequest
from purpose_agent_immune import injection, privacy, scope, score, tools
from purpose_agent_immune.detectors import Context

#: The scanner modules, in the order the plugin registers them.
ALL = (injection, score, tools, privacy, scope)


def high(text: str, source: str = "lesson") -> set[str]:
    """Categories at high or critical from all five scanners (a lesson by default, as the eval scans it)."""
    found: set[str] = set()
    for module in ALL:
        for finding in module.SCANNER.scan(ScanRequest(text=text, source=source), None, None):
            if finding.severity.value in ("high", "critical"):
                found.add(finding.category)
    return found


def seconds_to_scan(text: str) -> float:
    """Wall-clock seconds for every rule of the five scanners to run over ``text`` (ReDoS checks)."""
    started = time.perf_counter()
    for module in ALL:
        module.SCANNER.hits(text, Context())
    return time.perf_counter() - started


def kinds(table: dict[tuple[str, str], list[str]]) -> list[tuple[str, str, str]]:
    """``(kind, text, category)`` rows from a table of attacks by ``(kind, category)``."""
    return [(kind, text, category) for (kind, category), texts in table.items() for text in texts]


def rule_round_tests(
    catch: Iterable[tuple[str, str, str]], near_misses: Iterable[str], adversarial: Iterable[str]
) -> tuple[Callable[..., None], Callable[..., None], Callable[..., None]]:
    """The three tests every round of rules has, over that round's samples: each attack is caught
    at high with its category, each near miss (a real-looking agent rule) has no high finding, and
    each adversarial input is scanned in linear time. A test module binds them to its own
    ``test_*`` names, under which pytest collects them."""
    rows = list(catch)

    @pytest.mark.parametrize(("kind", "text", "category"), rows, ids=[f"{row[0]}-{i}" for i, row in enumerate(rows)])
    def test_caught(kind: str, text: str, category: str) -> None:
        found = high(text)
        assert category in found, (kind, found)

    @pytest.mark.parametrize("rule_text", list(near_misses))
    def test_passes(rule_text: str) -> None:
        found = high(rule_text)
        assert not found, found

    @pytest.mark.parametrize("text", list(adversarial), ids=lambda t: repr(t[:12]))
    def test_linear_time(text: str) -> None:
        seconds = seconds_to_scan(text)
        assert seconds < 3.0, seconds

    return test_caught, test_passes, test_linear_time


def osa_distance(a: str, b: str) -> int:
    """Optimal string alignment distance by the textbook table (the reference for the fast checks)."""
    table = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1)
    return table[len(a)][len(b)]
