"""Fireworks AI backend for purpose-agent: ``fireworks:MODEL``.

The entry point names :data:`plugin`; the HTTP client and the backend class load when a
``fireworks:`` model is first built. The provider's quirks live in :mod:`.backend`.
"""

from __future__ import annotations

from purpose_agent_http import ProviderPlugin

PURPOSE_AGENT_HOOK_API = "1.2"

#: What the ``purpose_agent.backend`` entry point ``fireworks`` names.
plugin = ProviderPlugin("fireworks", "purpose_agent_fireworks.backend:FireworksBackend", description="Fireworks AI (FIREWORKS_API_KEY)")
