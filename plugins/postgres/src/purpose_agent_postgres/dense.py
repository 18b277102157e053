"""Search by meaning on PostgreSQL: vectors stored in the items' rows, searched in this process.

Each item row holds its text's vector (``vector``: little-endian float32, unit length) and the
embedder's ``model_id`` (``vector_model``); ``changed_xid`` is the id of the transaction that last
wrote the row (schema v2). A write that changes an item's text clears its vector in the same
statement; rows without a vector of the current model are embedded by whichever worker searches
next (:meth:`DenseIndex.embed_pending`, one worker at a time under an advisory lock, in batches
that each commit), so a bulk load does not wait for the embedder.

A process keeps every vector of its model in memory (:class:`DenseIndex`) and, before each
search, reads only the rows whose vector was written by a transaction its last read could not
see: the read runs in a ``REPEATABLE READ`` snapshot and remembers that snapshot's ``xmin``; any
transaction not visible to it has an id at least that, so ``changed_xid >= xmin`` finds every
change (and a few seen ones again), with no clock and no missed commit. The search itself is an
exact cosine over the matrix (the query vector times every row); the status and scope filters are
applied in SQL to the nearest rows, widening until enough survive.

With the pgvector extension in the database (or creatable by the store's role), the vectors are
also written to an ``embedding vector`` column with an HNSW index (cosine) for the embedder's
model and dimension, and the server finds the nearest rows, filters included (iterative index
scans from pgvector 0.8): no process holds the vectors then. The column and the index are added
when first needed, not by a numbered migration, since they depend on the server.
"""

from __future__ import annotations

import builtins
import threading
from collections.abc import Callable, Sequence
from typing import Any

#: Texts embedded per transaction by :meth:`DenseIndex.embed_pending`.
EMBED_BATCH = 256


def vector_literal(blob: bytes) -> str:
    """A stored vector (little-endian float32) as pgvector's text input, ``[x, y, ...]``."""
    import numpy as np

    return "[" + ",".join(map(repr, np.frombuffer(blob, dtype="<f4").astype(float).tolist())) + "]"


def sql_literal(text: str, *, with_parameters: bool) -> str:
    """``text`` as an SQL string literal (quotes doubled; ``%`` doubled too in a statement that
    psycopg formats with parameters).

    For the embedder's model id in the HNSW index's predicate and in the queries that must match it
    (a parameter would not let the planner prove the partial index applies to a prepared plan).
    """
    quoted = "'" + text.replace("'", "''") + "'"
    return quoted.replace("%", "%%") if with_parameters else quoted


