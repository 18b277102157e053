"""Plugin ``immune-semantic``: the semantic tier of the immune system.

It reads meaning instead of surface forms. The text is cut into overlapping windows of two
sentences (:mod:`.windows`), windows are embedded by the kernel's ``minilm-int8`` embedder
(all-MiniLM-L6-v2 with 8-bit dense layers, from ``purpose-agent-minilm``) and scored by a small
trained head (:mod:`.head`); the worst window decides. In a long text the sentences are scored
alone first and only the windows around a suspicious one are scored (:mod:`.scanner`). A probability at or above the head's threshold is a ``high`` finding (which blocks
promotion), one in the band below it a ``medium`` finding, with the span of that window.

Importing this module is cheap: numpy, the head and the model load on the first scan.
Errors propagate (the kernel turns them into a blocking finding): a missing head, an embedder
whose model does not match the head, or a failing model never let a text through.
"""

from __future__ import annotations

from typing import Any

from purpose_agent.hookspecs import hookimpl, lazy_settings

PURPOSE_AGENT_HOOK_API = "1.1"

#: The id ``purpose_agent.testing.make_kernel`` registers this module under (same as the entry point).
plugin_id = "immune-semantic"
#: Reported apart from the rule tier by ``purpose-agent immune eval``.
IMMUNE_TIER = "semantic"


settings_model = lazy_settings("purpose_agent_immune_semantic.settings:SemanticSettings")


@hookimpl
def scan(request: Any, settings: Any, context: Any) -> list[Any]:
    """Score ``request.text`` window by window; one finding for the worst window, or none."""
    from .scanner import SCANNER

    return SCANNER.scan(request, settings, context)
