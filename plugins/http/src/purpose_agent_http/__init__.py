"""purpose-agent-http: the model-client layer HTTP provider packages build on.

This module is the distribution's public API; provider packages import from here (and the fake
server from :mod:`purpose_agent_http.testing`), never from the submodules, which may change.

- :class:`HTTPBackend` — clients, timeouts, connection cap, retries with backoff that honours
  ``Retry-After``, typed errors (the kernel's :mod:`purpose_agent.errors`), cost per call;
- :class:`OpenAICompatibleBackend` — the chat-completions protocol, with hooks a provider
  overrides for its quirks;
- :class:`ProviderPlugin` — the plugin object a provider package's entry point names: it
  registers the backend, validates ``[plugins.<provider>]`` and tells the kernel how to detect
  the provider and what it costs (the ``backend_profiles`` hook);
- SSE and NDJSON parsers (:func:`iter_sse`, :func:`iter_ndjson` and async twins), one for every
  protocol; :func:`parse_duration` and :func:`parse_retry_after` for rate-limit headers.

Names load on first use, so importing a provider package costs almost nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what the lazy names are, for type checkers
    from purpose_agent.errors import (
        AuthenticationError,
        BadRequestError,
        LLMError,
        MissingAPIKeyError,
        ModelNotFoundError,
        ProviderUnavailableError,
        RateLimitError,
        RequestTimeoutError,
        ResponseFormatError,
        StreamError,
        StructuredOutputError,
    )

    from .http import HTTPBackend, RateLimitInfo
    from .openai_compat import OpenAICompatibleBackend, ToolCallAssembler, parse_arguments
    from .provider_plugin import ProviderPlugin
    from .retry import RETRYABLE_STATUSES, RetryPolicy, parse_duration, parse_retry_after
    from .settings import ProviderSettings
    from .streaming import SSEEvent, aiter_ndjson, aiter_sse, iter_ndjson, iter_sse, parse_json

_EXPORTS = {
    "HTTPBackend": ".http",
    "RateLimitInfo": ".http",
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
    # The model-call errors are the kernel's (the fallback chain decides by them); offered here
    # too so a provider package imports everything it needs from one place.
    "LLMError": "purpose_agent.errors",
    "MissingAPIKeyError": "purpose_agent.errors",
    "AuthenticationError": "purpose_agent.errors",
    "ModelNotFoundError": "purpose_agent.errors",
    "BadRequestError": "purpose_agent.errors",
    "RateLimitError": "purpose_agent.errors",
    "ProviderUnavailableError": "purpose_agent.errors",
    "RequestTimeoutError": "purpose_agent.errors",
    "StreamError": "purpose_agent.errors",
    "ResponseFormatError": "purpose_agent.errors",
    "StructuredOutputError": "purpose_agent.errors",
}

__all__ = [
    "RETRYABLE_STATUSES",
    "AuthenticationError",
    "BadRequestError",
    "HTTPBackend",
    "LLMError",
    "MissingAPIKeyError",
    "ModelNotFoundError",
    "OpenAICompatibleBackend",
    "ProviderPlugin",
    "ProviderSettings",
    "ProviderUnavailableError",
    "RateLimitError",
    "RateLimitInfo",
    "RequestTimeoutError",
    "ResponseFormatError",
    "RetryPolicy",
    "SSEEvent",
    "StreamError",
    "StructuredOutputError",
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
