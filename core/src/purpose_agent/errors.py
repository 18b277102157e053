"""Errors the kernel raises, and the errors a backend raises (model calls).

Every message says what failed, where, and what to do.
"""

from __future__ import annotations

from typing import Any


class PurposeAgentError(Exception):
    """Base of every error this project raises on purpose."""


class ConfigError(PurposeAgentError):
    """A configuration file or value is invalid."""


class PluginError(PurposeAgentError):
    """A plugin could not be loaded or used and the configuration says it must be."""


class UnknownComponentError(PurposeAgentError, LookupError):
    """A component name (backend, critic, store, …) that no active plugin registered."""


class MemoryWriteVetoed(PurposeAgentError):
    """Raised by a ``memory_write`` hook implementation to refuse a write; the message is why."""


class SandboxUnavailable(PurposeAgentError):
    """A sandbox cannot isolate code on this machine; the message names the missing layer."""


class LessonRejected(PurposeAgentError, ValueError):
    """A taught lesson was not kept. ``findings`` holds the scanners' :class:`~purpose_agent.models.Finding`
    objects for the text (empty when no scanner objected, e.g. a replay showed a regression, or no
    scanner was active); the message says why in words."""

    def __init__(self, message: str, findings: list[Any] | None = None) -> None:
        super().__init__(message)
        self.findings: list[Any] = list(findings or [])


# ---------------------------------------------------------------------------------------------
# Model calls: the errors a backend raises. They are part of the Backend contract because the
# kernel's fallback routing decides by them (``retryable``) whether another backend may succeed.
# ---------------------------------------------------------------------------------------------


class LLMError(PurposeAgentError):
    """A model call failed. ``provider`` names the backend, ``status`` the HTTP status if any."""

    retryable: bool = False

    def __init__(self, message: str, *, provider: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.provider = provider
        self.status = status


class MissingAPIKeyError(LLMError):
    """The environment variable that holds the provider's key is not set."""

    def __init__(self, provider: str, env_var: str) -> None:
        super().__init__(
            f"{provider}: no API key: the environment variable {env_var} is not set. "
            f"Set it (export {env_var}=...) or choose another model ([model] default in purpose-agent.toml; 'purpose-agent models' lists what is available).",
            provider=provider,
        )
        self.env_var = env_var


class AuthenticationError(LLMError):
    """The provider refused the key (HTTP 401/403)."""

    def __init__(self, provider: str, env_var: str, status: int, detail: str) -> None:
        where = f"the key in {env_var}" if env_var else "the request's credentials"
        super().__init__(
            f"{provider}: authentication failed (HTTP {status}): {detail}. Check {where}: it may be "
            f"wrong, expired or lack access to this model.",
            provider=provider,
            status=status,
        )
        self.env_var = env_var


class ModelNotFoundError(LLMError):
    """The provider does not serve the requested model."""

    def __init__(self, provider: str, model: str, status: int | None, detail: str) -> None:
        super().__init__(
            f"{provider}: unknown model '{model}'{f' (HTTP {status})' if status else ''}: {detail}. "
            f"List the models it serves with: purpose-agent models --provider {provider}",
            provider=provider,
            status=status,
        )
        self.model = model


class BadRequestError(LLMError):
    """The provider rejected the request itself (HTTP 400/422); retrying the same request won't help."""


class RateLimitError(LLMError):
    """HTTP 429 (or a rate-limit error inside a stream) that outlasted the retries."""

    retryable = True

    def __init__(self, provider: str, attempts: int, wait_s: float | None, detail: str) -> None:
        wait = f" The provider suggests waiting {wait_s:.1f} s." if wait_s is not None else ""
        super().__init__(
            f"{provider}: rate limited (HTTP 429) after {attempts} attempt(s): {detail}.{wait} "
            "Wait and retry, lower the request rate, or configure [model] fallback to route elsewhere.",
            provider=provider,
            status=429,
        )
        self.wait_s = wait_s
        self.attempts = attempts


class ProviderUnavailableError(LLMError):
    """The provider is down or overloaded (5xx, 529) or could not be reached at all."""

    retryable = True


class RequestTimeoutError(LLMError):
    """No (complete) answer within the configured timeout."""

    retryable = True


class StreamError(LLMError):
    """The stream broke: an error object arrived mid-stream, or it ended before finishing."""

    retryable = True


class ResponseFormatError(LLMError):
    """The provider answered with something that is not the documented shape (e.g. broken JSON)."""

    retryable = True


class StructuredOutputError(LLMError):
    """A reply requested as JSON (``response_schema``) is not valid JSON."""
