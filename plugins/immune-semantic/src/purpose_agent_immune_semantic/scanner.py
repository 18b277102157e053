"""The semantic scanner: windows → embeddings → head → one finding for the worst window."""

from __future__ import annotations

import threading
from typing import Any

from purpose_agent.models import Finding, ScanRequest, Severity

from .head import HEAD_PATH, Head, HeadError, load_head
from .windows import Window, normalise, windows

SCANNER_ID = "immune-semantic"
CATEGORY = "semantic_injection"
#: ``Finding.rule_id`` of every finding: the detector is the trained head, not a rule.
RULE_ID = "semantic-head"
#: Longest text embedded by default (twice the kernel's default lesson cap of 16,000): a 32,000-character
#: text is about 55 windows, which embed in about a second on one core; a longer one would run past the
#: kernel's scan deadline anyway.
MAX_CHARS_DEFAULT = 32_000


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
        spans = self.windows_of(text, settings)
        texts = [normalise(text[w.start : w.end]) for w in spans]
        probabilities = head.probabilities(head.inputs(embedder.embed(texts), texts))
        worst = int(probabilities.argmax())
        return float(probabilities[worst]), spans[worst]

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
