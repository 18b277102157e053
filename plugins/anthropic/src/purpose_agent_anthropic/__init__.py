"""Anthropic backend for purpose-agent: ``anthropic:MODEL``.

The entry point names :data:`plugin`; the HTTP client and the backend class load when a
``anthropic:`` model is first built. The provider's quirks live in :mod:`.backend`.
"""

from __future__ import annotations

from purpose_agent_http import ProviderPlugin

PURPOSE_AGENT_HOOK_API = "1.2"

#: What the ``purpose_agent.backend`` entry point ``anthropic`` names.
plugin = ProviderPlugin("anthropic", "purpose_agent_anthropic.backend:AnthropicBackend", description="Anthropic Messages API (ANTHROPIC_API_KEY)")
