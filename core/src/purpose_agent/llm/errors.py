"""Errors a model call can end in, each a sentence that says what to do next.

All of them derive from :class:`purpose_agent.errors.PurposeAgentError`, so the CLI prints them
as one line instead of a traceback. :class:`LLMError` carries the provider, the HTTP status (when
there was one) and whether trying again later may help (``retryable``), which the fallback chain
uses to decide whether to move on to the next backend.
"""

from __future__ import annotations

from ..errors import PurposeAgentError


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
