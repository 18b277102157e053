"""The semantic scanner: windows → embeddings → head → one finding for the worst window.

A long text (more than one window) is read in two passes. First every sentence (segment) is
scored alone; then only the two-sentence windows holding a sentence that scored at least
``sentence_gate`` (default :data:`SENTENCE_GATE`, never above the bottom of the medium band) are
scored, and the worst of those decides, as when every window is scored. A plainly benign text
costs its sentences once (about half the word pieces of its windows, each of which reads two
sentences) plus a few windows. Measured against scoring every window, on the multi-window texts
of the written test split (93 attacks, 143 benign), a third of the written training data (202
attacks) and the eval tune split (73 attacks): no verdict changed at any gate from 0.001 to 0.2.
An earlier layout that scored every other window first, with no single sentences, missed 16 of
408 split attacks; a sentence read alone does not hide behind its neighbour. ``sentence_gate = 0``
scores every window.
"""

from __future__ import annotations

import threading
from typing import Any

from purpose_agent.models import Finding, ScanRequest, Severity

from .head import HEAD_PATH, Head, HeadError, load_head
from .windows import Window, normalise, segments, windows

SCANNER_ID = "immune-semantic"
CATEGORY = "semantic_injection"
#: ``Finding.rule_id`` of every finding: the detector is the trained head, not a rule.
RULE_ID = "semantic-head"
#: Longest text embedded by default (twice the kernel's default lesson cap of 16,000). Time grows with
#: length: benign prose of 32,000 characters is ~370 sentences, 2.3-2.7 s here, past the kernel's
#: default 2 s scan deadline (which then blocks it); a longer text would only take longer.
MAX_CHARS_DEFAULT = 32_000
#: Most sentences (segments) embedded by default. A scan embeds every sentence once, then the
#: windows around a suspicious one: about 6-7 ms per sentence of prose on one core here (180
#: sentences, 16,000 characters: 1.1-1.4 s). Past this many the kernel's default 2 s scan deadline
#: would run out and block the text anyway, after spending those 2 s; the count is known before any
#: embedding (one pass of the segment pattern), so such a text is refused at once instead.
MAX_SENTENCES_DEFAULT = 200
#: A window of a long text is scored only if one of its sentences alone scored at least this
#: (see the module docstring); 0 scores every window.
SENTENCE_GATE = 0.1


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
        """The windows :meth:`scan` may score for ``text`` under ``settings`` (the trained layout by default)."""
        return windows(text, **self.layout(settings))

    def layout(self, settings: Any = None) -> dict[str, int]:
        """The window layout: the head's, with the settings' overrides."""
        layout = dict(self.head().window)
        if settings is not None and settings.window_sentences is not None:
            layout["size"] = settings.window_sentences
        if settings is not None and settings.window_stride is not None:
            layout["stride"] = settings.window_stride
        layout["stride"] = min(layout["stride"], layout["size"])  # never skip a sentence
        return layout

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

        def probabilities_of(pieces: list[Window]) -> Any:
            texts = [normalise(text[w.start : w.end]) for w in pieces]
            return head.probabilities(head.inputs(embedder.embed(texts), texts))

        layout = self.layout(settings)
        spans = windows(text, **layout)
        gate = self.sentence_gate(settings)
        if len(spans) > 1 and gate > 0:
            sentences = [Window(start, end) for start, end in segments(text, layout["max_chars"])]
            alone = probabilities_of(sentences)
            suspicious = [sentence for sentence, p in zip(sentences, alone, strict=True) if p >= gate]
            if not suspicious:  # no window is scored: measured not to change a verdict (module docstring)
                best = int(alone.argmax())
                return float(alone[best]), sentences[best]
            spans = _holding(spans, suspicious)
        probabilities = probabilities_of(spans)
        worst = int(probabilities.argmax())
        return float(probabilities[worst]), spans[worst]

    def sentence_count(self, text: str, settings: Any = None) -> int:
        """The sentences (segments) a scan of ``text`` embeds alone: 1 for a text read as one window."""
        layout = self.layout(settings)
        if len(text) <= layout["whole_chars"]:
            return 1
        return len(segments(text, layout["max_chars"]))

    def sentence_gate(self, settings: Any) -> float:
        """The probability a sentence alone must reach for its windows to be scored: the setting
        (or :data:`SENTENCE_GATE`), never above the bottom of the medium band."""
        chosen = SENTENCE_GATE
        threshold = self.head().threshold
        band = 0.2
        if settings is not None:
            chosen = settings.sentence_gate if settings.sentence_gate is not None else chosen
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
        max_sentences = settings.max_sentences if settings is not None else MAX_SENTENCES_DEFAULT
        sentences = self.sentence_count(text, settings)
        if sentences > max_sentences:
            return [
                Finding(
                    scanner=SCANNER_ID,
                    category=CATEGORY,
                    severity=Severity.HIGH,
                    explanation=f"text of {sentences:,} sentences is more than the semantic tier screens within "
                    f"its deadline ({max_sentences:,}); split it or raise [plugins.{SCANNER_ID}] max_sentences "
                    "(and [kernel] scan_timeout_s)",
                    rule_id=RULE_ID,
                )
            ]
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


def _holding(spans: list[Window], sentences: list[Window]) -> list[Window]:
    """The windows in ``spans`` that overlap any of ``sentences`` (both in text order)."""
    result = []
    first = 0  # the first sentence that does not end before the current window starts
    for window in spans:
        while first < len(sentences) and sentences[first].end <= window.start:
            first += 1
        if first < len(sentences) and sentences[first].start < window.end:
            result.append(window)
    return result
