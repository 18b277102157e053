"""What the five immune scanners say about a text: shared by the rule tests of this folder."""

from __future__ import annotations

import time

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
