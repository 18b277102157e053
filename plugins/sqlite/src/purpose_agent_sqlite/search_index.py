"""Hybrid retrieval: BM25 over words and nearest vectors by meaning, fused by reciprocal rank.

Public API of ``purpose-agent-sqlite`` (``from purpose_agent_sqlite import SearchIndex``): other
distributions (the vault) build on it.

::

    from purpose_agent import Kernel
    from purpose_agent.interfaces import IndexedText
    from purpose_agent_sqlite import SearchIndex

    with SearchIndex("vault.db", name="chunks", embedder=Kernel.load().embedder()) as index:
        index.upsert([IndexedText(id="refunds#1", text="Refunds are paid within 14 days.",
                                  metadata={"file": "refunds.md", "lines": [1, 3]})])
        for hit in index.search("how long does a refund take", k=5):
            print(hit.id, hit.score, hit.lexical_rank, hit.dense_rank)

How it ranks (``mode``):

* ``"lexical"``: BM25 exactly as SQLite's FTS5 computes it (porter stemming, unicode61, the
  same formula), evaluated over packed posting lists by the memory store's own code
  (:mod:`purpose_agent_sqlite.fts`); ``score`` is the BM25 value (higher is better).
* ``"dense"``: cosine similarity between the query's embedding and each text's
  (:mod:`purpose_agent_sqlite.vector_search`: exact below a size threshold, approximate above);
  ``score`` is the cosine.
* ``"hybrid"`` (default): both rankings, each cut at ``candidates`` entries, fused by
  reciprocal rank: ``score = sum(1 / (RRF_K + rank))`` over the rankings a text appears in
  (ranks start at 1). Every hit carries both ranks (``None``: not in that ranking's candidates).
  With no embedder, hybrid is lexical ranking with RRF scores (``dense_rank`` is always ``None``).

Storage: one SQLite file (or ``":memory:"``) may hold several indexes, each under its own
``name``: ``<name>_texts`` (id, text, JSON metadata, sha256 of the text), the BM25 tables
``<name>_search_*``, ``<name>_vectors`` (float32 vectors keyed by ``(model id, sha256)``),
``<name>_state`` (a generation counter bumped by every write) and ``<name>_changes`` (a log of
the texts whose vectors changed, filled by triggers: a process holding the vectors in memory
applies only those after another's write). Every write is one transaction: a process killed mid-write leaves the index as it was
before that call. Texts are embedded before the transaction (embedding is slow; the write lock
is held only to write). An index keeps the vectors of one model: opened with another embedder
(another ``model_id``), it embeds its texts again on the first search that needs vectors, and
drops the old model's.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from purpose_agent.errors import PurposeAgentError
from purpose_agent.interfaces import RRF_K as RRF_K
from purpose_agent.interfaces import IndexedText, SearchHit
from purpose_agent.interfaces import reciprocal_rank_fusion as reciprocal_rank_fusion

__all__ = ["MODES", "RRF_K", "IndexedText", "SearchHit", "SearchIndex", "SearchIndexError", "reciprocal_rank_fusion"]

#: The ranking modes of :meth:`SearchIndex.search`.
MODES = ("lexical", "dense", "hybrid")

#: How many candidates each ranking contributes to a hybrid search at least.
CANDIDATES = 50

#: Texts per call to the embedder.
EMBED_BATCH = 64

#: Entries of an index's change log kept: pruned to about this many every 4,096 writes. A
#: process further behind reads every vector again.
CHANGES_KEPT = 100_000

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,47}")
_LOOKUP_CHUNK = 500  # ids per IN (...) lookup: under every SQLite build's parameter limit


class SearchIndexError(PurposeAgentError):
    """A search index cannot do what was asked; the message says what to do instead."""


class SearchIndex:
    """Texts searchable by words (BM25) and by meaning (embeddings), in one SQLite file.

    Args:
        path: the database file (created with its directory), or ``":memory:"``.
        name: this index's name in the file (letters, digits, ``_``; starts with a letter).
        embedder: an :class:`~purpose_agent.interfaces.Embedder` (``Kernel.load().embedder()``),
            or ``None`` for lexical search only.
        candidates: how many hits each ranking contributes to a hybrid search at least.
        rrf_k: reciprocal rank fusion's constant.
        exact_below: rows from which dense search is approximate (see :mod:`purpose_agent_sqlite.vector_search`).
        lexical_floor: in hybrid search, BM25 candidates scoring below this share of the best
            one are left out of the fusion (0: none; the memory store uses 0.5).
        min_similarity: in hybrid search, candidates by meaning with a lower cosine are left out
            (``None``: none; the memory store uses 0.25 with all-MiniLM-L6-v2).
        busy_timeout_ms: how long a writer waits for another process's write.

    Thread-safe (one connection, used under a lock). A forked child must open its own index.
    """

    def __init__(self, path: str | os.PathLike[str], *, name: str = "chunks", embedder: Any = None,
                 candidates: int = CANDIDATES, rrf_k: int = RRF_K, exact_below: int | None = None,
                 lexical_floor: float = 0.0, min_similarity: float | None = None,
                 busy_timeout_ms: int = 10_000) -> None:
        from . import fts as sqlite_search
        from .store import require_fts5
        from .vector_search import EXACT_BELOW

        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise SearchIndexError(f"index name {name!r} is not usable as a table prefix; use letters, digits "
                                   "and '_', starting with a letter (at most 48 characters), e.g. 'chunks'")
        if embedder is not None and not callable(getattr(embedder, "embed", None)):
            raise SearchIndexError(f"embedder {embedder!r} has no embed() method; pass Kernel.load().embedder() "
                                   "(or purpose_agent.testing.HashingEmbedder() in tests), or None for lexical search")
        if candidates < 1 or rrf_k < 1:
            raise SearchIndexError(f"candidates ({candidates}) and rrf_k ({rrf_k}) must be at least 1")
        require_fts5()
        self.name = name
        self.embedder = embedder
        self.candidates = int(candidates)
        self.rrf_k = int(rrf_k)
        self.lexical_floor = float(lexical_floor)
        self.min_similarity = min_similarity
        self.exact_below = EXACT_BELOW if exact_below is None else int(exact_below)
        self.in_memory = os.fspath(path) == ":memory:"
        self.path = Path(path).expanduser()
        self._texts = f"{name}_texts"
        self._vectors = f"{name}_vectors"
        self._state = f"{name}_state"
        self._changes = f"{name}_changes"
        self._tables = sqlite_search.Tables(items=self._texts, prefix=f"{name}_search_")
        self._lock = threading.RLock()
        self._closed = False
        self._dense: Any = None  # (change-log version, model id, VectorSet) of the last dense search
        self._pid = os.getpid()
        try:
            if not self.in_memory:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(":memory:" if self.in_memory else os.fspath(self.path),
                                         timeout=busy_timeout_ms / 1000, isolation_level=None,
                                         check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise SearchIndexError(f"cannot open the search index {self.path}: {exc}; choose a writable path") from exc
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            if not self.in_memory:
                self._conn.execute("PRAGMA journal_mode = WAL")
                self._conn.execute("PRAGMA synchronous = NORMAL")
            sqlite_search.prepare(self._conn)
            with self._write() as conn:
                self._create(conn)
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise SearchIndexError(f"{self.path} is not a usable search index ({exc}); choose another path, "
                                   "or delete the file to index again") from exc

    # ------------------------------------------------------------------ plumbing

    def _create(self, conn: sqlite3.Connection) -> None:
        conn.execute(f"""CREATE TABLE IF NOT EXISTS {self._texts} (
            seq INTEGER PRIMARY KEY,              -- what the BM25 and vector rankings point at
            id TEXT NOT NULL UNIQUE,
            text TEXT NOT NULL,
            metadata TEXT NOT NULL,               -- JSON object
            digest BLOB NOT NULL                  -- sha256 of the text (the vectors' key)
        )""")
        conn.execute(f"CREATE INDEX IF NOT EXISTS {self._texts}_by_digest ON {self._texts} (digest)")
        conn.execute(f"""CREATE TABLE IF NOT EXISTS {self._vectors} (
            model_id TEXT NOT NULL,
            digest BLOB NOT NULL,
            vector BLOB NOT NULL,                 -- float32, little-endian, unit length
            PRIMARY KEY (model_id, digest)
        ) WITHOUT ROWID""")
        conn.execute(f"CREATE TABLE IF NOT EXISTS {self._state} (key TEXT PRIMARY KEY, value INTEGER NOT NULL)")
        # The change log: which texts' vectors changed, so a process holding them in memory
        # applies those rows only (see _vector_set); kept to about CHANGES_KEPT entries.
        changes, texts, vectors = self._changes, self._texts, self._vectors
        conn.execute(f"CREATE TABLE IF NOT EXISTS {changes} (version INTEGER PRIMARY KEY AUTOINCREMENT, "
                     "seq INTEGER NOT NULL)")
        for trigger, event, seq in (("insert", f"INSERT ON {texts}", "new.seq"),
                                    ("update", f"UPDATE OF digest ON {texts}", "new.seq"),
                                    ("delete", f"DELETE ON {texts}", "old.seq")):
            conn.execute(f"CREATE TRIGGER IF NOT EXISTS {changes}_{trigger} AFTER {event} BEGIN "
                         f"INSERT INTO {changes} (seq) VALUES ({seq}); END")
        conn.execute(f"CREATE TRIGGER IF NOT EXISTS {changes}_vector AFTER INSERT ON {vectors} BEGIN "
                     f"INSERT INTO {changes} (seq) SELECT seq FROM {texts} WHERE digest = new.digest; END")
        conn.execute(f"CREATE TRIGGER IF NOT EXISTS {changes}_prune AFTER INSERT ON {changes} "
                     f"WHEN new.version % 4096 = 0 BEGIN "
                     f"DELETE FROM {changes} WHERE version <= new.version - {CHANGES_KEPT}; END")
        conn.execute(f"INSERT OR IGNORE INTO {self._state} (key, value) VALUES ('generation', 0)")
        for statement in self._tables.schema():
            conn.execute(statement)

    def _connection(self) -> sqlite3.Connection:
        if self._closed:
            raise SearchIndexError(f"the search index {self.path} ({self.name}) is closed; open a new SearchIndex")
        if os.getpid() != self._pid:
            raise SearchIndexError("a SearchIndex cannot be used across fork(); open a new one in the child process")
        return self._conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction that bumps the generation (all or nothing)."""
        from .store import write_transaction

        with self._lock, write_transaction(self._connection(), SearchIndexError, f"the search index {self.path}") as conn:
            yield conn
            # still bumped: a process of an earlier version watches it to know its vectors are stale
            conn.execute(f"UPDATE {self._state} SET value = value + 1 WHERE key = 'generation'")

    def close(self) -> None:
        """Close the connection (searching a closed index raises :class:`SearchIndexError`)."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._dense = None
                self._conn.close()

    def __enter__(self) -> SearchIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ reading

    def __len__(self) -> int:
        with self._lock:
            return int(self._connection().execute(f"SELECT count(*) FROM {self._texts}").fetchone()[0])

    def __contains__(self, text_id: object) -> bool:
        if not isinstance(text_id, str):
            return False
        with self._lock:
            return self._connection().execute(f"SELECT 1 FROM {self._texts} WHERE id = ?", (text_id,)).fetchone() is not None

    def get(self, text_id: str) -> IndexedText | None:
        """The indexed text with this id, or ``None``."""
        with self._lock:
            row = self._connection().execute(f"SELECT id, text, metadata FROM {self._texts} WHERE id = ?",
                                             (text_id,)).fetchone()
        return None if row is None else IndexedText(row[0], row[1], json.loads(row[2]))

    def ids(self) -> list[str]:
        """Every id, in the order first indexed."""
        with self._lock:
            return [row[0] for row in self._connection().execute(f"SELECT id FROM {self._texts} ORDER BY seq")]

    # ------------------------------------------------------------------ writing

    def upsert(self, texts: Iterable[IndexedText]) -> int:
        """Add texts, or replace those whose id exists; return how many were written.

        A text whose id, text and metadata are all unchanged is skipped (not re-embedded, not
        re-indexed). New texts are embedded in batches of :data:`EMBED_BATCH` before the write,
        which is one transaction. A later entry with the same id as an earlier one wins.
        """
        from purpose_agent.interfaces import text_digest

        batch: dict[str, tuple[str, str, bytes]] = {}
        for entry in texts:
            if not isinstance(entry, IndexedText):
                raise SearchIndexError(f"upsert() takes IndexedText entries, not {type(entry).__name__}: "
                                       "wrap each as IndexedText(id=..., text=..., metadata={...})")
            if not isinstance(entry.id, str) or not entry.id:
                raise SearchIndexError(f"an IndexedText id must be a non-empty string, not {entry.id!r}")
            if not isinstance(entry.text, str):
                raise SearchIndexError(f"the text of {entry.id!r} is a {type(entry.text).__name__}, not a string")
            try:
                metadata = json.dumps(dict(entry.metadata), sort_keys=True, ensure_ascii=False, allow_nan=False)
            except (TypeError, ValueError) as exc:
                raise SearchIndexError(f"the metadata of {entry.id!r} cannot be stored as JSON ({exc}); use strings, "
                                       "numbers, booleans, None, lists and dicts only") from exc
            batch[entry.id] = (entry.text, metadata, text_digest(entry.text))
        if not batch:
            return 0
        with self._lock:
            conn = self._connection()
            found = self._rows(conn, list(batch))
        changed = {i: row for i, row in batch.items() if i not in found or found[i][1:] != (row[1], row[2])}
        if not changed:
            return 0
        vectors = self._embed_missing({digest: text for text, _, digest in changed.values()})
        with self._write() as conn:
            found = self._rows(conn, list(changed))  # again under the lock: another writer may have been first
            self._apply(conn, changed, found, vectors)
        return len(changed)

    def _rows(self, conn: sqlite3.Connection, ids: Sequence[str]) -> dict[str, tuple[int, str, bytes]]:
        """``{id: (seq, metadata JSON, digest)}`` of the stored ones among ``ids``."""
        out: dict[str, tuple[int, str, bytes]] = {}
        for start in range(0, len(ids), _LOOKUP_CHUNK):
            chunk = ids[start:start + _LOOKUP_CHUNK]
            for seq, text_id, metadata, digest in conn.execute(
                    f"SELECT seq, id, metadata, digest FROM {self._texts} WHERE id IN ({', '.join('?' for _ in chunk)})",
                    chunk):
                out[text_id] = (seq, metadata, bytes(digest))
        return out

    def _apply(self, conn: sqlite3.Connection, changed: dict[str, tuple[str, str, bytes]],
               found: dict[str, tuple[int, str, bytes]], vectors: dict[bytes, bytes]) -> None:
        from . import fts as sqlite_search

        reindex = [found[i][0] for i, (_, _, digest) in changed.items() if i in found and found[i][2] != digest]
        sqlite_search.unindex(conn, reindex, self._tables)
        dropped = {found[i][2] for i in changed if i in found}
        rows = []
        for text_id, (text, metadata, digest) in changed.items():
            if text_id in found:
                seq = found[text_id][0]
                conn.execute(f"UPDATE {self._texts} SET text = ?, metadata = ?, digest = ? WHERE seq = ?",
                             (text, metadata, digest, seq))
                if found[text_id][2] == digest:
                    continue  # metadata only: the rankings stay as they are
            else:
                cursor = conn.execute(f"INSERT INTO {self._texts} (id, text, metadata, digest) VALUES (?, ?, ?, ?)",
                                      (text_id, text, metadata, digest))
                seq = int(cursor.lastrowid or 0)
            rows.append((seq, text, "", "", "{}"))
        sqlite_search.index(conn, rows, self._tables)
        if vectors and self.embedder is not None:
            model_id = str(self.embedder.model_id)
            conn.executemany(f"INSERT OR IGNORE INTO {self._vectors} (model_id, digest, vector) VALUES (?, ?, ?)",
                             [(model_id, digest, blob) for digest, blob in vectors.items()])
        self._drop_orphan_vectors(conn, dropped)

    def _drop_orphan_vectors(self, conn: sqlite3.Connection, digests: Iterable[bytes]) -> None:
        """Delete the vectors of ``digests`` that no text has any more."""
        conn.executemany(f"DELETE FROM {self._vectors} WHERE digest = ? AND NOT EXISTS "
                         f"(SELECT 1 FROM {self._texts} WHERE digest = ?)", [(d, d) for d in set(digests)])

    def delete(self, ids: Iterable[str]) -> int:
        """Remove texts by id (unknown ids are ignored); return how many were removed."""
        from . import fts as sqlite_search

        wanted = list(dict.fromkeys(i for i in ids if isinstance(i, str)))
        if not wanted:
            return 0
        with self._write() as conn:
            found = self._rows(conn, wanted)
            if found:
                seqs = [seq for seq, _, _ in found.values()]
                sqlite_search.unindex(conn, seqs, self._tables)
                conn.executemany(f"DELETE FROM {self._texts} WHERE seq = ?", [(s,) for s in seqs])
                self._drop_orphan_vectors(conn, (digest for _, _, digest in found.values()))
        return len(found)

    # ------------------------------------------------------------------ vectors

    def _embed_missing(self, texts: Mapping[bytes, str]) -> dict[bytes, bytes]:
        """Embed the texts (by digest) that have no vector for the current model; float32 bytes each."""
        import numpy as np

        if self.embedder is None or not texts:
            return {}
        model_id = str(self.embedder.model_id)
        digests = list(texts)
        with self._lock:
            conn = self._connection()
            have: set[bytes] = set()
            for start in range(0, len(digests), _LOOKUP_CHUNK):
                chunk = digests[start:start + _LOOKUP_CHUNK]
                have.update(bytes(row[0]) for row in conn.execute(
                    f"SELECT digest FROM {self._vectors} WHERE model_id = ? AND digest IN "
                    f"({', '.join('?' for _ in chunk)})", [model_id, *chunk]))
        missing = [d for d in digests if d not in have]
        out: dict[bytes, bytes] = {}
        dimension = int(self.embedder.dimension)
        for start in range(0, len(missing), EMBED_BATCH):
            part = missing[start:start + EMBED_BATCH]
            vectors = np.asarray(self.embedder.embed([texts[d] for d in part]), dtype="<f4")
            if vectors.shape != (len(part), dimension):
                raise SearchIndexError(f"embedder {model_id!r} returned shape {vectors.shape} for {len(part)} texts, "
                                       f"not ({len(part)}, {dimension}); it breaks the Embedder contract")
            out.update(zip(part, (row.tobytes() for row in vectors), strict=True))
        return out

    def embed_pending(self) -> int:
        """Embed every text that has no vector for the current model (after a model change, or texts
        indexed without an embedder), in batches, each written in its own transaction; return how many.

        Called by the first search that needs vectors; call it yourself to pay the cost up front.
        The vectors of other models are dropped once every text has one for this model.
        """
        if self.embedder is None:
            return 0
        model_id = str(self.embedder.model_id)
        done = 0
        while True:
            with self._lock:
                conn = self._connection()
                pending = conn.execute(
                    f"SELECT t.digest, min(t.text) FROM {self._texts} t WHERE NOT EXISTS (SELECT 1 FROM {self._vectors} v "
                    f"WHERE v.model_id = ? AND v.digest = t.digest) GROUP BY t.digest LIMIT ?",
                    (model_id, EMBED_BATCH * 16)).fetchall()
                stale = not pending and conn.execute(
                    f"SELECT 1 FROM {self._vectors} WHERE model_id != ? LIMIT 1", (model_id,)).fetchone() is not None
            if not pending:
                if stale:
                    with self._write() as conn:
                        conn.execute(f"DELETE FROM {self._vectors} WHERE model_id != ?", (model_id,))
                return done
            vectors = self._embed_missing({bytes(d): text for d, text in pending})
            with self._write() as conn:
                conn.executemany(f"INSERT OR IGNORE INTO {self._vectors} (model_id, digest, vector) VALUES (?, ?, ?)",
                                 [(model_id, digest, blob) for digest, blob in vectors.items()])
            done += len(pending)

    def _vector_set(self) -> Any:
        """The current model's vectors, brought up to date with what any process wrote.

        The first call reads them all; later ones apply the texts changed since (the change log),
        unless the model changed, the log no longer reaches back, or a changed text has no vector.
        """
        assert self.embedder is not None
        model_id = str(self.embedder.model_id)
        with self._lock:
            conn = self._connection()
            version = conn.execute(f"SELECT coalesce(max(version), 0) FROM {self._changes}").fetchone()[0]
            dense = self._dense
            if dense is not None and dense[:2] == (version, model_id):
                return dense[2]
            if dense is not None and dense[1] == model_id:
                updated = self._apply_changes(conn, dense[0], version, model_id, dense[2])
                if updated is not None:
                    self._dense = (version, model_id, updated)
                    return updated
        return self._load_vectors(model_id)

    def _apply_changes(self, conn: sqlite3.Connection, seen: int, version: int, model_id: str,
                       vector_set: Any) -> Any:
        """``vector_set`` with the texts changed after version ``seen`` applied; ``None``: read everything."""
        import numpy as np

        oldest = conn.execute(f"SELECT min(version) FROM {self._changes}").fetchone()[0]
        if oldest is None or oldest > seen + 1:
            return None  # pruned past what this process saw
        changed = [row[0] for row in conn.execute(
            f"SELECT DISTINCT seq FROM {self._changes} WHERE version > ? AND version <= ?", (seen, version))]
        from . import vector_search

        if len(changed) > max(1_000, vector_search.REREAD_SHARE * len(vector_set)):
            return None  # most rows changed: one full read is cheaper
        rows: list[tuple[int, bytes | None]] = []
        for start in range(0, len(changed), _LOOKUP_CHUNK):
            chunk = changed[start:start + _LOOKUP_CHUNK]
            rows += conn.execute(f"SELECT t.seq, v.vector FROM {self._texts} t LEFT JOIN {self._vectors} v "
                                 f"ON v.model_id = ? AND v.digest = t.digest WHERE t.seq IN "
                                 f"({', '.join('?' for _ in chunk)}) ORDER BY t.seq", [model_id, *chunk]).fetchall()
        if any(blob is None for _, blob in rows):
            return None  # a text without a vector for this model: embed_pending() first
        dimension = int(self.embedder.dimension)
        seqs = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
        matrix = np.frombuffer(b"".join(row[1] or b"" for row in rows), dtype="<f4").reshape(len(rows), dimension)
        return vector_set.updated(changed, seqs, matrix)

    def _load_vectors(self, model_id: str) -> Any:
        """Every text's vector (embedding the texts that have none first)."""
        import numpy as np

        from .vector_search import VectorSet

        assert self.embedder is not None
        for attempt in range(2):
            with self._lock:
                conn = self._connection()
                # read first: a write after it is applied again later, which is harmless
                version = conn.execute(f"SELECT coalesce(max(version), 0) FROM {self._changes}").fetchone()[0]
                rows = conn.execute(f"SELECT t.seq, v.vector FROM {self._texts} t JOIN {self._vectors} v "
                                    "ON v.model_id = ? AND v.digest = t.digest ORDER BY t.seq", (model_id,)).fetchall()
                complete = len(rows) == conn.execute(f"SELECT count(*) FROM {self._texts}").fetchone()[0]
            if complete or attempt:
                break
            self.embed_pending()  # texts indexed without an embedder, or under another model
        dimension = int(self.embedder.dimension)
        seqs = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
        matrix = np.frombuffer(b"".join(row[1] for row in rows), dtype="<f4").reshape(len(rows), dimension)
        vector_set = VectorSet(seqs, matrix, exact_below=self.exact_below)
        with self._lock:
            self._dense = (version, model_id, vector_set)
        return vector_set

    # ------------------------------------------------------------------ searching

    def search(self, query: str, k: int = 10, mode: str = "hybrid",
               where: Mapping[str, Any] | None = None) -> list[SearchHit]:
        """The ``k`` best texts for ``query``, best first (see the module docstring for ``mode``).

        ``where`` keeps only texts whose metadata has each given key equal to the given value
        (e.g. ``{"file": "refunds.md"}``); the rankings are widened until ``k`` such texts are
        found or none is left.
        """
        if mode not in MODES:
            raise SearchIndexError(f"search mode {mode!r} is not one of {', '.join(MODES)}")
        if not isinstance(query, str):
            raise SearchIndexError(f"the query must be a string, not {type(query).__name__}")
        if mode == "dense" and self.embedder is None:
            raise SearchIndexError(f"dense search needs an embedder, and the index {self.name!r} was opened without "
                                   "one: pass embedder=Kernel.load().embedder() (install purpose-agent-minilm), "
                                   "or search with mode='lexical'")
        if k <= 0 or not query.strip():
            return []
        wanted = {str(key): value for key, value in (where or {}).items()}
        pool = max(self.candidates, k) if mode == "hybrid" else k
        while True:
            hits = self._search(query, k, mode, pool, wanted)
            if len(hits) >= k or not wanted or pool >= len(self):
                return hits
            pool *= 4

    def _search(self, query: str, k: int, mode: str, pool: int, where: dict[str, Any]) -> list[SearchHit]:
        from purpose_agent.interfaces import query_terms

        from . import fts as sqlite_search

        lexical: list[tuple[int, float]] = []
        dense: list[tuple[int, float]] = []
        if mode in ("lexical", "hybrid"):
            with self._lock:
                rows = sqlite_search.rank(self._connection(), query_terms(query), limit=pool, status=None, scopes=None,
                                          select="i.seq", tables=self._tables)
            lexical = [(int(row[1]), float(row[0])) for row in rows]
        if mode in ("dense", "hybrid") and self.embedder is not None:
            vector_set = self._vector_set()
            vector = self.embedder.embed([query])[0]
            dense = vector_set.top(vector, pool)
        ranked: list[tuple[int, float, int | None, int | None]]
        if mode == "lexical":
            ranked = [(seq, score, rank, None) for rank, (seq, score) in enumerate(lexical, 1)]
        elif mode == "dense":
            ranked = [(seq, score, None, rank) for rank, (seq, score) in enumerate(dense, 1)]
        else:
            if lexical and self.lexical_floor > 0:
                lexical = [(seq, score) for seq, score in lexical if score >= lexical[0][1] * self.lexical_floor]
            if self.min_similarity is not None:
                dense = [(seq, score) for seq, score in dense if score >= self.min_similarity]
            fused = reciprocal_rank_fusion([[s for s, _ in lexical], [s for s, _ in dense]], self.rrf_k)
            ranked = [(seq, score, ranks[0], ranks[1]) for seq, score, ranks in fused]
        rows_by_seq = self._fetch([entry[0] for entry in ranked])
        hits = []
        for seq, score, lexical_rank, dense_rank in ranked:
            row = rows_by_seq.get(seq)
            if row is None:
                continue  # deleted between ranking and reading
            metadata = json.loads(row[2])
            if any(metadata.get(key, _ABSENT) != value for key, value in where.items()):
                continue
            hits.append(SearchHit(row[0], row[1], metadata, score, lexical_rank, dense_rank))
            if len(hits) == k:
                break
        return hits

    def _fetch(self, seqs: Sequence[int]) -> dict[int, tuple[str, str, str]]:
        out: dict[int, tuple[str, str, str]] = {}
        with self._lock:
            conn = self._connection()
            for start in range(0, len(seqs), _LOOKUP_CHUNK):
                chunk = seqs[start:start + _LOOKUP_CHUNK]
                for seq, text_id, text, metadata in conn.execute(
                        f"SELECT seq, id, text, metadata FROM {self._texts} WHERE seq IN ({', '.join('?' for _ in chunk)})",
                        chunk):
                    out[seq] = (text_id, text, metadata)
        return out

    # ------------------------------------------------------------------ upkeep

    def integrity_check(self) -> str:
        """``"ok"``, or what is inconsistent (SQLite's own check, then the BM25 tables against the texts)."""
        from . import fts as sqlite_search

        with self._lock:
            conn = self._connection()
            result = "; ".join(row[0] for row in conn.execute("PRAGMA integrity_check"))
            if result != "ok":
                return result
            return sqlite_search.check(conn, self._tables).replace(
                "SQLiteStore.rebuild_search_index()", "SearchIndex.rebuild()")

    def rebuild(self) -> int:
        """Rebuild the BM25 tables from the texts (a repair; one transaction); return the count."""
        from . import fts as sqlite_search

        with self._write() as conn:
            return sqlite_search.rebuild(conn, tables=self._tables, columns="seq, text, '', '', '{}'")


_ABSENT = object()
