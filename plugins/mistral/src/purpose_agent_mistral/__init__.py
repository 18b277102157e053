"""Mistral backend for purpose-agent: ``mistral:MODEL``.

The entry point names :data:`plugin`; the HTTP client and the backend class load when a
``mistral:`` model is first built. The provider's quirks live in :mod:`.backend`.
"""

from __future__ import annotations

from purpose_agent_http import ProviderPlugin

PURPOSE_AGENT_HOOK_API = "1.2"

#: What the ``purpose_agent.backend`` entry point ``mistral`` names.
plugin = ProviderPlugin("mistral", "purpose_agent_mistral.backend:MistralBackend", description="Mistral AI (MISTRAL_API_KEY)")