class DenseIndex:
    """The vectors of one schema's items for one embedder, held in memory and kept current.

    ``transaction`` is the store's context manager giving a pooled connection in a transaction;
    ``table`` the qualified ``items`` table; ``lock_key`` the advisory lock text for embedding.
    """

    def __init__(self, embedder: Any, transaction: Callable[[], Any], table: str, lock_key: str,
                 pgvector: bool = False) -> None:
        import numpy as np

        self.embedder = embedder
        self.pgvector = pgvector  # also write the embedding column (the server searches it)
        self.model_id = str(embedder.model_id)
        self.dimension = int(embedder.dimension)
        self._transaction = transaction
        self._table = table
        self._lock_key = lock_key
        self._guard = threading.Lock()
        self._matrix = np.zeros((0, self.dimension), dtype=np.float32)
        self._seqs = np.zeros(0, dtype=np.int64)
        self._live = np.zeros(0, dtype=bool)
        self._row_of: dict[int, int] = {}
        self._count = 0
        self._xmin: str | None = None  # None: nothing read yet, the first refresh reads every row

    # ------------------------------------------------------------------ writing vectors

    def embed_pending(self) -> int:
        """Embed the rows with no vector of this model; return how many this process embedded.

        One process at a time (an advisory lock held while it embeds one batch); another
        process searching meanwhile skips this and searches the vectors already written. The
        update of each row is guarded by its text, so a text changed while it was being
        embedded is left for the next pass.
        """
        done = 0
        while True:
            with self._transaction() as conn:
                got = conn.execute("SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))",
                                   (self._lock_key,)).fetchone()[0]
                if not got:
                    return done
                rows = conn.execute(
                    f"SELECT seq, text FROM {self._table} WHERE vector IS NULL ORDER BY seq LIMIT %s",
                    (EMBED_BATCH,)).fetchall()
                if len(rows) < EMBED_BATCH:
                    # rows another model embedded (after a change of model) count as not embedded
                    rows += conn.execute(
                        f"SELECT seq, text FROM {self._table} WHERE vector IS NOT NULL AND vector_model <> %s "
                        "ORDER BY seq LIMIT %s", (self.model_id, EMBED_BATCH - len(rows))).fetchall()
                if not rows:
                    return done
                blobs = self._embed([text for _, text in rows])
                embedding = ", embedding = %s::vector" if self.pgvector else ""
                with conn.cursor() as cursor:
                    cursor.executemany(
                        f"UPDATE {self._table} SET vector = %s, vector_model = %s{embedding}, "
                        "changed_xid = pg_current_xact_id() WHERE seq = %s AND text = %s",
                        [(blob, self.model_id, *([vector_literal(blob)] if self.pgvector else []), seq, text)
                         for (seq, text), blob in zip(rows, blobs, strict=True)])
            done += len(rows)

    def copy_to_embedding_column(self) -> int:
        """pgvector: write the ``embedding`` of rows embedded before the column was used (from
        their stored vector, no embedder call); return how many."""
        done = 0
        while self.pgvector:
            with self._transaction() as conn:
                rows = conn.execute(
                    f"SELECT seq, vector FROM {self._table} WHERE vector_model = %s AND vector IS NOT NULL "
                    "AND embedding IS NULL ORDER BY seq LIMIT %s FOR UPDATE SKIP LOCKED",
                    (self.model_id, 4 * EMBED_BATCH)).fetchall()
                if not rows:
                    break
                with conn.cursor() as cursor:
                    cursor.executemany(f"UPDATE {self._table} SET embedding = %s::vector WHERE seq = %s",
                                       [(vector_literal(bytes(blob)), seq) for seq, blob in rows])
            done += len(rows)
        return done

    def _embed(self, texts: Sequence[str]) -> builtins.list[bytes]:
        import numpy as np

        from .connection import PostgresError

        vectors = np.asarray(self.embedder.embed(list(texts)), dtype="<f4")
        if vectors.shape != (len(texts), self.dimension):
            raise PostgresError(
                f"embedder {self.model_id!r} returned shape {vectors.shape} for {len(texts)} texts of dimension "
                f"{self.dimension}; memory cannot be searched by meaning with it (set semantic = false under "
                "[plugins.postgres] to search by words only)")
        return [row.tobytes() for row in vectors]

    # ------------------------------------------------------------------ reading vectors

    def refresh(self) -> None:
        """Read the vectors written since the last refresh (all of them the first time)."""
        import numpy as np

        with self._guard, self._transaction() as conn:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            xmin = conn.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text").fetchone()[0]
            if self._xmin is None:
                rows = conn.execute(f"SELECT seq, vector_model, vector FROM {self._table} "
                                    "WHERE vector IS NOT NULL").fetchall()
            else:
                rows = conn.execute(f"SELECT seq, vector_model, vector FROM {self._table} "
                                    "WHERE changed_xid >= %s::xid8", (self._xmin,)).fetchall()
            self._xmin = xmin
            if not rows:
                return
            fresh = [(int(seq), bytes(blob)) for seq, model, blob in rows
                     if blob is not None and model == self.model_id and len(blob) == 4 * self.dimension]
            for seq, model, blob in rows:  # cleared, or another model's: no longer searchable here
                if (blob is None or model != self.model_id) and int(seq) in self._row_of:
                    self._live[self._row_of[int(seq)]] = False
            new = [(seq, blob) for seq, blob in fresh if seq not in self._row_of]
            self._grow(self._count + len(new))
            for seq, blob in fresh:
                at = self._row_of.get(seq)
                if at is None:
                    at = self._row_of[seq] = self._count
                    self._seqs[at] = seq
                    self._count += 1
                self._matrix[at] = np.frombuffer(blob, dtype="<f4")
                self._live[at] = True

    def _grow(self, needed: int) -> None:
        import numpy as np

        if needed <= len(self._seqs):
            return
        size = max(needed, 2 * len(self._seqs), 1024)
        matrix = np.zeros((size, self.dimension), dtype=np.float32)
        matrix[:self._count] = self._matrix[:self._count]
        seqs = np.zeros(size, dtype=np.int64)
        seqs[:self._count] = self._seqs[:self._count]
        live = np.zeros(size, dtype=bool)
        live[:self._count] = self._live[:self._count]
        self._matrix, self._seqs, self._live = matrix, seqs, live

    @property
    def size(self) -> int:
        """How many items this process can search by meaning."""
        return int(self._live[:self._count].sum())

    def nearest(self, vector: Any, *, min_similarity: float) -> tuple[Any, Any]:
        """``(seqs, cosines)`` of every searchable item at least ``min_similarity`` from
        ``vector``, nearest first (numpy arrays)."""
        import numpy as np

        with self._guard:
            count = self._count
            scores = self._matrix[:count] @ np.asarray(vector, dtype=np.float32)
            scores[~self._live[:count]] = -np.inf
            seqs = self._seqs[:count].copy()
        keep = np.flatnonzero(scores >= min_similarity)
        order = keep[np.argsort(-scores[keep], kind="stable")]
        return seqs[order], scores[order]
