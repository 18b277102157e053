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
