"""Routing between backends: order candidates (local first, cheapest first) and fall back.

:class:`FallbackBackend` is itself a Backend. It tries its backends in order and moves on when
one fails in a way another backend can fix: a rate limit, an outage (5xx, 529, unreachable), a
timeout, a stream that broke before its first chunk, or a missing API key. Errors that would
fail the same way everywhere (a rejected request) are raised at once. A stream that already
yielded text is never restarted elsewhere: the caller has shown part of the reply.

What is local and what costs how much comes from the backend plugins' profiles (the
``backend_profiles`` hook, :class:`~purpose_agent.interfaces.BackendProfile`), never from a table
here. Configured in TOML::

    [model]
    default = "groq:llama-3.1-8b-instant"
    fallback = ["openrouter:meta-llama/llama-3.1-8b-instruct", "ollama:qwen3:1.7b", "llamacpp:"]
    routing = "in-order"   # or "local-first", "cheapest"
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .errors import LLMError, MissingAPIKeyError, ProviderUnavailableError

if TYPE_CHECKING:
    from .interfaces import BackendProfile
    from .models import ChatRequest, ChatResponse, StreamChunk

ROUTING_POLICIES = ("in-order", "local-first", "cheapest")


def order_specs(specs: Sequence[str], policy: str = "in-order",
                profiles: Mapping[str, BackendProfile] | None = None) -> list[str]:
    """Order ``provider:model`` specs by a routing policy (stable: ties keep the given order).

    ``local-first`` puts the backends whose profile says ``local`` first; ``cheapest`` sorts by
    the profile's list price (prompt + completion per 1M tokens; local is free, unknown prices
    last). ``profiles`` maps backend names to their profiles (see :mod:`purpose_agent.resolve`).
    """
    if policy not in ROUTING_POLICIES:
        raise ValueError(f"unknown routing policy {policy!r}; use one of {', '.join(ROUTING_POLICIES)} in [model] routing")
    specs = list(specs)
    profiles = profiles or {}
    if policy == "local-first":
        return sorted(specs, key=lambda s: not getattr(profiles.get(s.partition(":")[0]), "local", False))
    if policy == "cheapest":

        def price(spec: str) -> float:
            provider, _, model = spec.partition(":")
            profile = profiles.get(provider)
            known = profile.price_of(model) if profile is not None else None
            return float("inf") if known is None else known[0] + known[1]

        return sorted(specs, key=price)
    return specs


def should_fall_back(error: BaseException) -> bool:
    """Whether another backend might succeed where this one failed."""
    return isinstance(error, MissingAPIKeyError) or (isinstance(error, LLMError) and error.retryable)


class FallbackBackend:
    """Try each backend in turn; see the module docstring for when it moves on."""

    def __init__(self, backends: Sequence[Any]) -> None:
        if not backends:
            raise ValueError("FallbackBackend needs at least one backend")
        self.backends = list(backends)
        self.name = self.backends[0].name
        #: The backend that served the last successful call (for traces and reports).
        self.last_used: Any = None

    def _exhausted(self, errors: list[tuple[str, BaseException]]) -> ProviderUnavailableError:
        lines = "; ".join(f"{name}: {error}" for name, error in errors)
        return ProviderUnavailableError(
            f"every backend in the fallback chain failed ({len(errors)}): {lines}",
            provider="fallback",
        )

    @staticmethod
    def _note_failure(errors: list[tuple[str, BaseException]], backend: Any, error: Exception) -> None:
        """Record a failure the next backend may fix; re-raise any other (it would fail there too)."""
        if not should_fall_back(error):
            raise error
        errors.append((backend.name, error))

    def complete(self, request: ChatRequest) -> ChatResponse:
        """The first successful reply along the chain."""
        errors: list[tuple[str, BaseException]] = []
        for backend in self.backends:
            try:
                response = backend.complete(request)
            except Exception as exc:
                self._note_failure(errors, backend, exc)
                continue
            self.last_used = backend
            return response
        raise self._exhausted(errors)

    async def acomplete(self, request: ChatRequest) -> ChatResponse:
        """Async twin of :meth:`complete`."""
        errors: list[tuple[str, BaseException]] = []
        for backend in self.backends:
            try:
                response = await backend.acomplete(request)
            except Exception as exc:
                self._note_failure(errors, backend, exc)
                continue
            self.last_used = backend
            return response
        raise self._exhausted(errors)

    def stream(self, request: ChatRequest) -> Iterator[StreamChunk]:
        """Stream from the first backend that starts; never switch after a chunk was yielded."""
        errors: list[tuple[str, BaseException]] = []
        for backend in self.backends:
            started = False
            try:
                for chunk in backend.stream(request):
                    started = True
                    self.last_used = backend
                    yield chunk
                return
            except Exception as exc:
                if started:
                    raise
                self._note_failure(errors, backend, exc)
        raise self._exhausted(errors)

    async def astream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        """Async twin of :meth:`stream`."""
        errors: list[tuple[str, BaseException]] = []
        for backend in self.backends:
            started = False
            try:
                async for chunk in backend.astream(request):
                    started = True
                    self.last_used = backend
                    yield chunk
                return
            except Exception as exc:
                if started:
                    raise
                self._note_failure(errors, backend, exc)
        raise self._exhausted(errors)

    def health(self) -> tuple[bool, str]:
        """Reachable if any backend in the chain is."""
        details = []
        for backend in self.backends:
            check = getattr(backend, "health", None)
            ok, detail = check() if check else (None, "no health check")
            details.append(f"{backend.name}: {'ok' if ok else 'unreachable' if ok is False else 'unknown'} ({detail})")
            if ok:
                return True, "; ".join(details)
        return False, "; ".join(details)
