"""The kernel's embedder keeps the vectors of recent short calls (queries) in memory too."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from purpose_agent import embedding_cache
from purpose_agent.embedding_cache import CachedEmbedder, VectorCache
from purpose_agent.testing import HashingEmbedder


def test_a_repeated_query_skips_the_file_and_old_ones_fall_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[int] = []
    original = VectorCache.get
    monkeypatch.setattr(VectorCache, "get", lambda self, model_id, digests, dimension: reads.append(
        len(list(digests))) or original(self, model_id, digests, dimension))
    inner = HashingEmbedder()
    embedder = CachedEmbedder(inner, VectorCache(tmp_path / "vectors.sqlite"))
    first = embedder.embed(["how do I pin versions"])
    assert reads == [1] and inner.calls == [1]
    np.testing.assert_array_equal(embedder.embed(["how do I pin versions"]), first)
    assert reads == [1] and inner.calls == [1] and embedder.hits == 1, "answered from memory"
    for n in range(embedding_cache.RECENT_VECTORS):
        embedder.embed([f"another query {n}"])
    reads.clear()
    np.testing.assert_array_equal(embedder.embed(["how do I pin versions"]), first)
    assert reads == [1] and inner.calls[-1] == 1 and len(inner.calls) == 1 + embedding_cache.RECENT_VECTORS, \
        "fell out of memory, found in the file, not embedded again"
    # a long call (documents) neither reads nor fills the memory
    embedder.embed([f"document {n}" for n in range(10)])
    assert reads[-1] == 10
    embedder.embed(["document 3"])
    assert reads[-1] == 1


def test_a_changed_model_id_misses_the_memory_too(tmp_path: Path) -> None:
    inner = HashingEmbedder()
    embedder = CachedEmbedder(inner, VectorCache(tmp_path / "vectors.sqlite"))
    before = embedder.embed(["same text"])
    inner.model_id, inner.salt = "hashing-bow/256/retrained", "retrained"
    assert not np.allclose(embedder.embed(["same text"]), before)
    assert inner.calls == [1, 1]
