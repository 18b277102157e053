"""Settings of the ``minilm`` plugin (``[plugins.minilm]``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class MiniLMSettings(BaseModel):
    """How the embedder batches its work."""

    model_config = ConfigDict(extra="forbid")

    # Texts are sorted by length and padded to the longest of each batch; a batch ends at
    # batch_size texts or batch_tokens word pieces (texts x longest), whichever comes first.
    batch_size: int = Field(default=32, ge=1, le=1024, description="Most texts encoded in one forward pass.")
    batch_tokens: int = Field(default=512, ge=1, le=1_000_000, description="Most word pieces in one forward pass.")
    # One BLAS thread is fastest for the small matrices of a few sentences, and stays fast on a
    # busy machine; raise it for large batches on an idle machine with many cores. It is set for
    # the whole process on first use (numpy has one BLAS); 0 leaves numpy's setting alone.
    threads: int = Field(
        default=1, ge=0, le=256, description="BLAS threads for numpy in this process (0: leave as is)."
    )
