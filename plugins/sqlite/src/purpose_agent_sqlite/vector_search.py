"""Nearest vectors for the retrieval engine: exact below a size threshold, approximate above.

:class:`VectorSet` holds one ranking's unit vectors in memory, keyed by integer row numbers
(``seq``), and answers "the ``limit`` rows most similar to this query vector".

* Below :data:`EXACT_BELOW` rows: one float32 matrix-vector product and a partial sort. Exact.
* At or above it: an inverted file (IVF). The rows are clustered once (spherical k-means,
  ``sqrt(n)`` clusters, seeded, on a sample), stored grouped by cluster; a query scores the
  cluster centres and then only the rows of the :data:`PROBE_SHARE` nearest clusters. Those rows
  are scanned in :data:`REDUCED_DIMENSION` dimensions (the training sample's principal axes,
  kept beside the full rows: a third of the bytes a query reads from memory, which is what the
  scan waits for), and the best :func:`rescored` of them are scored again with the full vectors.
  The scores it returns are exact cosines; what it can miss is a near row in an unprobed
  cluster, or one the reduced scan ranked below the re-scored candidates (recall is measured
  against the exact scan in ``tests/benchmarks/bench_retrieval.py``, and on real MiniLM vectors
  in ``tests/benchmarks/bench_ivf_recall.py``).

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
from collections.abc import Callable, Mapping
from typing import Any

#: Rows from which the inverted file is used. Measured by tests/benchmarks/bench_retrieval.py.
EXACT_BELOW = 20_000

#: Share of the clusters a query scans (at least :data:`MIN_PROBES`). Chosen on 100,000 real MiniLM
#: vectors (tests/benchmarks/bench_ivf_recall.py, docs/retrieval.md): a short task sits between
#: many clusters of lesson texts, and 8 % found 0.85 of its exact top 50 where 16 % finds 0.90,
#: for 0.3-0.9 ms more CPU per filtered query (the most the hybrid's 10 ms target left).
PROBE_SHARE = 0.16
MIN_PROBES = 8

#: The inverted file scans the probed clusters in this many dimensions (the top principal axes of
#: its training sample: a third of the bytes of the full vectors, which a query reads from memory)
#: and re-scores the best :func:`rescored` of them with the full vectors, so returned scores stay
#: exact cosines. ``None``: scan the full vectors.
REDUCED_DIMENSION: int | None = 128
#: Candidates re-scored exactly after a reduced scan: this many per requested row, at least
#: :data:`RESCORE_MIN`.
RESCORE_PER_ROW = 4
RESCORE_MIN = 200

#: k-means: iterations, and sample rows per cluster it is trained on.
KMEANS_ITERATIONS = 8
SAMPLE_PER_CLUSTER = 64

#: Rows added or removed since the inverted file was laid out, as a share of its rows, up to which
#: an update keeps the added ones in an exactly scanned tail (and hides the removed ones) instead
#: of rewriting the matrix.
TAIL_SHARE = 0.02

#: When the rows changed since a set was read outnumber this share of it (and 1,000), its owner
#: reads every vector again instead of applying them one by one (one full read is cheaper then).
REREAD_SHARE = 0.5

#: Rows scored per matrix product while assigning rows to clusters (bounds the scratch memory).
_ASSIGN_CHUNK = 8_192


class VectorSet:
    """Unit vectors by row number, ranked by cosine (the dot product of unit vectors).

    ``seqs`` (int64) and ``matrix`` (float32, one row per seq) are the *main* rows; the inverted
    file regroups them by cluster when it is built (so ``seqs`` is then not in ascending order).
    ``columns`` are per-row labels (small integer arrays, such as a status code) that move with
    their rows; :meth:`mask` turns them into a row filter.

    A set is not changed once searched: :meth:`updated` makes a new one that shares the main rows,
    hides the removed ones and keeps added rows in a small *tail* that every search scans
    exactly, so applying a write costs about the changed rows, not a copy of the matrix. When the
    tail or the hidden rows grow past :data:`TAIL_SHARE` of the set, the update folds them into
    the main rows (one pass over the matrix; added rows join their nearest existing cluster).
    """

    def __init__(self, seqs: Any, matrix: Any, *, exact_below: int = EXACT_BELOW,
                 columns: Mapping[str, Any] | None = None) -> None:
        import numpy as np

        self.seqs = np.ascontiguousarray(seqs, dtype=np.int64)
        self.matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        if self.matrix.ndim != 2 or len(self.matrix) != len(self.seqs):
            raise ValueError(f"{len(self.seqs)} row numbers for a matrix of shape {self.matrix.shape}")
        self.columns = {name: np.ascontiguousarray(values) for name, values in (columns or {}).items()}
        if any(len(values) != len(self.seqs) for values in self.columns.values()):
            raise ValueError(f"every column needs one value per row ({len(self.seqs)})")
        self.exact_below = exact_below
        self._graph: Any = None  # (centres, offsets) of the inverted file, built on first use
        self._clustered_rows = 0  # rows when the centres were trained (updates reuse them for a while)
        self._projection: Any = None  # (dimension, REDUCED_DIMENSION) principal axes, with the clusters
        self._reduced: Any = None  # the main rows projected on them, in storage order
        self._building = threading.Lock()
        self._masks: dict[Any, Any] = {}
        self._live: Any = None  # main rows still in the set (None: all)
        self._hidden = 0
        self._tail: tuple[Any, Any, dict[str, Any]] | None = None  # (seqs, matrix, columns) added since

    def __len__(self) -> int:
        return len(self.seqs) - self._hidden + (len(self._tail[0]) if self._tail else 0)

    @property
    def approximate(self) -> bool:
        """Whether searches go through the inverted file (size at or above the threshold)."""
        return len(self.seqs) >= self.exact_below

    def row_seqs(self) -> Any:
        """The seqs of every row in the set (main rows still in it, then the tail)."""
        import numpy as np

        main = self.seqs if self._live is None else self.seqs[self._live]
        return main if self._tail is None else np.concatenate([main, self._tail[0]])

    def mask(self, key: Any, make: Callable[[dict[str, Any]], Any]) -> Any:
        """A row filter for :meth:`top`'s ``keep``: ``make(columns)`` over the main rows (in storage
        order) and the tail, computed once per ``key`` for this set.

        A filter that repeats (the same status and scopes for every retrieval of a run) costs one
        comparison over the columns per set, not one per search.
        """
        import numpy as np

        if self.approximate:
            self._clusters()  # regroups the rows: masks must be made in the final order
        found = self._masks.get(key)
        if found is None:
            main = np.asarray(make(self.columns), dtype=bool)
            if self._live is not None:
                main = main & self._live
            tail = np.asarray(make(self._tail[2]), dtype=bool) if self._tail is not None else None
            if len(self._masks) >= 64:
                self._masks.clear()
            found = self._masks[key] = (np.ascontiguousarray(main), tail)
        return found

    def top(self, query: Any, limit: int, allowed: Callable[[Any], Any] | None = None,
            keep: Any = None) -> list[tuple[int, float]]:
        """``(seq, cosine)`` of the ``limit`` most similar rows, best first (ties: lower seq first).

        ``allowed`` maps an int64 array of seqs to a boolean array, and ``keep`` is a filter from
        :meth:`mask`: rows either refuses are never returned (the exact scan applies them before
        ranking; the inverted file probes more clusters until ``limit`` allowed rows are found,
        or scans everything).
        """
        import numpy as np

        if limit <= 0 or not len(self):
            return []
        vector = np.asarray(query, dtype=np.float32).reshape(-1)
        main_keep, tail_keep = keep if keep is not None else (self._live, None)
        found = self._top_main(vector, limit, allowed, main_keep)
        if self._tail is None:
            return found
        seqs, matrix, _ = self._tail
        scores = matrix @ vector
        if tail_keep is not None:
            seqs, scores = seqs[tail_keep], scores[tail_keep]
        if allowed is not None:
            chosen = np.asarray(allowed(seqs), dtype=bool)
            seqs, scores = seqs[chosen], scores[chosen]
        if not len(seqs):
            return found
        return _best(np.concatenate([np.fromiter((s for s, _ in found), dtype=np.int64, count=len(found)), seqs]),
                     np.concatenate([np.fromiter((c for _, c in found), dtype=np.float32, count=len(found)), scores]),
                     limit)

    def _top_main(self, vector: Any, limit: int, allowed: Callable[[Any], Any] | None,
                  keep: Any) -> list[tuple[int, float]]:
        import numpy as np

        if not len(self.seqs) or (keep is not None and not keep.any()):
            return []
        if self.approximate:
            found = self._probe(vector, limit, allowed, keep)
            if found is not None:
                return found
        seqs, scores = self.seqs, self.matrix @ vector
        if keep is not None:
            seqs, scores = seqs[keep], scores[keep]
        if allowed is not None:  # score everything, then drop: cheaper than copying the allowed rows
            chosen = np.asarray(allowed(seqs), dtype=bool)
            seqs, scores = seqs[chosen], scores[chosen]
        return _best(seqs, scores, limit)

    def _probe(self, vector: Any, limit: int, allowed: Callable[[Any], Any] | None,
               keep: Any) -> list[tuple[int, float]] | None:
        """The inverted file's answer; ``None`` when the probed clusters hold too few allowed rows."""
        import numpy as np

        centres, offsets = self._clusters()
        probes = max(MIN_PROBES, round(PROBE_SHARE * len(centres)))
        order = np.argsort(-(centres @ vector), kind="stable")
        reduced = self._reduced
        scanned, query = (self.matrix, vector) if reduced is None else (reduced, vector @ self._projection)
        while True:
            chosen = np.sort(order[:probes])  # in storage order: contiguous reads
            spans = [(offsets[c], offsets[c + 1]) for c in chosen.tolist()]
            scores = np.concatenate([scanned[a:b] @ query for a, b in spans])
            if reduced is not None and allowed is None:
                found = self._rescore(vector, limit, scores, keep, spans)
                if found is not None:
                    return found
                if probes >= len(centres) // 4:
                    return None
                probes *= 4
                continue
            seqs = np.concatenate([self.seqs[a:b] for a, b in spans])
            positions = None if reduced is None else np.concatenate([np.arange(a, b) for a, b in spans])
            if keep is not None:
                rows = np.concatenate([keep[a:b] for a, b in spans])
                seqs, scores = seqs[rows], scores[rows]
                positions = None if positions is None else positions[rows]
            if allowed is not None:
                rows = np.asarray(allowed(seqs), dtype=bool)
                seqs, scores = seqs[rows], scores[rows]
                positions = None if positions is None else positions[rows]
            if len(seqs) >= limit:
                if positions is None:
                    return _best(seqs, scores, limit)
                # the reduced scores choose the candidates; their full vectors give the exact cosines
                wanted = rescored(limit)
                if len(seqs) > wanted:
                    best = np.argpartition(-scores, wanted - 1)[:wanted]
                    seqs, positions = seqs[best], positions[best]
                return _best(seqs, self.matrix[positions] @ vector, limit)
            if probes >= len(centres) // 4:
                return None  # a narrow filter: the exact scan over the allowed rows is as cheap
            probes *= 4

    def _rescore(self, vector: Any, limit: int, scores: Any, keep: Any,
                 spans: list[tuple[int, int]]) -> list[tuple[int, float]] | None:
        """The best of the probed rows by their exact cosines: the :func:`rescored` best by reduced
        ``scores`` (the probed spans' rows, in order) among those ``keep`` allows, scored again with
        the full vectors; ``None`` when fewer than ``limit`` are allowed.

        Only the chosen candidates are mapped back to their rows: the probed rows' seqs and
        positions are never gathered, and a filter is one ``where`` instead of three copies (the
        same answers, 4-5 % less CPU per query at 100,000 rows; docs/retrieval.md).
        """
        import numpy as np

        count = len(scores)
        if keep is not None:
            kept = np.concatenate([keep[a:b] for a, b in spans])
            count = int(np.count_nonzero(kept))
            if count < limit:
                return None
            if count < len(scores):
                scores = np.where(kept, scores, -np.inf)
        elif count < limit:
            return None
        wanted = min(rescored(limit), count)
        best = np.argpartition(-scores, wanted - 1)[:wanted] if len(scores) > wanted else np.arange(len(scores))
        starts = np.fromiter((a for a, _ in spans), dtype=np.int64, count=len(spans))
        at = np.cumsum([0] + [b - a for a, b in spans[:-1]])  # where each span starts in ``scores``
        span = np.searchsorted(at, best, side="right") - 1
        positions = starts[span] + (best - at[span])
        return _best(self.seqs[positions], self.matrix[positions] @ vector, limit)

    def _clusters(self) -> tuple[Any, Any]:
        """Cluster the rows (first use): centres, and where each cluster's rows start (rows regrouped)."""
        with self._building:
            if self._graph is None:
                self._graph = self._group(self._train())
                self._reduce()
        return self._graph

    def _train(self) -> Any:
        """Spherical k-means centres (``sqrt(n)`` of them, seeded) trained on a sample of the rows."""
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
        self._clustered_rows = count
        self._projection = None
        if REDUCED_DIMENSION is not None and REDUCED_DIMENSION < self.matrix.shape[1] <= len(sample):
            # the sample's principal axes (uncentred: they keep what dot products with unit vectors need)
            axes = np.linalg.svd(sample, full_matrices=False)[2][:REDUCED_DIMENSION]
            self._projection = np.ascontiguousarray(axes.T, dtype=np.float32)
        return centres.astype(np.float32)

    def _reduce(self) -> None:
        """Project the main rows (in their final order) on :attr:`_projection`, if there is one."""
        import numpy as np

        self._reduced = None if self._projection is None else np.ascontiguousarray(self.matrix @ self._projection)

    def _group(self, centres: Any, labels: Any = None) -> tuple[Any, Any]:
        """Regroup the main rows by their nearest centre (``labels``: the rows' clusters, when known)."""
        import numpy as np

        if labels is None:
            labels = _nearest(self.matrix, centres)
        order = np.argsort(labels, kind="stable")
        self.seqs, self.matrix = self.seqs[order], np.ascontiguousarray(self.matrix[order])
        self.columns = {name: values[order] for name, values in self.columns.items()}
        if self._live is not None:
            self._live = self._live[order]
        offsets = np.searchsorted(labels[order], np.arange(len(centres) + 1))
        return centres, offsets

    def updated(self, removed: Any, seqs: Any, matrix: Any, columns: Mapping[str, Any] | None = None) -> VectorSet:
        """A new set without the rows ``removed`` and with rows ``seqs`` (replacing rows of the same seq).

        The main rows are shared: removed ones are hidden and added ones go to the tail, until
        either outgrows :data:`TAIL_SHARE` of the set; then they are folded in, and the inverted
        file carried over (added rows join their nearest cluster; the centres are trained again
        on the next search once the set has grown by half since they were, or shrunk by half).
        """
        import numpy as np

        removed = np.asarray(removed, dtype=np.int64).reshape(-1)
        seqs = np.asarray(seqs, dtype=np.int64).reshape(-1)
        matrix = np.asarray(matrix, dtype=np.float32).reshape(len(seqs), self.matrix.shape[1])
        added = {name: np.asarray(values) for name, values in (columns or {}).items()}
        if set(added) != set(self.columns):
            raise ValueError(f"columns {sorted(added)} for a set with columns {sorted(self.columns)}")
        gone = np.concatenate([removed, seqs])
        live = ~np.isin(self.seqs, gone)
        if self._live is not None:
            live &= self._live
        tail_seqs, tail_matrix, tail_columns = seqs, matrix, added
        if self._tail is not None:
            old_seqs, old_matrix, old_columns = self._tail
            stay = ~np.isin(old_seqs, gone)
            tail_seqs = np.concatenate([old_seqs[stay], seqs])
            tail_matrix = np.concatenate([old_matrix[stay], matrix])
            tail_columns = {name: np.concatenate([old_columns[name][stay], added[name]]) for name in added}
        hidden = len(live) - int(np.count_nonzero(live))
        small = max(64, TAIL_SHARE * (len(self.seqs) - hidden))
        if self.approximate and self._graph is not None and len(tail_seqs) <= small and hidden <= small:
            out = VectorSet.__new__(VectorSet)
            out.__dict__.update(self.__dict__)
            out._building, out._masks = threading.Lock(), {}
            out._live, out._hidden = (None, 0) if hidden == 0 else (live, hidden)
            out._tail = (tail_seqs, tail_matrix, tail_columns) if len(tail_seqs) else None
            return out
        return self._folded(live, tail_seqs, tail_matrix, tail_columns)

    def _folded(self, live: Any, seqs: Any, matrix: Any, columns: dict[str, Any]) -> VectorSet:
        """One set of main rows: this set's live main rows and the given tail, clusters carried over."""
        import numpy as np

        out = VectorSet(np.concatenate([self.seqs[live], seqs]), np.concatenate([self.matrix[live], matrix]),
                        exact_below=self.exact_below,
                        columns={name: np.concatenate([self.columns[name][live], columns[name]])
                                 for name in self.columns})
        if self._graph is None or not out.approximate:
            return out
        count = len(out)
        if count > 1.5 * self._clustered_rows or count < 0.5 * self._clustered_rows:
            return out  # clustered afresh on first use
        centres, offsets = self._graph
        labels = np.repeat(np.arange(len(centres)), np.diff(offsets))[live]
        out._graph = out._group(centres, np.concatenate([labels, _nearest(matrix, centres)]))
        out._clustered_rows = self._clustered_rows
        out._projection = self._projection
        out._reduce()
        return out

    def without(self, seqs: Any) -> VectorSet:
        """A new set without the rows ``seqs``."""
        return self.updated(list(seqs), [], [], {name: values[:0] for name, values in self.columns.items()})

    def plus(self, seqs: Any, matrix: Any, columns: Mapping[str, Any] | None = None) -> VectorSet:
        """A new set with rows added (``seqs`` must not be in this one)."""
        return self.updated([], seqs, matrix, columns)


def rescored(limit: int) -> int:
    """How many candidates of a reduced scan are re-scored with the full vectors for ``limit`` rows."""
    return max(RESCORE_MIN, RESCORE_PER_ROW * limit)


def _nearest(matrix: Any, centres: Any) -> Any:
    """The index of each row's nearest centre, a chunk of rows at a time (bounds the scratch memory)."""
    import numpy as np

    if not len(matrix):
        return np.zeros(0, dtype=np.int64)
    return np.concatenate([np.argmax(matrix[at:at + _ASSIGN_CHUNK] @ centres.T, axis=1)
                           for at in range(0, len(matrix), _ASSIGN_CHUNK)])


def _best(seqs: Any, scores: Any, limit: int) -> list[tuple[int, float]]:
    import numpy as np

    if len(scores) > limit:
        cut = np.argpartition(-scores, limit - 1)[:limit]
        # everything tied with the limit-th best joins, so ties resolve by seq, not by chance
        chosen = np.flatnonzero(scores >= scores[cut].min())
        seqs, scores = seqs[chosen], scores[chosen]
    order = np.lexsort((seqs, -scores))[:limit]
    return [(int(seqs[n]), float(scores[n])) for n in order]
