"""OpenAI backend for purpose-agent: ``openai:MODEL``.

The entry point names :data:`plugin`; the HTTP client and the backend class load when a
``openai:`` model is first built. The provider's quirks live in :mod:`.backend`.
"""

from __future__ import annotations

from purpose_agent_http import EmbeddingProviderPlugin

PURPOSE_AGENT_HOOK_API = "1.2"

#: What the ``purpose_agent.backend`` and ``purpose_agent.embedder`` entry points ``openai`` name:
#: chat models, and embeddings from ``/embeddings`` (any OpenAI-compatible server via ``base_url``).
plugin = EmbeddingProviderPlugin(
    "openai", "purpose_agent_openai.backend:OpenAIBackend", description="OpenAI (OPENAI_API_KEY)",
    settings="purpose_agent_openai.settings:OpenAISettings",
    embedder="purpose_agent_http.embeddings:OpenAIEmbedder", default_embedding_model="text-embedding-3-small",
)
