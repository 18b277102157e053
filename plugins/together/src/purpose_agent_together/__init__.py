"""Together AI backend for purpose-agent: ``together:MODEL``.

The entry point names :data:`plugin`; the HTTP client and the backend class load when a
``together:`` model is first built. The provider's quirks live in :mod:`.backend`.
"""

from __future__ import annotations

from purpose_agent_http import ProviderPlugin

PURPOSE_AGENT_HOOK_API = "1.2"

#: What the ``purpose_agent.backend`` entry point ``together`` names.
plugin = ProviderPlugin("together", "purpose_agent_together.backend:TogetherBackend", description="Together AI (TOGETHER_API_KEY)")
