"""Cut a text into the overlapping windows the semantic tier scores, and normalise each window.

An injection hidden in a long benign document is one or two sentences among many; embedded whole,
the document's meaning drowns it. So a text longer than ``whole_chars`` is split into segments
(sentences, and lines for structured text such as JSON or a CV), and every run of ``size``
consecutive segments, starting every ``stride`` segments, is one window, capped at ``max_chars``.
The shipped head uses ``size`` 2 and ``stride`` 1: every segment starts a window and any two
adjacent segments share one. With three-sentence windows an injected sentence between two benign
ones scored 0.88 where it scored 0.99 alone (below the threshold: diluted by its neighbours);
with two it scores 0.999, for about 1.3 times the embedding work. Windows keep their offsets into the original text, so a finding can point at
the worst one.

Pure standard library: the training script imports this module too, so the head is trained on
exactly the windows the scanner scores.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: Sentence ends (., !, ? and their CJK forms, optionally followed by closing quotes or
#: brackets) followed by whitespace, or a line break: the places a segment may end.
_BOUNDARY = re.compile(r"(?<=[.!?。！？])[\"'”’)\]]*\s+|\s*\n\s*")
#: Where an over-long segment may be cut: after a space or common punctuation.
_SOFT_BREAK = re.compile(r"[\s,;:}\]]")
#: Control and format characters that carry no meaning for the model but split words for it
#: (soft hyphen, zero-width characters, bidi marks, tags); tab and newline are kept.
_INVISIBLE = {"Cc", "Cf", "Co", "Cs"}


@dataclass(frozen=True)
class Window:
    """A slice ``text[start:end]`` of the scanned text."""

    start: int
    end: int


def segments(text: str, max_chars: int) -> list[tuple[int, int]]:
    """Split ``text`` into (start, end) spans at sentence ends and line breaks; blank spans are
    dropped and a span longer than ``max_chars`` is cut at soft breaks (never mid-word if avoidable)."""
    spans: list[tuple[int, int]] = []
    position = 0
    for match in _BOUNDARY.finditer(text):
        spans.append((position, match.start()))
        position = match.end()
    spans.append((position, len(text)))
    result: list[tuple[int, int]] = []
    for start, end in spans:
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        while end - start > max_chars:
            cut = start + max_chars
            soft = None
            for soft_match in _SOFT_BREAK.finditer(text, start + max_chars // 2, cut):
                soft = soft_match.end()
            cut = soft or cut
            result.append((start, cut))
            start = cut
            while start < end and text[start].isspace():
                start += 1
        if end > start:
            result.append((start, end))
    return result


def windows(text: str, *, size: int = 3, stride: int = 2, whole_chars: int = 320, max_chars: int = 600) -> list[Window]:
    """The windows of ``text`` to score: the whole text when it is at most ``whole_chars`` long,
    else runs of ``size`` segments every ``stride`` segments, each at most ``max_chars`` long.

    An empty or blank text gives one empty window, so every text gets a score.
    """
    if len(text) <= whole_chars:
        return [Window(0, len(text))]
    spans = segments(text, max_chars)
    if not spans:
        return [Window(0, 0)]
    result: list[Window] = []
    first = 0
    while True:
        last = first
        # Grow the window segment by segment while it stays within size and max_chars.
        while last + 1 < len(spans) and last + 1 - first < size and spans[last + 1][1] - spans[first][0] <= max_chars:
            last += 1
        result.append(Window(spans[first][0], spans[last][1]))
        if last == len(spans) - 1:
            break
        first = min(first + stride, last + 1)
    return result


def normalise(text: str) -> str:
    """What the model reads: NFKC (fullwidth and compatibility forms folded), invisible
    characters removed, whitespace runs collapsed to one space."""
    folded = unicodedata.normalize("NFKC", text)
    visible = "".join(ch for ch in folded if ch in "\t\n" or unicodedata.category(ch) not in _INVISIBLE)
    return " ".join(visible.split())

