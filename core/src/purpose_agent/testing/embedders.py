"""A cheap, deterministic embedder for offline tests of code that consumes embeddings.

:class:`HashingEmbedder` is a hashed bag of words: each lower-cased word (and each word pair)
adds ±1 to one of ``dimension`` buckets chosen by a stable hash, and the row is L2-normalised.
Texts that share words are close; texts that share none are near-orthogonal. It knows nothing
about meaning (``car`` and ``automobile`` are unrelated to it), so use it to test plumbing —
caching, ranking code, thresholds wired through configuration — not retrieval quality::

    from purpose_agent.testing import HashingEmbedder, make_kernel, plugin

    kernel = make_kernel(plugin("hashing", register_embedders=lambda register: register(
        "hashing", lambda context: HashingEmbedder())))
    vectors = kernel.embedder("hashing").embed(["pin dependency versions"])
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Sequence
from typing import Any

_WORD = re.compile(r"\w+")
# A text without words still needs a unit vector; this token stands in for "no words".
_NO_WORDS = "\x00empty"


class HashingEmbedder:
    """A deterministic hashing bag-of-words embedder (no model, no download, microseconds).

    Args:
        dimension: the vector length (default 256).
        salt: changes every bucket; a different salt acts like a different model, and it is
            part of ``model_id``, so the kernel's cache keeps the two apart.
    """

    def __init__(self, dimension: int = 256, *, salt: str = "") -> None:
        if dimension < 8:
            raise ValueError(f"dimension must be at least 8, not {dimension}")
        self.dimension = dimension
        self.salt = salt
        self.model_id = f"hashing-bow/{dimension}" + (f"/{salt}" if salt else "")
        self.calls: list[int] = []  # batch sizes seen, so tests can tell cached from computed

    def _bucket(self, token: str) -> tuple[int, float]:
        digest = hashlib.blake2b(f"{self.salt}\x1f{token}".encode("utf-8", "surrogatepass"), digest_size=8).digest()
        value = int.from_bytes(digest, "little")
        return value % self.dimension, 1.0 if value >> 63 else -1.0

    def embed(self, texts: Sequence[str]) -> Any:
        """Return ``(len(texts), dimension)`` float32 unit rows; long texts are used whole."""
        import numpy as np

        texts = list(texts)
        self.calls.append(len(texts))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            words = [w.lower() for w in _WORD.findall(text)] or [_NO_WORDS]
            tokens = words + [f"{a} {b}" for a, b in itertools.pairwise(words)]
            for token in tokens:
                index, sign = self._bucket(token)
                out[row, index] += sign
            norm = float(np.linalg.norm(out[row]))
            if norm == 0.0:  # every token cancelled out: fall back to the no-words bucket
                index, sign = self._bucket(_NO_WORDS)
                out[row, index], norm = sign, 1.0
            out[row] /= norm
        return out
