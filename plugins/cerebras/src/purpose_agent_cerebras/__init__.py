"""Cerebras backend for purpose-agent: ``cerebras:MODEL``.

The entry point names :data:`plugin`; the HTTP client and the backend class load when a
``cerebras:`` model is first built. The provider's quirks live in :mod:`.backend`.
"""

from __future__ import annotations

from purpose_agent_http import ProviderPlugin

PURPOSE_AGENT_HOOK_API = "1.2"

#: What the ``purpose_agent.backend`` entry point ``cerebras`` names.
plugin = ProviderPlugin("cerebras", "purpose_agent_cerebras.backend:CerebrasBackend", description="Cerebras inference (CEREBRAS_API_KEY)")
