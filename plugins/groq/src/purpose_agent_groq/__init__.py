"""Groq backend for purpose-agent: ``groq:MODEL``.

The entry point names :data:`plugin`; the HTTP client and the backend class load when a
``groq:`` model is first built. The provider's quirks live in :mod:`.backend`.
"""

from __future__ import annotations

from purpose_agent_http import ProviderPlugin

PURPOSE_AGENT_HOOK_API = "1.2"

#: What the ``purpose_agent.backend`` entry point ``groq`` names.
plugin = ProviderPlugin("groq", "purpose_agent_groq.backend:GroqBackend", description="Groq cloud (GROQ_API_KEY)")
