"""The semantic scanner: windows → embeddings → head → one finding for the worst window.

By default every window is scored. ``overlap_threshold`` > 0 reads a long text in two passes
instead: the first scores a subset of the windows that covers every sentence once
(:func:`~.windows.covering`: every other two-sentence window); the second scores a window the first
skipped — the pair straddling two scored windows — only when one of those neighbours reached
``overlap_threshold`` (never above the medium band). A plainly benign text then costs about 60% of
the embeddings. It is off by default because it costs recall: a sentence is scored with one
neighbour instead of two, and an injection whose two halves each look harmless next to their
other neighbour is missed (on the written training data, 16 of 408 multi-window texts lost their
high finding at 0.2, 6 even at 0.001; on the written test split recall fell from 85.5% to 82.5%).
"""

from __future__ import annotations

import threading
from typing import Any

from purpose_agent.models import Finding, ScanRequest, Severity

from .head import HEAD_PATH, Head, HeadError, load_head
from .windows import Window, covering, normalise, windows

SCANNER_ID = "immune-semantic"
CATEGORY = "semantic_injection"
#: ``Finding.rule_id`` of every finding: the detector is the trained head, not a rule.
RULE_ID = "semantic-head"
#: Longest text embedded by default (twice the kernel's default lesson cap of 16,000). Time grows with
#: length: prose of 32,000 characters is ~370 two-sentence windows, ~4-5 CPU-seconds here, past the
#: kernel's default 2 s scan deadline (which then blocks it); a longer text would only take longer.
MAX_CHARS_DEFAULT = 32_000
#: Probability of a first-pass window at or above which the skipped windows overlapping it are
#: scored too; 0 (the default): no first pass, every window is scored (see the module docstring).
OVERLAP_THRESHOLD = 0.0


class SemanticScanner:
    """Scores texts with the head in ``head.json``, loaded on first use (thread-safe)."""

    def __init__(self, head_path: Any = HEAD_PATH) -> None:
        self._head_path = head_path
        self._head: Head | None = None
        self._lock = threading.Lock()

    def head(self) -> Head:
        """The trained head, read once."""
        if self._head is None:
            with self._lock:
                if self._head is None:
                    self._head = load_head(self._head_path)
        return self._head

    def windows_of(self, text: str, settings: Any = None) -> list[Window]:
        """The windows :meth:`scan` scores for ``text`` under ``settings`` (the trained layout by default)."""
        layout = dict(self.head().window)
        if settings is not None and settings.window_sentences is not None:
            layout["size"] = settings.window_sentences
        if settings is not None and settings.window_stride is not None:
            layout["stride"] = settings.window_stride
        layout["stride"] = min(layout["stride"], layout["size"])  # never skip a sentence
        return windows(text, **layout)

    def score(self, text: str, context: Any, settings: Any = None) -> tuple[float, Window]:
        """The highest window probability of ``text`` and that window."""
        head = self.head()
        embedder = context.kernel.embedder(head.embedder)
        if embedder.model_id != head.model_id:
            raise HeadError(
                f"the semantic head was trained on embeddings from {head.model_id!r} but the kernel's "
                f"'{head.embedder}' embedder is {embedder.model_id!r}; install the purpose-agent-minilm version "
                "the head was trained with, or retrain with plugins/immune-semantic/training/train.py"
            )
        import numpy as np

        spans = self.windows_of(text, settings)
        texts = [normalise(text[w.start : w.end]) for w in spans]
        probabilities = np.full(len(spans), -1.0)  # -1: not scored

        def score_windows(indexes: list[int]) -> None:
            if indexes:
                chosen = [texts[i] for i in indexes]
                probabilities[indexes] = head.probabilities(head.inputs(embedder.embed(chosen), chosen))

        bar = self.overlap_threshold(settings)
        first = covering(spans) if bar > 0 else list(range(len(spans)))
        score_windows(first)
        if len(first) < len(spans):
            score_windows(_second_pass(spans, first, probabilities, bar))
        worst = int(probabilities.argmax())
        return float(probabilities[worst]), spans[worst]

    def overlap_threshold(self, settings: Any) -> float:
        """The first-pass probability that sends the skipped windows around it to be scored: the
        setting (or :data:`OVERLAP_THRESHOLD`), never above the bottom of the medium band."""
        chosen = OVERLAP_THRESHOLD
        threshold = self.head().threshold
        band = 0.2
        if settings is not None:
            chosen = settings.overlap_threshold if settings.overlap_threshold is not None else chosen
            threshold = settings.threshold if settings.threshold is not None else threshold
            band = settings.medium_band
        return min(chosen, max(0.0, threshold - band))

    def scan(self, request: ScanRequest, settings: Any, context: Any) -> list[Finding]:
        """One finding for the worst window at or above the warning band, else none."""
        text = request.text
        max_chars = settings.max_chars if settings is not None else MAX_CHARS_DEFAULT
        if len(text) > max_chars:
            return [
                Finding(
                    scanner=SCANNER_ID,
                    category=CATEGORY,
                    severity=Severity.HIGH,
                    explanation=f"text of {len(text):,} characters is longer than the semantic tier screens "
                    f"({max_chars:,}); split it or raise [plugins.{SCANNER_ID}] max_chars",
                    rule_id=RULE_ID,
                )
            ]
        if not text.strip():
            return []
        head = self.head()
        threshold = settings.threshold if settings is not None and settings.threshold is not None else head.threshold
        band = settings.medium_band if settings is not None else 0.2
        probability, window = self.score(text, context, settings)
        if probability >= threshold:
            severity = Severity.HIGH
        elif probability >= threshold - band:
            severity = Severity.MEDIUM
        else:
            return []
        # Point at the window without its surrounding whitespace (spans must be non-empty).
        start, end = window.start, window.end
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end <= start:
            start, end = window.start, max(window.end, window.start + 1)
        return [
            Finding(
                scanner=SCANNER_ID,
                category=CATEGORY,
                severity=severity,
                explanation=f"reads as an instruction to the AI hidden in the text (probability {probability:.2f}, "
                f"threshold {threshold:.2f}) in characters {start}-{end}",
                span=(start, end),
                evidence=text[start:end],
                rule_id=RULE_ID,
            )
        ]


SCANNER = SemanticScanner()


def _second_pass(spans: list[Window], first: list[int], probabilities: Any, bar: float) -> list[int]:
    """The windows left out of ``first`` that overlap a first-pass window scoring at least ``bar``.

    The first-pass windows do not overlap one another and all windows are in text order, so a
    skipped window can only overlap the first-pass windows just before and just after it."""
    result = []
    position = 0  # first[position] is the first first-pass window after the current index
    for index, window in enumerate(spans):
        while position < len(first) and first[position] <= index:
            position += 1
        if position and first[position - 1] == index:
            continue
        neighbours = first[max(0, position - 1) : position + 1]
        if any(
            probabilities[i] >= bar and spans[i].start < window.end and window.start < spans[i].end for i in neighbours
        ):
            result.append(index)
    return result
