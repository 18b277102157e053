"""Ollama backend for purpose-agent: ``ollama:MODEL``.

The entry point names :data:`plugin`; the HTTP client and the backend class load when a
``ollama:`` model is first built. The provider's quirks live in :mod:`.backend`.
"""

from __future__ import annotations

from purpose_agent_http import EmbeddingProviderPlugin

PURPOSE_AGENT_HOOK_API = "1.2"

#: What the ``purpose_agent.backend`` and ``purpose_agent.embedder`` entry points ``ollama`` name:
#: chat models, and embeddings from ``/api/embed``.
plugin = EmbeddingProviderPlugin(
    "ollama", "purpose_agent_ollama.backend:OllamaBackend", description="Ollama on this machine (OLLAMA_HOST)",
    embedder="purpose_agent_http.embeddings:OllamaEmbedder", default_embedding_model="nomic-embed-text",
)
