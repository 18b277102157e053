"""Ollama backend for purpose-agent: ``ollama:MODEL``.

The entry point names :data:`plugin`; the HTTP client and the backend class load when a
``ollama:`` model is first built. The provider's quirks live in :mod:`.backend`.
"""

from __future__ import annotations

from purpose_agent_http import ProviderPlugin

PURPOSE_AGENT_HOOK_API = "1.2"

#: What the ``purpose_agent.backend`` entry point ``ollama`` names.
plugin = ProviderPlugin("ollama", "purpose_agent_ollama.backend:OllamaBackend", description="Ollama on this machine (OLLAMA_HOST)")
