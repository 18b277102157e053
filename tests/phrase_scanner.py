"""A predictable test scanner shared by the plugin tests that need one (skills, vault): it blocks
any text containing :data:`BLOCKED_PHRASE`, so those tests do not move with the immune rules."""

from __future__ import annotations

from typing import Any

from purpose_agent.testing import plugin

#: What the test scanner blocks: the opening of a classic injection.
BLOCKED_PHRASE = "ignore all previous instructions"


def phrase_scanner_plugin() -> Any:
    """A scanner plugin ("phrase-guard") that reports a high finding for any text containing
    :data:`BLOCKED_PHRASE`, in any case, and nothing otherwise."""
    from purpose_agent.models import Finding, Severity

    def scan(request: Any) -> list[Finding]:
        if BLOCKED_PHRASE in request.text.lower():
            return [Finding(scanner="phrase-guard", category="injection", severity=Severity.HIGH,
                            explanation="tells the reader to ignore its instructions")]
        return []

    return plugin("phrase-guard", scan=scan)
