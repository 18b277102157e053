"""An in-process local model for purpose-agent: ``llamacpp:`` (embedded SmolLM2) or ``llamacpp:/path/model.gguf``.

Importing this module is cheap: llama_cpp (and the model file) load on the first request.
"""

from __future__ import annotations

from typing import Any

from purpose_agent.hookspecs import hookimpl, lazy_settings

PURPOSE_AGENT_HOOK_API = "1.2"


settings_model = lazy_settings("purpose_agent_llamacpp.settings:LlamaCppSettings")


@hookimpl
def register_backends(register: Any) -> None:
    """Register the ``llamacpp`` provider."""

    def factory(model: str, context: Any) -> Any:
        from .backend import LlamaCppBackend

        return LlamaCppBackend(model, settings=context.settings)

    register("llamacpp", factory, description="local GGUF model in-process (llama-cpp-python); default: SmolLM2-135M")


@hookimpl
def backend_profiles() -> list[Any]:
    """The last resort of the default chain: always usable (no key, no server), free, and weak."""
    from purpose_agent.interfaces import BackendProfile

    def always(environ: Any) -> str:
        return "the embedded local model (no key, no config, no Ollama found)"

    return [BackendProfile(name="llamacpp", priority=100, detect=always, local=True)]
