"""Nearest vectors (purpose_agent.vector_search): the exact scan and the inverted file."""

from __future__ import annotations

import numpy as np

from purpose_agent.vector_search import VectorSet


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_exact_scan_orders_by_cosine_then_seq_and_filters() -> None:
    matrix = unit(np.array([[1, 0], [0, 1], [1, 0], [1, 1], [-1, 0]], dtype=np.float32))
    vectors = VectorSet(np.array([50, 40, 30, 20, 10]), matrix)
    assert [seq for seq, _ in vectors.top([1, 0], 3)] == [30, 50, 20]  # the tie at cosine 1: lower seq first
    assert vectors.top([1, 0], 1)[0][1] == 1.0
    assert [seq for seq, _ in vectors.top([1, 0], 10, allowed=lambda seqs: seqs < 35)] == [30, 20, 10]
    assert vectors.top([1, 0], 0) == [] and VectorSet(np.zeros(0), np.zeros((0, 2))).top([1, 0], 3) == []


def test_plus_and_without_make_new_sets() -> None:
    vectors = VectorSet(np.array([1, 2]), unit(np.array([[1, 0], [0, 1]], dtype=np.float32)))
    more = vectors.plus([3], [[0.6, 0.8]])
    assert len(vectors) == 2 and len(more) == 3
    assert [seq for seq, _ in more.without([2]).top([0, 1], 5)] == [3, 1]


def test_the_inverted_file_returns_exact_cosines_and_finds_clustered_neighbours() -> None:
    rng = np.random.default_rng(1)
    centres = unit(rng.standard_normal((40, 64)).astype(np.float32))
    matrix = unit(centres[rng.integers(0, 40, 4_000)] + 0.15 * rng.standard_normal((4_000, 64)).astype(np.float32))
    seqs = np.arange(4_000) * 3
    exact = VectorSet(seqs, matrix, exact_below=10**9)
    probed = VectorSet(seqs, matrix.copy(), exact_below=1_000)
    assert probed.approximate and not exact.approximate
    found = 0
    for query in unit(centres[:20] + 0.1 * rng.standard_normal((20, 64)).astype(np.float32)):
        want = exact.top(query, 20)
        got = probed.top(query, 20)
        scores = dict(zip(seqs.tolist(), (matrix @ query).tolist(), strict=True))
        assert all(abs(score - scores[seq]) < 1e-5 for seq, score in got), "scores are exact cosines"
        assert [s for _, s in got] == sorted((s for _, s in got), reverse=True)
        found += len({seq for seq, _ in got} & {seq for seq, _ in want})
    assert found >= 0.9 * 20 * 20, f"recall@20 {found / 400:.2f}"
    # a filter that leaves few rows in the probed clusters still gets its full answer
    rare = probed.top(centres[0], 5, allowed=lambda s: s % 300 == 0)  # 40 of 4,000 rows
    assert rare == exact.top(centres[0], 5, allowed=lambda s: s % 300 == 0)
