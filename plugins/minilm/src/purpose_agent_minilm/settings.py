"""Settings of the ``minilm`` plugin (``[plugins.minilm]``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class MiniLMSettings(BaseModel):
    """Which backend computes the embeddings, and how it batches and threads its work."""

    model_config = ConfigDict(extra="forbid")

    # Texts are sorted by length and padded to the longest of each batch; a batch ends at
    # batch_size texts or batch_tokens word pieces (texts x longest), whichever comes first.
    batch_size: int = Field(default=32, ge=1, le=1024, description="Most texts encoded in one forward pass.")
    batch_tokens: int = Field(default=512, ge=1, le=1_000_000, description="Most word pieces in one forward pass.")
    # Both backends give the same vectors (within 1e-5) under the same model_id; onnx is faster.
    backend: Literal["auto", "onnx", "numpy"] = Field(
        default="auto",
        description="auto: ONNX Runtime when onnxruntime and onnx are installed, else numpy.",
    )
    # One thread is fastest for the small matrices of a few sentences, and stays fast on a
    # busy machine; raise it for large batches on an idle machine with many cores. With onnx it is
    # the session's intra-op thread count (0: one per core). With numpy it is set for the whole
    # process on first use (numpy has one BLAS); 0 leaves numpy's setting alone.
    threads: int = Field(
        default=1,
        ge=0,
        le=256,
        description="ONNX Runtime intra-op threads, or numpy's BLAS threads for the process (0: the library's default).",
    )
