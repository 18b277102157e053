"""The model-client layer: one HTTP client for every provider, plus routing and resolution.

- :mod:`.http` — :class:`HTTPBackend`: clients, timeouts, retries with backoff that honours
  ``Retry-After``, typed errors (:mod:`.errors`);
- :mod:`.openai_compat` — :class:`OpenAICompatibleBackend`, the chat-completions protocol with
  hooks provider plugins override for their quirks;
- :mod:`.streaming` — SSE and NDJSON parsers; :mod:`.pricing` — cost per call;
- :mod:`.resolve` — :func:`resolve_backend` (``provider:model`` or the best default here);
- :mod:`.routing` — :class:`FallbackBackend` and routing policies;
- :mod:`.fakeserver` — a loopback server for provider tests.

Names are imported lazily so ``import purpose_agent.llm`` costs nothing until one is used.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "HTTPBackend": ".http",
    "RateLimitInfo": ".http",
    "OpenAICompatibleBackend": ".openai_compat",
    "ToolCallAssembler": ".openai_compat",
    "ProviderSettings": ".settings",
    "RetryPolicy": ".retry",
    "FallbackBackend": ".routing",
    "order_specs": ".routing",
    "resolve_backend": ".resolve",
    "Resolution": ".resolve",
    "LLMError": ".errors",
    "MissingAPIKeyError": ".errors",
    "AuthenticationError": ".errors",
    "ModelNotFoundError": ".errors",
    "BadRequestError": ".errors",
    "RateLimitError": ".errors",
    "ProviderUnavailableError": ".errors",
    "RequestTimeoutError": ".errors",
    "StreamError": ".errors",
    "ResponseFormatError": ".errors",
    "StructuredOutputError": ".errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'purpose_agent.llm' has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)
