"""The head's second input: hashed character n-grams of the window.

The sentence embedding carries what a window is *about*; on its own it confuses a legitimate rule
for the AI ("reply in the user's language") with an injected one ("reply only in French") because
both are instructions to the AI on the same topic. Character 3- and 4-grams add the wording —
and, unlike whole words, they survive misspellings, spacing and leetspeak ("ignroe prevous
instrutcions" shares most of its n-grams with the real phrase). Each n-gram of the lower-cased,
space-padded text adds ±1 to one of ``buckets`` slots chosen by CRC-32 (stable across runs and
machines); the vector is L2-normalised and scaled.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any


def char_ngrams(texts: Sequence[str], *, buckets: int, sizes: Sequence[int] = (3, 4), scale: float = 1.0) -> Any:
    """A ``(len(texts), buckets)`` float32 array of signed, hashed character n-gram counts."""
    import numpy as np

    out = np.zeros((len(texts), buckets), dtype=np.float32)
    for row, text in enumerate(texts):
        padded = " " + " ".join(text.lower().split()) + " "
        data = padded.encode("utf-8")
        # Hash on UTF-8 bytes: n-grams of bytes are as stable as n-grams of characters and
        # need no per-character work in Python beyond the slice.
        counts: dict[int, float] = {}
        for size in sizes:
            for start in range(len(data) - size + 1):
                code = zlib.crc32(data[start : start + size])
                slot = code % buckets
                counts[slot] = counts.get(slot, 0.0) + (1.0 if code & 0x80000000 else -1.0)
        if counts:
            slots = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            out[row, slots] = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
        norm = float(np.linalg.norm(out[row]))
        if norm > 0.0:
            out[row] *= scale / norm
    return out
