"""purpose-agent-http: the model-client layer HTTP provider packages build on.

This module is the distribution's public API; provider packages import from here (and the fake
server from :mod:`purpose_agent_http.testing`), never from the submodules, which may change.

- :class:`HTTPBackend` — clients, timeouts, connection cap, retries with backoff that honours
  ``Retry-After``, cost per call; failures raise the model-call errors of the kernel's public
  :mod:`purpose_agent.errors` (the fallback chain decides by them), which providers import there;
- :class:`OpenAICompatibleBackend` — the chat-completions protocol, with hooks a provider
  overrides for its quirks;
- :class:`ProviderPlugin` — the plugin object a provider package's entry point names: it
  registers the backend, validates ``[plugins.<provider>]`` and tells the kernel how to detect
  the provider and what it costs (the ``backend_profiles`` hook);
- :class:`EmbeddingProviderPlugin`, :class:`OpenAIEmbedder`, :class:`OllamaEmbedder` — a
  provider that also serves sentence embeddings registers an embedder under its name;
- SSE and NDJSON parsers (:func:`iter_sse`, :func:`iter_ndjson` and async twins), one for every
  protocol, and :meth:`HTTPBackend.stream_sse`, which drives a protocol's :class:`SSEStreamState`; :func:`parse_duration` and :func:`parse_retry_after` for rate-limit headers.

Names load on first use, so importing a provider package costs almost nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what the lazy names are, for type checkers
    from .embeddings import HTTPEmbedder, OllamaEmbedder, OpenAIEmbedder
    from .http import HTTPBackend, RateLimitInfo, SSEStreamState
    from .openai_compat import OpenAICompatibleBackend, ToolCallAssembler, parse_arguments
    from .provider_plugin import EmbeddingProviderPlugin, ProviderPlugin
    from .retry import RETRYABLE_STATUSES, RetryPolicy, parse_duration, parse_retry_after
    from .settings import EmbeddingProviderSettings, ProviderSettings
    from .streaming import SSEEvent, aiter_ndjson, aiter_sse, iter_ndjson, iter_sse, parse_json

_EXPORTS = {
    "HTTPEmbedder": ".embeddings",
    "OpenAIEmbedder": ".embeddings",
    "OllamaEmbedder": ".embeddings",
    "EmbeddingProviderPlugin": ".provider_plugin",
    "EmbeddingProviderSettings": ".settings",
    "HTTPBackend": ".http",
    "RateLimitInfo": ".http",
    "SSEStreamState": ".http",
    "OpenAICompatibleBackend": ".openai_compat",
    "ToolCallAssembler": ".openai_compat",
    "parse_arguments": ".openai_compat",
    "ProviderPlugin": ".provider_plugin",
    "ProviderSettings": ".settings",
    "RetryPolicy": ".retry",
    "RETRYABLE_STATUSES": ".retry",
    "parse_duration": ".retry",
    "parse_retry_after": ".retry",
    "SSEEvent": ".streaming",
    "iter_sse": ".streaming",
    "aiter_sse": ".streaming",
    "iter_ndjson": ".streaming",
    "aiter_ndjson": ".streaming",
    "parse_json": ".streaming",
}

__all__ = [
    "RETRYABLE_STATUSES",
    "EmbeddingProviderPlugin",
    "EmbeddingProviderSettings",
    "HTTPBackend",
    "HTTPEmbedder",
    "OllamaEmbedder",
    "OpenAICompatibleBackend",
    "OpenAIEmbedder",
    "ProviderPlugin",
    "ProviderSettings",
    "RateLimitInfo",
    "RetryPolicy",
    "SSEEvent",
    "SSEStreamState",
    "ToolCallAssembler",
    "aiter_ndjson",
    "aiter_sse",
    "iter_ndjson",
    "iter_sse",
    "parse_arguments",
    "parse_duration",
    "parse_json",
    "parse_retry_after",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'purpose_agent_http' has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)
