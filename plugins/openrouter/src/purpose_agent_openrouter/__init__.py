"""OpenRouter backend for purpose-agent: ``openrouter:MODEL``.

The entry point names :data:`plugin`; the HTTP client and the backend class load when a
``openrouter:`` model is first built. The provider's quirks live in :mod:`.backend`.
"""

from __future__ import annotations

from purpose_agent_http import ProviderPlugin

PURPOSE_AGENT_HOOK_API = "1.2"

#: What the ``purpose_agent.backend`` entry point ``openrouter`` names.
plugin = ProviderPlugin("openrouter", "purpose_agent_openrouter.backend:OpenRouterBackend", description="OpenRouter (OPENROUTER_API_KEY)")
