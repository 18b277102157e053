"""Nearest vectors for the retrieval engine: exact below a size threshold, approximate above.

:class:`VectorSet` holds one ranking's unit vectors in memory, keyed by integer row numbers
(``seq``), and answers "the ``limit`` rows most similar to this query vector". Below
:data:`EXACT_BELOW` rows (or when ``usearch`` is not installed) it is one float32 matrix-vector
product and a partial sort: exact, and fast enough (the figures are in docs/retrieval.md). At
or above it, an HNSW graph (``usearch``) answers instead, asked for more candidates than wanted
and re-scored exactly, so the order of what it returns is exact even when its recall is not.

The vectors themselves live in SQLite (the callers' tables); this module only ranks. numpy is
imported on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: Rows from which the approximate index is used (when ``usearch`` is importable). Measured by
#: ``tests/benchmarks/bench_retrieval.py``: see docs/retrieval.md.
EXACT_BELOW = 20_000

#: The approximate index is asked for this many times the wanted rows, then re-scored exactly.
OVERSAMPLE = 4


def usearch_available() -> bool:
    """Whether the approximate index's library can be imported."""
    try:
        import usearch.index  # noqa: F401
    except ImportError:
        return False
    return True


class VectorSet:
    """Unit vectors by row number, ranked by cosine (the dot product of unit vectors).

    ``seqs`` (int64) and ``matrix`` (float32, one row per seq) are read-only once built; a change
    builds a new set (:meth:`without`, :meth:`plus`), so a search never sees half an update.
    """

    def __init__(self, seqs: Any, matrix: Any, *, exact_below: int = EXACT_BELOW) -> None:
        import numpy as np

        self.seqs = np.ascontiguousarray(seqs, dtype=np.int64)
        self.matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        if self.matrix.ndim != 2 or len(self.matrix) != len(self.seqs):
            raise ValueError(f"{len(self.seqs)} row numbers for a matrix of shape {self.matrix.shape}")
        self.exact_below = exact_below
        self._graph: Any = None  # built on first approximate search

    def __len__(self) -> int:
        return len(self.seqs)

    @property
    def approximate(self) -> bool:
        """Whether searches go through the approximate index (size at or above the threshold)."""
        return len(self.seqs) >= self.exact_below and usearch_available()

    def top(self, query: Any, limit: int, allowed: Callable[[Any], Any] | None = None) -> list[tuple[int, float]]:
        """``(seq, cosine)`` of the ``limit`` most similar rows, best first (ties: lower seq first).

        ``allowed`` maps an int64 array of seqs to a boolean array: rows it refuses are never
        returned (an exact search applies it before ranking, an approximate one asks for more).
        """
        import numpy as np

        if limit <= 0 or not len(self.seqs):
            return []
        vector = np.asarray(query, dtype=np.float32).reshape(-1)
        if self.approximate:
            found = self._approximate(vector, limit, allowed)
            if found is not None:
                return found
        seqs, matrix = self.seqs, self.matrix
        if allowed is not None:
            keep = np.asarray(allowed(seqs), dtype=bool)
            seqs, matrix = seqs[keep], matrix[keep]
        return _best(seqs, matrix @ vector, limit)

    def _approximate(self, vector: Any, limit: int, allowed: Callable[[Any], Any] | None) -> list[tuple[int, float]] | None:
        """The graph's answer re-scored exactly; ``None`` when a filter refuses too many to fill ``limit``."""
        import numpy as np

        graph = self._ensure_graph()
        wanted = limit * OVERSAMPLE
        while True:
            found = graph.search(vector, min(wanted, len(self.seqs)), threads=1)
            rows = np.asarray(found.keys, dtype=np.int64)
            if allowed is not None:
                rows = rows[np.asarray(allowed(self.seqs[rows]), dtype=bool)]
            if len(rows) >= limit or wanted >= len(self.seqs):
                return _best(self.seqs[rows], self.matrix[rows] @ vector, limit)
            if wanted >= 16 * limit * OVERSAMPLE:
                return None  # a narrow filter: the exact scan over the allowed rows is cheaper
            wanted *= 4

    def _ensure_graph(self) -> Any:
        if self._graph is None:
            import numpy as np
            from usearch.index import Index

            graph = Index(ndim=self.matrix.shape[1], metric="ip", dtype="f32", connectivity=16,
                          expansion_add=128, expansion_search=64)
            graph.add(np.arange(len(self.seqs), dtype=np.uint64), self.matrix, threads=1)
            self._graph = graph
        return self._graph

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
