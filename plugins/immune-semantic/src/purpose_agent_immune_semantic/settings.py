"""The settings of ``[plugins.immune-semantic]``.

::

    [plugins.immune-semantic]
    threshold = 0.9        # probability for a high (blocking) finding; default: the trained one
    medium_band = 0.2      # report medium from threshold - medium_band up to the threshold
    window_sentences = 2   # sentences per window in long texts (default: what the head was trained on)
    window_stride = 1      # a new window starts every this many sentences
    sentence_gate = 0.1    # long texts: windows scored only around a sentence this suspicious alone (0: all)
    max_chars = 32000      # a longer text is not embedded: one high finding says so
    max_sentences = 200    # a text of more sentences is not embedded either (its cost is predicted, not paid)

Window settings default to those the shipped head was trained with; changing them changes what
the head sees, so measure with ``tests/benchmarks/bench_immune_semantic.py`` before relying on it.
This module imports pydantic, so it is only imported from inside the ``settings_model`` hook.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class SemanticSettings(BaseModel):
    """Threshold, warning band, windowing and size cap of the semantic scanner."""

    model_config = ConfigDict(extra="forbid")

    threshold: float | None = Field(
        default=None,
        gt=0.0,
        lt=1.0,
        description="Attack probability at or above which the finding is high (blocks promotion); "
        "default: the threshold chosen in training for at most 1% false positives on benign lessons.",
    )
    medium_band: float = Field(
        default=0.2,
        ge=0.0,
        lt=1.0,
        description="Probabilities within this distance below the threshold give a medium finding (reported, not blocking).",
    )
    window_sentences: int | None = Field(
        default=None, ge=1, le=20, description="Sentences per window in long texts; default: as trained."
    )
    window_stride: int | None = Field(
        default=None, ge=1, le=20, description="A new window starts every this many sentences; default: as trained."
    )
    sentence_gate: float | None = Field(
        default=None,
        ge=0.0,
        lt=1.0,
        description="A long text's sentences are scored alone first; a window is scored only if one of its "
        "sentences reached this probability (default 0.1, never above the bottom of the medium band; 0 scores "
        "every window).",
    )
    max_chars: int = Field(
        default=32_000,
        gt=0,
        description="Texts longer than this are not embedded (time grows with length); such a text gets one "
        "high finding that says so. Raise it to screen longer texts.",
    )

    max_sentences: int = Field(
        default=200,
        gt=0,
        description="Texts of more sentences (segments) than this are not embedded: the time a scan takes "
        "grows with its sentences, and past this many it would run out the kernel's default 2 s scan "
        "deadline. Such a text gets one high finding that says so, at once. Raise it (with [kernel] "
        "scan_timeout_s) to screen longer texts.",
    )

    @model_validator(mode="after")
    def _stride_within_window(self) -> SemanticSettings:
        if self.window_sentences is not None and self.window_stride is not None and self.window_stride > self.window_sentences:
            raise ValueError(
                f"window_stride ({self.window_stride}) must not exceed window_sentences ({self.window_sentences}), "
                "or some sentences would never be scored"
            )
        return self
