"""Together AI backend for purpose-agent: ``together:MODEL``.

This module is what the entry point loads, so it imports only the hook marker; the HTTP client
and the backend class load when a ``together:`` model is first built. The provider's quirks live
in :mod:`.backend`.
"""

from __future__ import annotations

from typing import Any

from purpose_agent.hookspecs import hookimpl

PURPOSE_AGENT_HOOK_API = "1.0"


@hookimpl
def settings_model() -> Any:
    """``[plugins.together]``: base_url, api_key_env, default_model, timeout, retries, headers, prices."""
    from purpose_agent.llm.settings import ProviderSettings

    return ProviderSettings


@hookimpl
def register_backends(register: Any) -> None:
    """Register the ``together`` provider."""

    def factory(model: str, context: Any) -> Any:
        from .backend import TogetherBackend

        return TogetherBackend(model, settings=context.settings)

    register("together", factory, description="Together AI (TOGETHER_API_KEY)")
