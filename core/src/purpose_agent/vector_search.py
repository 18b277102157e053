"""Nearest vectors for the retrieval engine: exact below a size threshold, approximate above.

:class:`VectorSet` holds one ranking's unit vectors in memory, keyed by integer row numbers
(``seq``), and answers "the ``limit`` rows most similar to this query vector".

* Below :data:`EXACT_BELOW` rows: one float32 matrix-vector product and a partial sort. Exact.
* At or above it: an inverted file (IVF). The rows are clustered once (spherical k-means,
  ``sqrt(n)`` clusters, seeded, on a sample), stored grouped by cluster; a query scores the
  cluster centres and then only the rows of the :data:`PROBE_SHARE` nearest clusters, exactly.
  The scores it returns are exact cosines; what it can miss is a near row in an unprobed
  cluster (recall is measured against the exact scan in ``tests/benchmarks/bench_retrieval.py``).

Why not a library: the candidates were measured here (docs/retrieval.md). ``sqlite-vec`` cannot be
loaded by this Python's ``sqlite3`` (built without extension loading) and is an exact scan
anyway; ``hnswlib`` has no wheel; ``usearch`` (HNSW) took 187-272 s to build a 100,000-vector
graph on this 2-core machine and found under half of the exact top 50 at its default search
width, where the IVF builds in seconds.

The vectors themselves live in SQLite (the callers' tables); this module only ranks. numpy is
imported on first use.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

#: Rows from which the inverted file is used. Measured by tests/benchmarks/bench_retrieval.py.
EXACT_BELOW = 20_000

#: Share of the clusters a query scans (at least :data:`MIN_PROBES`).
PROBE_SHARE = 0.08
MIN_PROBES = 8

#: k-means: iterations, and sample rows per cluster it is trained on.
KMEANS_ITERATIONS = 8
SAMPLE_PER_CLUSTER = 64

#: Rows scored per matrix product while assigning rows to clusters (bounds the scratch memory).
_ASSIGN_CHUNK = 8_192


class VectorSet:
    """Unit vectors by row number, ranked by cosine (the dot product of unit vectors).

    ``seqs`` (int64) and ``matrix`` (float32, one row per seq) are not changed in place once
    searched, except that the inverted file regroups the rows by cluster when it is built (so
    ``seqs`` is then not in ascending order); a change builds a new set (:meth:`without`,
    :meth:`plus`), so a search never sees half an update.
    """

    def __init__(self, seqs: Any, matrix: Any, *, exact_below: int = EXACT_BELOW) -> None:
        import numpy as np

        self.seqs = np.ascontiguousarray(seqs, dtype=np.int64)
        self.matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        if self.matrix.ndim != 2 or len(self.matrix) != len(self.seqs):
            raise ValueError(f"{len(self.seqs)} row numbers for a matrix of shape {self.matrix.shape}")
        self.exact_below = exact_below
        self._graph: Any = None  # (centres, offsets) of the inverted file, built on first use
        self._building = threading.Lock()

    def __len__(self) -> int:
        return len(self.seqs)

    @property
    def approximate(self) -> bool:
        """Whether searches go through the inverted file (size at or above the threshold)."""
        return len(self.seqs) >= self.exact_below

    def top(self, query: Any, limit: int, allowed: Callable[[Any], Any] | None = None) -> list[tuple[int, float]]:
        """``(seq, cosine)`` of the ``limit`` most similar rows, best first (ties: lower seq first).

        ``allowed`` maps an int64 array of seqs to a boolean array: rows it refuses are never
        returned (the exact scan applies it before ranking; the inverted file probes more
        clusters until ``limit`` allowed rows are found, or scans everything).
        """
        import numpy as np

        if limit <= 0 or not len(self.seqs):
            return []
        vector = np.asarray(query, dtype=np.float32).reshape(-1)
        if self.approximate:
            found = self._probe(vector, limit, allowed)
            if found is not None:
                return found
        seqs, scores = self.seqs, self.matrix @ vector
        if allowed is not None:  # score everything, then drop: cheaper than copying the allowed rows
            keep = np.asarray(allowed(seqs), dtype=bool)
            seqs, scores = seqs[keep], scores[keep]
        return _best(seqs, scores, limit)

    def _probe(self, vector: Any, limit: int, allowed: Callable[[Any], Any] | None) -> list[tuple[int, float]] | None:
        """The inverted file's answer; ``None`` when the probed clusters hold too few allowed rows."""
        import numpy as np

        centres, offsets = self._clusters()
        probes = max(MIN_PROBES, round(PROBE_SHARE * len(centres)))
        order = np.argsort(-(centres @ vector), kind="stable")
        while True:
            chosen = np.sort(order[:probes])  # in storage order: contiguous reads
            seqs = np.concatenate([self.seqs[offsets[c]:offsets[c + 1]] for c in chosen])
            scores = np.concatenate([self.matrix[offsets[c]:offsets[c + 1]] @ vector for c in chosen])
            if allowed is not None:
                keep = np.asarray(allowed(seqs), dtype=bool)
                seqs, scores = seqs[keep], scores[keep]
            if len(seqs) >= limit:
                return _best(seqs, scores, limit)
            if probes >= len(centres) // 4:
                return None  # a narrow filter: the exact scan over the allowed rows is as cheap
            probes *= 4

    def _clusters(self) -> tuple[Any, Any]:
        """Cluster the rows (first use): centres, and where each cluster's rows start (rows regrouped)."""
        with self._building:
            if self._graph is None:
                self._graph = self._build()
        return self._graph

    def _build(self) -> tuple[Any, Any]:
        import numpy as np

        count = len(self.seqs)
        clusters = max(1, int(count ** 0.5))
        rng = np.random.default_rng(0)  # seeded: the same rows give the same clusters
        sample = self.matrix[rng.choice(count, min(count, clusters * SAMPLE_PER_CLUSTER), replace=False)]
        centres = sample[rng.choice(len(sample), clusters, replace=False)].copy()
        for _ in range(KMEANS_ITERATIONS):
            labels = np.argmax(sample @ centres.T, axis=1)
            sums = np.zeros_like(centres)
            np.add.at(sums, labels, sample)
            norms = np.linalg.norm(sums, axis=1, keepdims=True)
            empty = norms[:, 0] == 0
            centres = np.where(empty[:, None], centres, sums / np.where(norms == 0, 1, norms))
        labels = np.concatenate([np.argmax(self.matrix[at:at + _ASSIGN_CHUNK] @ centres.T, axis=1)
                                 for at in range(0, count, _ASSIGN_CHUNK)])
        order = np.argsort(labels, kind="stable")
        self.seqs, self.matrix = self.seqs[order], np.ascontiguousarray(self.matrix[order])
        offsets = np.searchsorted(labels[order], np.arange(clusters + 1))
        return centres.astype(np.float32), offsets

    def without(self, seqs: Any) -> VectorSet:
        """A new set without the rows ``seqs``."""
        import numpy as np

        keep = ~np.isin(self.seqs, np.asarray(list(seqs), dtype=np.int64))
        return VectorSet(self.seqs[keep], self.matrix[keep], exact_below=self.exact_below)

    def plus(self, seqs: Any, matrix: Any) -> VectorSet:
        """A new set with rows added (``seqs`` must not be in this one)."""
        import numpy as np

        return VectorSet(np.concatenate([self.seqs, np.asarray(seqs, dtype=np.int64)]),
                         np.concatenate([self.matrix, np.asarray(matrix, dtype=np.float32).reshape(-1, self.matrix.shape[1])]),
                         exact_below=self.exact_below)


def _best(seqs: Any, scores: Any, limit: int) -> list[tuple[int, float]]:
    import numpy as np

    if len(scores) > limit:
        cut = np.argpartition(-scores, limit - 1)[:limit]
        # everything tied with the limit-th best joins, so ties resolve by seq, not by chance
        chosen = np.flatnonzero(scores >= scores[cut].min())
        seqs, scores = seqs[chosen], scores[chosen]
    order = np.lexsort((seqs, -scores))[:limit]
    return [(int(seqs[n]), float(scores[n])) for n in order]
