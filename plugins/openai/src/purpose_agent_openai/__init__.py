"""OpenAI backend for purpose-agent: ``openai:MODEL``.

This module is what the entry point loads, so it imports only the hook marker; the HTTP client
and the backend class load when a ``openai:`` model is first built. The provider's quirks live
in :mod:`.backend`.
"""

from __future__ import annotations

from typing import Any

from purpose_agent.hookspecs import hookimpl

PURPOSE_AGENT_HOOK_API = "1.0"


@hookimpl
def settings_model() -> Any:
    """``[plugins.openai]``: base_url, api_key_env, default_model, timeout, retries, headers, prices."""
    from .settings import OpenAISettings

    return OpenAISettings


@hookimpl
def register_backends(register: Any) -> None:
    """Register the ``openai`` provider."""

    def factory(model: str, context: Any) -> Any:
        from .backend import OpenAIBackend

        return OpenAIBackend(model, settings=context.settings)

    register("openai", factory, description="OpenAI (OPENAI_API_KEY)")
