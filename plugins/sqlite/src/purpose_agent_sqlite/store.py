"""The persistent memory store, one SQLite file in WAL mode (plugin ``sqlite`` of
``purpose-agent-sqlite``, registered by :mod:`purpose_agent_sqlite.sqlite_plugin`).

Options (``kernel.memory_store("sqlite", **options)``):

* ``path``: the database file. Default: ``[memory] path`` from the configuration, else
  ``$XDG_DATA_HOME/purpose-agent/memory.db`` (``~/.local/share/...``; ``%LOCALAPPDATA%`` on
  Windows). ``~`` is expanded; a relative path is relative to the working directory.
* ``busy_timeout_ms`` (default 10000): how long a writer waits for another one.
* ``synchronous`` (default ``"NORMAL"``): WAL + NORMAL loses nothing when a *process* dies; use
  ``"FULL"`` to also keep the last commits through a power cut (slower writes).

Layout (schema version :data:`LATEST_SCHEMA`, migrations in :data:`MIGRATIONS`):

* ``items``: the current version of each item, one row; scope, provenance, counters and tags
  are JSON columns;
* ``item_versions``: every version ever written, as the item's canonical JSON; append-only
  (triggers refuse UPDATE and DELETE);
* ``items_fts``: an FTS5 index over text and tags (the tokenizer of record and the reference
  ranking, :meth:`SQLiteStore.fts5_rows`);
* ``search_blocks``, ``search_terms``, ``search_scopes``, ``search_documents``, ``search_totals``:
  what BM25 needs, per stem and item, so that :meth:`SQLiteStore.search` ranks exactly as FTS5's
  ``bm25()`` at a fraction of its cost (:mod:`purpose_agent_sqlite.fts`);
* ``item_vectors``: each text's vector by ``(model id, sha256)``, for search by meaning;
* ``search_changes``: a log of the items whose text, status or scope changed (by triggers), so a
  process holding the vectors in memory applies only those rows after a write;
* ``schema_version``: one row per applied migration.

Beyond the :class:`~purpose_agent.interfaces.MemoryStore` protocol the store offers
:meth:`SQLiteStore.record_use`, :meth:`~SQLiteStore.rollback`, :meth:`~SQLiteStore.export_jsonl`,
:meth:`~SQLiteStore.import_jsonl`, :meth:`~SQLiteStore.restore`, :meth:`~SQLiteStore.add_many`,
:meth:`~SQLiteStore.find_by_hash`, :meth:`~SQLiteStore.ids_with_prefix` and
:meth:`~SQLiteStore.stats`; ``search`` also takes ``scopes``.

Concurrency: one connection per thread (and per process: a forked child opens its own); every
write is a ``BEGIN IMMEDIATE`` transaction, so writers queue on the database lock instead of
failing half-way, and readers never block writers (WAL).

Only the standard library is imported at module level (pydantic on first use).
"""

from __future__ import annotations

import builtins
import functools
import itertools
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from purpose_agent.interfaces import HYBRID_CANDIDATES as HYBRID_CANDIDATES
from purpose_agent.interfaces import LEXICAL_FLOOR as LEXICAL_FLOOR
from purpose_agent.interfaces import MIN_SIMILARITY as MIN_SIMILARITY
from purpose_agent.interfaces import SEMANTIC_CHOICES as SEMANTIC_CHOICES
from purpose_agent.interfaces import StoredHit, StoreEmbedder
from purpose_agent.interfaces import query_terms as query_terms

from . import fts as sqlite_search

# --------------------------------------------------------------------------- schema

#: Entries of the change log (schema v6) kept: pruned to about this many every 4,096 writes.
CHANGES_KEPT = 100_000

#: Ordered migrations: entry ``n - 1`` takes a database from schema version ``n - 1`` to ``n``.
#: A step is SQL text or a function of the connection (run in the same transaction). Released
#: steps are never edited; a change of layout is a new entry at the end.
MIGRATIONS: tuple[tuple[str | Callable[[sqlite3.Connection], object], ...], ...] = (
    # v1: current items and their append-only history.
    (
        """CREATE TABLE items (
            seq INTEGER PRIMARY KEY,         -- explicit, so VACUUM keeps it (the FTS index points at it)
            id TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            status TEXT NOT NULL,
            text TEXT NOT NULL,
            scope TEXT NOT NULL,             -- JSON {"level", "value"}
            version INTEGER NOT NULL,
            provenance TEXT NOT NULL,        -- JSON
            counters TEXT NOT NULL,          -- JSON {"uses", "helpful", "harmful"}
            usefulness REAL NOT NULL,
            tags TEXT NOT NULL,              -- JSON list of strings
            status_reason TEXT NOT NULL,
            updated_at REAL NOT NULL
        )""",
        "CREATE INDEX items_by_status ON items (status, updated_at)",
        "CREATE INDEX items_by_updated ON items (updated_at)",
        """CREATE TABLE item_versions (
            item_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            data TEXT NOT NULL,              -- the whole item at this version, canonical JSON
            written_at REAL NOT NULL,
            PRIMARY KEY (item_id, version)
        ) WITHOUT ROWID""",
    ),
    # v2: BM25 search, the exact-duplicate key, and history made structurally append-only.
    (
        "ALTER TABLE items ADD COLUMN content_hash TEXT NOT NULL DEFAULT ''",
        "UPDATE items SET content_hash = purpose_agent_content_hash(text)",
        "CREATE INDEX items_by_hash ON items (content_hash)",
        """CREATE VIRTUAL TABLE items_fts USING fts5(
            text, tags, content='items', content_rowid='seq',
            tokenize='porter unicode61 remove_diacritics 2'
        )""",
        "INSERT INTO items_fts (items_fts) VALUES ('rebuild')",
        """CREATE TRIGGER items_fts_insert AFTER INSERT ON items BEGIN
            INSERT INTO items_fts (rowid, text, tags) VALUES (new.seq, new.text, new.tags);
        END""",
        """CREATE TRIGGER items_fts_delete AFTER DELETE ON items BEGIN
            INSERT INTO items_fts (items_fts, rowid, text, tags) VALUES ('delete', old.seq, old.text, old.tags);
        END""",
        """CREATE TRIGGER items_fts_update AFTER UPDATE OF text, tags ON items BEGIN
            INSERT INTO items_fts (items_fts, rowid, text, tags) VALUES ('delete', old.seq, old.text, old.tags);
            INSERT INTO items_fts (rowid, text, tags) VALUES (new.seq, new.text, new.tags);
        END""",
        """CREATE TRIGGER item_versions_no_update BEFORE UPDATE ON item_versions BEGIN
            SELECT RAISE(ABORT, 'item_versions is append-only: write a new version instead');
        END""",
        """CREATE TRIGGER item_versions_no_delete BEFORE DELETE ON item_versions BEGIN
            SELECT RAISE(ABORT, 'item_versions is append-only: history is never deleted');
        END""",
    ),
    # v3: the first BM25 sidecar (one row per stem and item). Its fill from the items now happens
    # in v4, which replaces two of these tables: filling them here would be wasted work.
    (
        """CREATE TABLE search_terms (
            term TEXT PRIMARY KEY,
            documents INTEGER NOT NULL,
            max_frequency REAL NOT NULL,
            min_length INTEGER NOT NULL
        ) WITHOUT ROWID""",
        """CREATE TABLE search_postings (
            term TEXT NOT NULL,
            status TEXT NOT NULL,
            seq INTEGER NOT NULL,
            frequency REAL NOT NULL,
            length INTEGER NOT NULL,
            scope TEXT NOT NULL,
            PRIMARY KEY (term, status, seq)
        ) WITHOUT ROWID""",
        """CREATE TABLE search_documents (
            seq INTEGER PRIMARY KEY,         -- items.seq
            status TEXT NOT NULL,
            length INTEGER NOT NULL,         -- tokens in the item, all columns
            terms TEXT NOT NULL              -- its distinct stems, space-separated
        )""",
        """CREATE TABLE search_totals (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            documents INTEGER NOT NULL,
            tokens INTEGER NOT NULL
        )""",
        "INSERT INTO search_totals (id, documents, tokens) VALUES (1, 0, 0)",
    ),
    # v4: postings packed in blocks (see sqlite_search), filled from the items.
    ("DROP TABLE search_postings", "DROP TABLE search_terms", *sqlite_search.SCHEMA, sqlite_search.rebuild),
    # v5: search by meaning. Vectors keyed by (model id, sha256 of the text) like the kernel's
    # cache, filled lazily by the first search that needs them; a counter that triggers bump
    # whenever what a ranking reads changes (text, status, scope), so every connection and
    # process knows when its in-memory vectors are stale.
    (
        """CREATE TABLE item_vectors (
            model_id TEXT NOT NULL,
            digest BLOB NOT NULL,                -- sha256 of the item's text (embedding_cache.text_digest)
            vector BLOB NOT NULL,                -- float32 little-endian, unit length
            PRIMARY KEY (model_id, digest)
        ) WITHOUT ROWID""",
        "CREATE TABLE search_generation (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL)",
        "INSERT INTO search_generation (id, value) VALUES (1, 0)",
        """CREATE TRIGGER items_generation_insert AFTER INSERT ON items BEGIN
            UPDATE search_generation SET value = value + 1 WHERE id = 1;
        END""",
        """CREATE TRIGGER items_generation_delete AFTER DELETE ON items BEGIN
            UPDATE search_generation SET value = value + 1 WHERE id = 1;
        END""",
        """CREATE TRIGGER items_generation_update AFTER UPDATE OF text, status, scope ON items BEGIN
            UPDATE search_generation SET value = value + 1 WHERE id = 1;
        END""",
    ),
    # v6: a change log instead of the generation counter. Every change to what a ranking reads
    # (text, status, scope) appends the item's seq, so a process holding the vectors in memory
    # applies only the rows changed since the version it last saw instead of re-reading them all
    # (~4 s at 100,000 items). The log keeps about its last CHANGES_KEPT entries; a reader that
    # fell further behind reloads everything.
    (
        "DROP TRIGGER items_generation_insert",
        "DROP TRIGGER items_generation_delete",
        "DROP TRIGGER items_generation_update",
        "DROP TABLE search_generation",
        "CREATE TABLE search_changes (version INTEGER PRIMARY KEY AUTOINCREMENT, seq INTEGER NOT NULL)",
        """CREATE TRIGGER items_change_insert AFTER INSERT ON items BEGIN
            INSERT INTO search_changes (seq) VALUES (new.seq);
        END""",
        """CREATE TRIGGER items_change_delete AFTER DELETE ON items BEGIN
            INSERT INTO search_changes (seq) VALUES (old.seq);
        END""",
        """CREATE TRIGGER items_change_update AFTER UPDATE OF text, status, scope ON items BEGIN
            INSERT INTO search_changes (seq) VALUES (new.seq);
        END""",
        # pruned in steps of 4,096 entries, so a write rarely pays for it
        f"""CREATE TRIGGER search_changes_prune AFTER INSERT ON search_changes WHEN new.version % 4096 = 0 BEGIN
            DELETE FROM search_changes WHERE version <= new.version - {CHANGES_KEPT};
        END""",
    ),
)

LATEST_SCHEMA = len(MIGRATIONS)

_COLUMNS = ("id", "kind", "status", "text", "scope", "version", "provenance", "counters", "usefulness",
            "tags", "status_reason", "updated_at")
_SELECT = ", ".join(f"i.{c}" for c in _COLUMNS)
_JSON_COLUMNS = frozenset({"scope", "provenance", "counters", "tags"})
_INSERT_VERSION = "INSERT INTO item_versions (item_id, version, data, written_at) VALUES (?, ?, ?, ?)"


#: Texts embedded per write transaction when items are embedded lazily.
_EMBED_COMMIT = 256
# Keys per IN (...) lookup: under every SQLite build's parameter limit.
_LOOKUP_CHUNK = 500


def default_path(environ: dict[str, str] | None = None) -> Path:
    """The per-user default database file (see the module docstring)."""
    env = os.environ if environ is None else environ
    if env.get("XDG_DATA_HOME"):
        base = Path(env["XDG_DATA_HOME"])
    elif os.name == "nt" and env.get("LOCALAPPDATA"):
        base = Path(env["LOCALAPPDATA"])
    else:
        base = Path(env.get("HOME") or Path.home()) / ".local" / "share"
    return base / "purpose-agent" / "memory.db"


def content_hash(text: str) -> str:
    """The exact-duplicate key of a text: ``MemoryItem.content_hash``, callable from SQL."""
    from purpose_agent.models import MemoryItem

    # model_construct skips validation: the migration hashes texts already stored.
    return MemoryItem.model_construct(text=text).content_hash


def fts_query(text: str | Sequence[str], operator: str = "OR") -> str:
    """Turn free text (or :func:`query_terms`) into a safe FTS5 query: its words, quoted, joined with OR.

    Quoting makes every word a literal (FTS5 operators and punctuation in user text cannot break
    the query). Stopwords are dropped unless nothing else is left. Empty result: no words.
    ``operator="AND"`` requires every word instead.
    """
    terms = query_terms(text) if isinstance(text, str) else list(text)
    return f" {operator} ".join(f'"{w}"' for w in terms)


_FTS5_CHECKED: bool | None = None


def require_fts5() -> None:
    """Raise :class:`MemoryStoreError` if this Python's SQLite lacks FTS5 (checked once)."""
    global _FTS5_CHECKED
    if _FTS5_CHECKED is None:
        probe = sqlite3.connect(":memory:")
        try:
            probe.execute("CREATE VIRTUAL TABLE probe USING fts5(x)")
            _FTS5_CHECKED = True
        except sqlite3.OperationalError:
            _FTS5_CHECKED = False
        finally:
            probe.close()
    if not _FTS5_CHECKED:
        from purpose_agent.interfaces import MemoryStoreError

        raise MemoryStoreError(
            f"the SQLite library of this Python (version {sqlite3.sqlite_version}) was built without FTS5, "
            "which the sqlite memory store needs for search. Use a Python whose sqlite3 has FTS5 (the python.org, "
            "Homebrew, conda and most Linux distribution builds do), or configure another store in [memory] store."
        )


# --------------------------------------------------------------------------- search hits


_INDEX = {c: i for i, c in enumerate(_COLUMNS)}


class Candidate(StoredHit):
    """A search hit: its BM25 (or fused) ``score`` and raw row; ``item`` validates the row on first use."""

    __slots__ = ()
    columns = _INDEX

    @property
    def uses(self) -> int:
        return _uses(self._row[_INDEX["counters"]])


# Retrieval reads the use count of every candidate; the same few counters texts come back again
# and again, so each is parsed once.
@functools.lru_cache(maxsize=4096)
def _uses(counters_json: str) -> int:
    return int(json.loads(counters_json).get("uses", 0))


# --------------------------------------------------------------------------- the store


#: The path that asks for a database in this process's memory instead of a file.
IN_MEMORY = ":memory:"
_in_memory_databases = itertools.count(1)  # names the in-memory databases apart


class SQLiteStore:
    """A versioned memory store in one SQLite file; safe across threads and processes.

    ``path=":memory:"`` keeps the database in this process's memory instead (nothing persists;
    it is gone when the store is closed): the same schema, writes and search, so it ranks exactly
    as a file does. Its connections (one per thread, as for a file) share one database through
    SQLite's ``memdb`` VFS; without WAL, a reader waits for a writer's transaction to end.
    """

    #: ``search`` accepts ``scopes=[(level, value), ...]`` and filters in SQL.
    supports_scope_filter = True

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout_ms: int = 10_000,
                 synchronous: str = "NORMAL", embedder: Any = None, min_similarity: float = MIN_SIMILARITY,
                 lexical_floor: float = LEXICAL_FLOOR, candidates: int = HYBRID_CANDIDATES) -> None:
        from purpose_agent.interfaces import MemoryStoreError

        require_fts5()
        self.in_memory = os.fspath(path) == IN_MEMORY
        self.path = Path(path).expanduser()
        # memdb: a name that starts with '/' is one database shared by every connection of the process
        self._target = (f"file:/purpose-agent-memory-{os.getpid()}-{next(_in_memory_databases)}?vfs=memdb"
                        if self.in_memory else os.fspath(self.path))
        if synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise MemoryStoreError(
                f"synchronous = {synchronous!r} is not a SQLite synchronous mode; use NORMAL or FULL"
            )
        self.busy_timeout_ms = int(busy_timeout_ms)
        self.synchronous = synchronous.upper()
        try:
            if not self.in_memory:
                self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise MemoryStoreError(
                f"cannot create the directory {self.path.parent} for the memory database: {exc.strerror}. "
                "Set another path with [memory] path = \"...\" or --db PATH."
            ) from exc
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._guard = threading.Lock()
        # search by meaning: an Embedder, or a function returning one (or None) on first search
        self._embedding = StoreEmbedder(embedder)
        self.min_similarity = float(min_similarity)
        self.lexical_floor = float(lexical_floor)
        self.candidates = int(candidates)
        self._dense: Any = None  # _DenseState of the last search by meaning
        self._dense_lock = threading.Lock()
        self._pid = os.getpid()
        self._closed = False
        self._migrated = False
        self._conn()  # open now: a bad path or a too-new schema is reported at construction

    # ------------------------------------------------------------------ connections

    def _conn(self) -> sqlite3.Connection:
        from purpose_agent.interfaces import MemoryStoreError

        if self._closed:
            raise MemoryStoreError(f"the memory store {self.path} is closed; open a new one")
        if os.getpid() != self._pid:
            # A forked child must not use its parent's connections (SQLite forbids it); it
            # abandons them without closing (closing could disturb the parent's locks).
            with self._guard:
                self._pid, self._local, self._connections = os.getpid(), threading.local(), []
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._open()
            self._local.conn = conn
            with self._guard:
                self._connections.append(conn)
        return conn

    def _open(self) -> sqlite3.Connection:
        from purpose_agent.interfaces import MemoryStoreError

        try:
            conn = sqlite3.connect(self._target, timeout=self.busy_timeout_ms / 1000, isolation_level=None,
                                   check_same_thread=False, uri=self.in_memory)
        except sqlite3.Error as exc:
            raise MemoryStoreError(f"cannot open the memory database {self.path}: {exc}") from exc
        try:
            conn.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal" and not self.in_memory:  # memory has no WAL: it needs none
                raise MemoryStoreError(
                    f"the memory database {self.path} cannot use write-ahead logging (journal mode stays {mode!r}); "
                    "it may be on a network file system. Put it on a local disk ([memory] path or --db)."
                )
            conn.execute(f"PRAGMA synchronous = {self.synchronous}")
            conn.create_function("purpose_agent_content_hash", 1, content_hash, deterministic=True)
            sqlite_search.prepare(conn)
            if not self._migrated:
                migrate(conn, self.path)
                self._migrated = True
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise MemoryStoreError(
                f"{self.path} is not a usable memory database ({exc}). If it is another file, choose another path; "
                "if it is a damaged database, restore it from an export ('purpose-agent memory import')."
            ) from exc
        except BaseException:
            conn.close()
            raise
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, holding the database write lock from its first statement."""
        from purpose_agent.interfaces import MemoryStoreError

        with write_transaction(self._conn(), MemoryStoreError, f"the memory database {self.path}",
                               waited=f" for {self.busy_timeout_ms} ms") as conn:
            yield conn

    def close(self) -> None:
        """Close every connection this store opened (in any thread)."""
        with self._guard:
            self._closed = True
            connections, self._connections = self._connections, []
        for conn in connections:
            try:
                conn.close()
            except sqlite3.Error:
                pass  # closing a connection another thread is using; nothing more to release
        self._local = threading.local()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ rows

    @staticmethod
    def _row(data: dict[str, Any]) -> tuple[Any, ...]:
        """The ``items`` columns of an item dumped with ``model_dump(mode="json")``."""
        return tuple(_dumps(data[c]) if c in _JSON_COLUMNS else data[c] for c in _COLUMNS)

    @staticmethod
    def _item(row: Sequence[Any]) -> Any:
        from purpose_agent.models import MemoryItem

        data = {c: (json.loads(v) if c in _JSON_COLUMNS else v) for c, v in zip(_COLUMNS, row, strict=False)}
        return MemoryItem.model_validate(data)

    def _insert(self, conn: sqlite3.Connection, item: Any,
                history: Iterable[Any] | None = None) -> tuple[int, str, str, str, str]:
        """Insert the item and its history; return its search-index row (index it with the batch)."""
        data = item.model_dump(mode="json")
        placeholders = ", ".join("?" for _ in _COLUMNS)
        row = self._row(data)
        seq = conn.execute(
            f"INSERT INTO items ({', '.join(_COLUMNS)}, content_hash) VALUES ({placeholders}, ?)",
            (*row, item.content_hash),
        ).lastrowid
        if history is None:
            conn.execute(_INSERT_VERSION, (item.id, item.version, _dumps(data), item.updated_at))
        else:
            conn.executemany(_INSERT_VERSION, [(item.id, v.version, _item_json(v), v.updated_at) for v in history])
        return _search_row(int(seq or 0), row)

    # ------------------------------------------------------------------ the protocol

    def add(self, item: Any) -> Any:
        """Insert a new item (its first version); raise ``ValueError`` if its id exists."""
        try:
            with self._write() as conn:
                sqlite_search.index(conn, [self._insert(conn, item)])
        except sqlite3.IntegrityError as exc:
            raise ValueError(f"memory item {item.id} already exists; use update() to change it") from exc
        return item.model_copy(deep=True)

    def add_many(self, items: Iterable[Any]) -> int:
        """Insert many new items in one transaction (all or none); return how many."""
        count = 0
        try:
            with self._write() as conn:
                rows = [self._insert(conn, item) for item in items]
                sqlite_search.index(conn, rows)
                count = len(rows)
        except sqlite3.IntegrityError as exc:
            raise ValueError(f"an item in the batch already exists ({exc}); nothing was added") from exc
        return count

    def get(self, item_id: str) -> Any:
        """The current version of an item, or ``None``."""
        row = self._conn().execute(f"SELECT {_SELECT} FROM items i WHERE i.id = ?", (item_id,)).fetchone()
        return None if row is None else self._item(row)

    def update(self, item: Any) -> Any:
        """Write ``item`` as the next version (current + 1, stamped now); the old one stays in history."""
        with self._write() as conn:
            found = conn.execute("SELECT version, seq, text, tags, status, scope FROM items WHERE id = ?",
                                 (item.id,)).fetchone()
            if found is None:
                raise KeyError(f"memory item {item.id} does not exist; add() it first")
            stored = item.model_copy(update={"version": found[0] + 1, "updated_at": time.time()}, deep=True)
            data = stored.model_dump(mode="json")
            assignments = ", ".join(f"{c} = ?" for c in _COLUMNS[1:])
            row = self._row(data)
            conn.execute(
                f"UPDATE items SET {assignments}, content_hash = ? WHERE id = ?",
                (*row[1:], stored.content_hash, stored.id),
            )
            conn.execute(_INSERT_VERSION, (stored.id, stored.version, _dumps(data), stored.updated_at))
            indexed = _search_row(found[1], row)
            if indexed[1:] != tuple(found[2:]):  # counters, kind or provenance alone leave the search tables as they are
                sqlite_search.unindex(conn, [found[1]])
                sqlite_search.index(conn, [indexed])
        return stored

    def list(self, *, status: Any = None, limit: int | None = None) -> Sequence[Any]:
        """Current items, newest first, optionally only those with ``status``."""
        sql = f"SELECT {_SELECT} FROM items i"
        params: builtins.list[Any] = []
        if status is not None:
            sql += " WHERE i.status = ?"
            params.append(str(status))
        sql += " ORDER BY i.updated_at DESC, i.seq DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        return [self._item(row) for row in self._conn().execute(sql, params)]

    def search(self, query: str, *, limit: int = 10, status: Any = None,
               scopes: Sequence[tuple[str, str]] | None = None) -> Sequence[Any]:
        """Items matching ``query``'s words, ranked by BM25 (text weighs 1, tags 0.5), best first.

        ``score`` is the negated FTS5 ``bm25()``: positive, higher is better. ``scopes`` (extra)
        keeps only global items and those whose ``(level, value)`` is listed. How the ranking is
        computed: :meth:`search_rows`.
        """
        from purpose_agent.models import ScoredItem

        return [ScoredItem(item=self._item(row), score=score)
                for score, row in self.search_rows(query, limit=limit, status=status, scopes=scopes)]

    def search_candidates(self, query: str, *, limit: int = 10, status: Any = None,
                          scopes: Sequence[tuple[str, str]] | None = None) -> builtins.list[Candidate]:
        """Like :meth:`search`, as :class:`Candidate` hits whose item is validated only on demand.

        Retrieval reads relevance, usefulness and scope from the raw columns and builds a
        :class:`~purpose_agent.models.MemoryItem` only for the few items it keeps.
        """
        return [Candidate(score, row, self._item)
                for score, row in self.search_rows(query, limit=limit, status=status, scopes=scopes)]

    def search_rows(self, query: str, *, limit: int = 10, status: Any = None,
                    scopes: Sequence[tuple[str, str]] | None = None) -> builtins.list[tuple[float, tuple[Any, ...]]]:
        """The ranking behind :meth:`search`: ``(score, items row)`` pairs, best first.

        Without an embedder (:attr:`embedder`), the BM25 ranking (:meth:`lexical_rows`). With one,
        hybrid: the BM25 candidates scoring at least ``lexical_floor`` times the best, and the
        candidates by meaning whose cosine is at least ``min_similarity`` (:meth:`dense_rows`),
        ``candidates`` of each at most, fused by reciprocal rank; ``score`` is the fused score
        (``purpose_agent.store_kit.reciprocal_rank_fusion``).
        """
        embedder = self.embedder
        if embedder is None or limit <= 0:
            return self.lexical_rows(query, limit=limit, status=status, scopes=scopes)
        try:
            return self._hybrid_rows(embedder, query, limit=limit, status=status, scopes=scopes)
        except Exception as exc:
            if not self._embedding.give_up(exc):
                raise
            return self.lexical_rows(query, limit=limit, status=status, scopes=scopes)

    def _hybrid_rows(self, embedder: Any, query: str, *, limit: int, status: Any,
                     scopes: Sequence[tuple[str, str]] | None) -> builtins.list[tuple[float, tuple[Any, ...]]]:
        from purpose_agent.interfaces import RRF_K, reciprocal_rank_fusion

        pool = max(limit, self.candidates)
        # the query's embedding (the slowest part) runs beside the BM25 ranking: both release the GIL
        embedding = _background().submit(embedder.embed, [query]) if query.strip() else None
        lexical = self.lexical_rows(query, limit=pool, status=status, scopes=scopes, with_seq=True)
        if lexical:
            floor = lexical[0][0] * self.lexical_floor
            lexical = [entry for entry in lexical if entry[0] >= floor]
        vector = None if embedding is None else embedding.result()[0]
        dense = [(seq, cosine) for seq, cosine in self.dense_rows(query, limit=pool, status=status, scopes=scopes,
                                                                   vector=vector) if cosine >= self.min_similarity]
        rows = {row[0]: row[1:] for _, row in lexical}
        fused = reciprocal_rank_fusion([[row[0] for _, row in lexical], [seq for seq, _ in dense]], RRF_K)[:limit]
        missing = [seq for seq, _, _ in fused if seq not in rows]
        if missing:
            rows.update((row[0], row[1:]) for row in self._conn().execute(
                f"SELECT i.seq, {_SELECT} FROM items i WHERE i.seq IN ({', '.join('?' for _ in missing)})", missing))
        return [(score, rows[seq]) for seq, score, _ in fused if seq in rows]

    def lexical_rows(self, query: str, *, limit: int = 10, status: Any = None,
                     scopes: Sequence[tuple[str, str]] | None = None,
                     with_seq: bool = False) -> builtins.list[tuple[float, tuple[Any, ...]]]:
        """The BM25 ranking: ``(bm25 score, items row)`` pairs, best first (``with_seq``: ``seq`` leads the row).

        Evaluated over the search tables with FTS5's formula and statistics
        (:func:`purpose_agent_sqlite.fts.rank`: exact, every match scored with numpy);
        :meth:`fts5_rows` is the same ranking computed by FTS5 itself.
        """
        keys = None
        if scopes is not None:
            keys = ["global", *(sqlite_search.scope_key(level, value) for level, value in scopes)]
        rows = sqlite_search.rank(self._conn(), query_terms(query), limit=limit,
                                  status=None if status is None else str(status), scopes=keys,
                                  select=f"i.seq, {_SELECT}" if with_seq else _SELECT)
        return [(row[0], row[1:]) for row in rows]

    # ------------------------------------------------------------------ search by meaning

    @property
    def embedder(self) -> Any:
        """The embedder behind search by meaning, or ``None`` (lexical search only)."""
        return self._embedding.get()

    def dense_rows(self, query: str, *, limit: int = 10, status: Any = None,
                   scopes: Sequence[tuple[str, str]] | None = None,
                   vector: Any = None) -> builtins.list[tuple[int, float]]:
        """``(seq, cosine)`` of the items nearest ``query`` in meaning, best first (``[]`` without an embedder).

        ``vector`` is the query's embedding when the caller already has it.

        Items not embedded yet with the current model are embedded first (in batches, each
        batch its own transaction), so the first search after many writes pays for them.
        """
        import numpy as np

        embedder = self.embedder
        if embedder is None or limit <= 0 or not query.strip():
            return []
        state = self._dense_state(embedder)
        if not len(state.vectors):
            return []
        wanted_status = None if status is None else state.status_codes.get(str(status), -1)
        allowed_scopes = None
        if scopes is not None:
            keys = ["global", *(sqlite_search.scope_key(level, value) for level, value in scopes)]
            allowed_scopes = tuple(sorted({state.scope_codes[k] for k in keys if k in state.scope_codes}))
        keep = None
        if wanted_status is not None or allowed_scopes is not None:
            def rows(columns: dict[str, Any]) -> Any:
                chosen = np.ones(len(columns["status"]), dtype=bool)
                if wanted_status is not None:
                    chosen &= columns["status"] == wanted_status
                if allowed_scopes is not None:
                    chosen &= np.isin(columns["scope"], np.asarray(allowed_scopes, dtype=np.int32))
                return chosen
            # the same filter comes back with every retrieval of a run: made once per vector set
            keep = state.vectors.mask((wanted_status, allowed_scopes), rows)
        if vector is None:
            vector = embedder.embed([query])[0]
        return state.vectors.top(vector, limit, keep=keep)

    def embed_pending(self) -> int:
        """Embed the items that have no vector for the current model; return how many texts were embedded."""
        from purpose_agent.interfaces import text_digest

        embedder = self.embedder
        if embedder is None:
            return 0
        model_id = str(embedder.model_id)
        conn = self._conn()
        have = {bytes(row[0]) for row in conn.execute("SELECT digest FROM item_vectors WHERE model_id = ?", (model_id,))}
        pending: dict[bytes, str] = {}
        for (text,) in conn.execute("SELECT text FROM items"):
            digest = text_digest(text)
            if digest not in have:
                pending[digest] = text
        for _stored in self._embed_and_store(embedder, model_id, pending):
            pass
        if conn.execute("SELECT 1 FROM item_vectors WHERE model_id != ? LIMIT 1", (model_id,)).fetchone():
            with self._write() as conn:  # one model's vectors at a time: the old ones are no longer read
                conn.execute("DELETE FROM item_vectors WHERE model_id != ?", (model_id,))
        return len(pending)

    def _embed_and_store(self, embedder: Any, model_id: str,
                         texts: dict[bytes, str]) -> Iterator[tuple[bytes, bytes]]:
        """Embed ``texts`` (digest -> text) and store their vectors, each batch of
        :data:`_EMBED_COMMIT` in its own write transaction; yield ``(digest, vector bytes)`` as
        each batch is stored."""
        digests = builtins.list(texts)
        for start in range(0, len(digests), _EMBED_COMMIT):
            part = digests[start:start + _EMBED_COMMIT]
            blobs = _embed(embedder, [texts[d] for d in part])
            with self._write() as conn:
                conn.executemany("INSERT OR IGNORE INTO item_vectors (model_id, digest, vector) VALUES (?, ?, ?)",
                                 [(model_id, d, v) for d, v in zip(part, blobs, strict=True)])
            yield from zip(part, blobs, strict=True)

    def _dense_state(self, embedder: Any) -> _DenseState:
        """The in-memory vectors of every item, brought up to date with what any connection wrote.

        The first call reads every vector; later ones read the change log (``search_changes``)
        and apply only the items changed since (their vectors embedded now if missing). A model
        change, or a reader so far behind that the log no longer reaches back, reads everything.
        """
        model_id = str(embedder.model_id)
        conn = self._conn()
        latest = conn.execute("SELECT coalesce(max(version), 0) FROM search_changes").fetchone()[0]
        state = self._dense
        if state is not None and (state.version, state.model_id) == (latest, model_id):
            return state
        with self._dense_lock:
            state = self._dense
            if state is not None and (state.version, state.model_id) == (latest, model_id):
                return state
            if state is not None and state.model_id == model_id:
                updated = self._apply_changes(embedder, state)
                if updated is not None:
                    self._dense = updated
                    return updated
            state = self._load_dense(embedder)
            self._dense = state
            return state

    def _load_dense(self, embedder: Any) -> _DenseState:
        """Every item's vector (embedding the items that have none first), as of the log's latest version."""
        from purpose_agent.interfaces import text_digest

        from . import vector_search

        model_id = str(embedder.model_id)
        conn = self._conn()
        for attempt in range(2):
            # the version is read first: a write after it is applied again later, which is harmless
            version = conn.execute("SELECT coalesce(max(version), 0) FROM search_changes").fetchone()[0]
            vectors = dict(conn.execute("SELECT digest, vector FROM item_vectors WHERE model_id = ?", (model_id,)))
            rows = conn.execute("SELECT seq, text, status, scope FROM items ORDER BY seq").fetchall()
            blobs = [vectors.get(text_digest(text)) for _, text, _, _ in rows]
            if all(blob is not None for blob in blobs) or attempt:
                break
            self.embed_pending()
        status_codes: dict[str, int] = {}
        scope_codes: dict[str, int] = {}
        kept = [(row, blob) for row, blob in zip(rows, blobs, strict=True) if blob is not None]
        seqs, matrix, columns = _dense_rows(kept, status_codes, scope_codes, int(embedder.dimension))
        vector_set = vector_search.VectorSet(seqs, matrix, exact_below=vector_search.EXACT_BELOW, columns=columns)
        return _DenseState(version, model_id, vector_set, status_codes, scope_codes)

    def _apply_changes(self, embedder: Any, state: _DenseState) -> _DenseState | None:
        """``state`` with the items changed since its version applied; ``None`` when a full reload is due."""
        from purpose_agent.interfaces import text_digest

        from . import vector_search

        conn = self._conn()
        oldest, version = conn.execute("SELECT min(version), coalesce(max(version), 0) FROM search_changes").fetchone()
        if oldest is None or oldest > state.version + 1:
            return None  # the log was pruned past what this process saw
        changed = [row[0] for row in conn.execute(
            "SELECT DISTINCT seq FROM search_changes WHERE version > ? AND version <= ?", (state.version, version))]
        if len(changed) > max(1_000, vector_search.REREAD_SHARE * len(state.vectors)):
            return None  # most rows changed: one full read is cheaper than many lookups
        rows: builtins.list[tuple[Any, ...]] = []
        for start in range(0, len(changed), _LOOKUP_CHUNK):
            chunk = changed[start:start + _LOOKUP_CHUNK]
            rows += conn.execute(f"SELECT seq, text, status, scope FROM items WHERE seq IN "
                                 f"({', '.join('?' for _ in chunk)})", chunk).fetchall()
        digests = {text_digest(row[1]): row[1] for row in rows}
        model_id = str(embedder.model_id)
        vectors: dict[bytes, bytes] = {}
        wanted = builtins.list(digests)
        for start in range(0, len(wanted), _LOOKUP_CHUNK):
            chunk = wanted[start:start + _LOOKUP_CHUNK]
            vectors.update((bytes(d), v) for d, v in conn.execute(
                f"SELECT digest, vector FROM item_vectors WHERE model_id = ? AND digest IN "
                f"({', '.join('?' for _ in chunk)})", [model_id, *chunk]))
        vectors.update(self._embed_and_store(embedder, model_id, {d: digests[d] for d in wanted if d not in vectors}))
        status_codes, scope_codes = dict(state.status_codes), dict(state.scope_codes)  # the old state stays whole
        kept = [(row, vectors[text_digest(row[1])]) for row in sorted(rows)]
        seqs, matrix, columns = _dense_rows(kept, status_codes, scope_codes, int(embedder.dimension))
        vector_set = state.vectors.updated(changed, seqs, matrix, columns)
        return _DenseState(version, model_id, vector_set, status_codes, scope_codes)

    def fts5_rows(self, query: str, *, limit: int = 10, status: Any = None,
                  scopes: Sequence[tuple[str, str]] | None = None) -> builtins.list[tuple[float, tuple[Any, ...]]]:
        """:meth:`search_rows` computed by FTS5's ``bm25()`` over every match: the reference ranking.

        Slow on large stores (FTS5 scores every matching item and counts every query word's
        items first); tests and ``tests/benchmarks/bench_memory_store.py`` compare against it.
        """
        terms = query_terms(query)
        if not terms or limit <= 0:
            return []
        filters = ""
        params: builtins.list[Any] = []
        if status is not None:
            filters += " AND i.status = ?"
            params.append(str(status))
        if scopes is not None:
            level = "json_extract(i.scope, '$.level')"
            clauses = [f"{level} = 'global'"]
            for scope_level, scope_value in scopes:
                clauses.append(f"({level} = ? AND json_extract(i.scope, '$.value') = ?)")
                params += [scope_level, scope_value]
            filters += " AND (" + " OR ".join(clauses) + ")"
        sql = (f"SELECT -bm25(items_fts, 1.0, 0.5) AS relevance, {_SELECT} FROM items_fts "
               f"JOIN items i ON i.seq = items_fts.rowid WHERE items_fts MATCH ?{filters} "
               "ORDER BY relevance DESC, i.seq LIMIT ?")
        rows = self._conn().execute(sql, [fts_query(terms), *params, int(limit)]).fetchall()
        return [(row[0], row[1:]) for row in rows]

    def history(self, item_id: str) -> Sequence[Any]:
        """Every version of an item, oldest first (empty if the id is unknown)."""
        from purpose_agent.models import MemoryItem

        rows = self._conn().execute(
            "SELECT data FROM item_versions WHERE item_id = ? ORDER BY version", (item_id,)
        ).fetchall()
        return [MemoryItem.model_validate_json(row[0]) for row in rows]

    # ------------------------------------------------------------------ extras

    def record_use(self, item_id: str, helpful: bool | None = None, *, policy: Any = None,
                   now: float | None = None) -> Any:
        """Record one use of an item in a run, with its verdict (``None``: no verdict).

        Counters, usefulness and ``updated_at`` change in place, atomically (concurrent uses from
        several processes all count). No version is written: use is evidence about an item,
        not a change to it, so a rollback of its content keeps it.
        """
        from purpose_agent.interfaces import DEFAULT_POLICY, MemoryItemNotFound, apply_use

        with self._write() as conn:
            row = conn.execute(f"SELECT {_SELECT} FROM items i WHERE i.id = ?", (item_id,)).fetchone()
            if row is None:
                raise MemoryItemNotFound(f"memory item {item_id} does not exist; cannot record its use")
            used = apply_use(self._item(row), helpful, policy=policy or DEFAULT_POLICY, now=now)
            conn.execute(
                "UPDATE items SET counters = ?, usefulness = ?, updated_at = ? WHERE id = ?",
                (_dumps(used.counters.model_dump(mode="json")), used.usefulness, used.updated_at, item_id),
            )
        return used

    def rollback(self, item_id: str, version: int, *, reason: str = "") -> Any:
        """Write a new version equal in content to ``version`` (see :func:`purpose_agent.memory.lifecycle.rollback`)."""
        from purpose_agent.interfaces import rollback_item as rollback

        return rollback(self, item_id, version, reason=reason)

    def find_by_hash(self, digest: str) -> Sequence[Any]:
        """Current items whose ``content_hash`` is ``digest`` (tier-1 duplicate detection)."""
        rows = self._conn().execute(f"SELECT {_SELECT} FROM items i WHERE i.content_hash = ? ORDER BY i.seq",
                                    (digest,))
        return [self._item(row) for row in rows]

    def ids_with_prefix(self, prefix: str, *, limit: int = 2) -> builtins.list[str]:
        """Ids starting with ``prefix`` (for short ids typed by people), at most ``limit``."""
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = self._conn().execute("SELECT id FROM items WHERE id LIKE ? ESCAPE '\\' ORDER BY id LIMIT ?",
                                    (escaped + "%", limit))
        return [row[0] for row in rows]

    def export_jsonl(self, fp: IO[str]) -> int:
        """Write every item and its history as JSONL (:mod:`purpose_agent.memory.transfer`)."""
        from purpose_agent.interfaces import export_jsonl

        return export_jsonl(self, fp)

    def import_jsonl(self, fp: Iterable[str], *, skip_existing: bool = False, quarantine: bool = False) -> Any:
        """Read an export and restore it exactly; all or nothing. Returns an ``ImportReport``."""
        from purpose_agent.interfaces import import_records, read_jsonl

        records = read_jsonl(fp, source=getattr(fp, "name", "input"))
        return import_records(self, records, skip_existing=skip_existing, quarantine=quarantine)

    def restore(self, records: Sequence[Any], *, skip_existing: bool = False) -> builtins.list[str]:
        """Insert exported records exactly as they were (versions, times, counters); one transaction.

        An id that already exists is an error (nothing is written) unless ``skip_existing``, in
        which case that record is left out. Returns the ids written.
        """
        from purpose_agent.interfaces import MemoryImportError

        written: builtins.list[str] = []
        indexed = []
        with self._write() as conn:
            for record in records:
                if conn.execute("SELECT 1 FROM items WHERE id = ?", (record.item.id,)).fetchone():
                    if skip_existing:
                        continue
                    raise MemoryImportError(
                        f"memory item {record.item.id} already exists in {self.path}; nothing was imported. "
                        "Use --skip-existing to import only the new items."
                    )
                indexed.append(self._insert(conn, record.item, record.history))
                written.append(record.item.id)
            sqlite_search.index(conn, indexed)
        return written

    def schema_version(self) -> int:
        """The schema version of the database file."""
        return int(self._conn().execute("SELECT MAX(version) FROM schema_version").fetchone()[0])

    def stats(self) -> dict[str, Any]:
        """Counts by status and kind, versions, schema version and file sizes (bytes)."""
        conn = self._conn()
        by_status = dict(conn.execute("SELECT status, COUNT(*) FROM items GROUP BY status ORDER BY status"))
        by_kind = dict(conn.execute("SELECT kind, COUNT(*) FROM items GROUP BY kind ORDER BY kind"))
        versions = conn.execute("SELECT COUNT(*) FROM item_versions").fetchone()[0]
        wal = Path(f"{self.path}-wal")
        return {
            "path": str(self.path),
            "schema_version": self.schema_version(),
            "items": sum(by_status.values()),
            "versions": versions,
            "by_status": by_status,
            "by_kind": by_kind,
            "file_bytes": self.path.stat().st_size if not self.in_memory and self.path.exists() else 0,
            "wal_bytes": wal.stat().st_size if not self.in_memory and wal.exists() else 0,
        }

    def integrity_check(self) -> str:
        """``PRAGMA integrity_check`` plus the FTS index's own check; ``"ok"`` when healthy."""
        conn = self._conn()
        result = "; ".join(row[0] for row in conn.execute("PRAGMA integrity_check"))
        if result != "ok":
            return result
        try:
            conn.execute("INSERT INTO items_fts (items_fts, rank) VALUES ('integrity-check', 1)")
        except sqlite3.DatabaseError as exc:
            return f"search index: {exc}"
        return sqlite_search.check(conn)

    def rebuild_search_index(self) -> int:
        """Index every item again (FTS5 and the BM25 tables), in one transaction; return the count."""
        with self._write() as conn:
            conn.execute("INSERT INTO items_fts (items_fts) VALUES ('rebuild')")
            return sqlite_search.rebuild(conn)


@contextmanager
def write_transaction(conn: sqlite3.Connection, error: type[Exception], where: str,
                      waited: str = "") -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, all or nothing (the store's and :class:`SearchIndex`'s
    writes): a lock another writer held too long, and a text that is not valid Unicode, are
    ``error`` sentences naming ``where``; any exception rolls the transaction back."""
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        raise error(f"{where} stayed locked by another writer{waited} ({exc}); retry, or raise busy_timeout_ms") from exc
    try:
        yield conn
    except UnicodeEncodeError as exc:
        conn.execute("ROLLBACK")
        # a lone surrogate (e.g. from text decoded with surrogateescape) cannot be stored as UTF-8
        raise error(
            f"nothing was written to {where}: a text holds {exc.object[exc.start:exc.end]!r} at character "
            f"{exc.start}, which is not valid Unicode (a lone surrogate). Remove it, or decode its source with "
            "errors='replace'."
        ) from exc
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class InMemoryStore(SQLiteStore):
    """``SQLiteStore(":memory:")``: nothing persists, and it ranks exactly as the persistent store
    does (same schema, same search: by words, or hybrid with an ``embedder``), so tests on it
    behave as production. The plugin ``memory`` serves it."""

    def __init__(self, *, busy_timeout_ms: int = 10_000, embedder: Any = None,
                 min_similarity: float = MIN_SIMILARITY, lexical_floor: float = LEXICAL_FLOOR,
                 candidates: int = HYBRID_CANDIDATES) -> None:
        super().__init__(IN_MEMORY, busy_timeout_ms=busy_timeout_ms, embedder=embedder, min_similarity=min_similarity,
                         lexical_floor=lexical_floor, candidates=candidates)


# --------------------------------------------------------------------------- helpers


class _DenseState:
    """Every item's vector in memory, for one model, as of one version of the change log.

    The vector set's columns are each row's ``status`` and ``scope`` codes (``status_codes``,
    ``scope_codes``: value -> code), so status and scope filters never look rows up by seq.
    """

    __slots__ = ("model_id", "scope_codes", "status_codes", "vectors", "version")

    def __init__(self, version: int, model_id: str, vectors: Any, status_codes: dict[str, int],
                 scope_codes: dict[str, int]) -> None:
        self.version, self.model_id, self.vectors = version, model_id, vectors
        self.status_codes, self.scope_codes = status_codes, scope_codes


def _dense_rows(kept: Sequence[tuple[Sequence[Any], bytes]], status_codes: dict[str, int],
                scope_codes: dict[str, int], dimension: int) -> tuple[Any, Any, dict[str, Any]]:
    """Seqs, the vector matrix and the status/scope code columns of ``((seq, text, status, scope), vector)``
    pairs; new statuses and scopes get the next codes in the dicts."""
    import numpy as np

    seqs = np.fromiter((row[0] for row, _ in kept), dtype=np.int64, count=len(kept))
    statuses = np.fromiter((status_codes.setdefault(row[2], len(status_codes)) for row, _ in kept),
                           dtype=np.int32, count=len(kept))
    scopes = np.fromiter((scope_codes.setdefault(_scope_key(row[3]), len(scope_codes)) for row, _ in kept),
                         dtype=np.int32, count=len(kept))
    matrix = np.frombuffer(b"".join(blob for _, blob in kept), dtype="<f4").reshape(len(kept), dimension)
    return seqs, matrix, {"status": statuses, "scope": scopes}


_BACKGROUND: tuple[int, Any] | None = None  # (pid, executor): a forked child makes its own
_BACKGROUND_LOCK = threading.Lock()


def _background() -> Any:
    """A small thread pool of this process for query embeddings (made on first use)."""
    global _BACKGROUND
    made = _BACKGROUND
    if made is None or made[0] != os.getpid():
        with _BACKGROUND_LOCK:
            made = _BACKGROUND
            if made is None or made[0] != os.getpid():
                from concurrent.futures import ThreadPoolExecutor

                made = _BACKGROUND = (os.getpid(), ThreadPoolExecutor(max_workers=2,
                                                                       thread_name_prefix="purpose-agent-embed"))
    return made[1]


def _scope_key(scope_json: str) -> str:
    data = json.loads(scope_json)
    return sqlite_search.scope_key(data.get("level", "global"), data.get("value", ""))


def _embed(embedder: Any, texts: Sequence[str], batch: int = 64) -> builtins.list[bytes]:
    """float32 little-endian bytes of each text's vector, embedded ``batch`` texts per call."""
    import numpy as np

    from purpose_agent.interfaces import MemoryStoreError

    out: builtins.list[bytes] = []
    dimension = int(embedder.dimension)
    for start in range(0, len(texts), batch):
        part = texts[start:start + batch]
        vectors = np.asarray(embedder.embed(part), dtype="<f4")
        if vectors.shape != (len(part), dimension):
            raise MemoryStoreError(f"embedder {embedder.model_id!r} returned shape {vectors.shape} for {len(part)} "
                                   f"texts, not ({len(part)}, {dimension}); it breaks the Embedder contract")
        out.extend(row.tobytes() for row in vectors)
    return out


def _search_row(seq: int, row: Sequence[Any]) -> tuple[int, str, str, str, str]:
    """``(seq, text, tags, status, scope)`` of an items row, as :func:`sqlite_search.index` takes it."""
    return (seq, row[_INDEX["text"]], row[_INDEX["tags"]], row[_INDEX["status"]], row[_INDEX["scope"]])


def _dumps(value: Any) -> str:
    from purpose_agent.interfaces import canonical_json

    return canonical_json(value)


def _item_json(item: Any) -> str:
    return _dumps(item.model_dump(mode="json"))


def migrate(conn: sqlite3.Connection, where: Path | str = "the database") -> int:
    """Bring a connection's database to :data:`LATEST_SCHEMA`; return the version it had.

    Runs in one ``BEGIN IMMEDIATE`` transaction, so two processes opening a new file at once
    migrate it once, and a failed step leaves the file as it was.
    """
    from purpose_agent.interfaces import MemoryStoreError

    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)")
        found = int(conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0])
        if found > LATEST_SCHEMA:
            raise MemoryStoreError(
                f"the memory database {where} has schema version {found}, newer than this purpose-agent-sqlite understands "
                f"(up to {LATEST_SCHEMA}); upgrade purpose-agent-sqlite, or point [memory] path elsewhere"
            )
        for version in range(found + 1, LATEST_SCHEMA + 1):
            for step in MIGRATIONS[version - 1]:
                if callable(step):
                    step(conn)
                else:
                    conn.execute(step)
            conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", (version, time.time()))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return found


def open_store(context: Any) -> SQLiteStore:
    """The factory behind ``kernel.memory_store("sqlite", ...)``: options, then config, then defaults."""
    options = dict(context.options)
    config = getattr(context.kernel, "config", None)
    path = options.pop("path", None) or (config.get("memory.path") if config is not None else None) or default_path()
    options = search_options(context, options, store="sqlite memory store", extra=("synchronous",), hint="path, ")
    return SQLiteStore(path, **options)


def open_in_memory_store(context: Any) -> InMemoryStore:
    """The factory behind ``kernel.memory_store("memory", ...)``: a new, empty in-memory store. It
    takes the ``sqlite`` store's search options (``semantic``, default ``[memory] semantic``, else
    "auto": by meaning when an embedder is installed; ``embedder``, ``min_similarity``,
    ``lexical_floor``, ``candidates``) and ``busy_timeout_ms``, so it ranks as production does."""
    options = search_options(context, dict(context.options), store="in-memory store",
                             after=" (for a file, use the 'sqlite' store with path=...)")
    return InMemoryStore(**options)


#: The options of search shared by the ``sqlite`` and ``memory`` stores (besides ``semantic``).
SEARCH_OPTIONS = ("busy_timeout_ms", "embedder", "min_similarity", "lexical_floor", "candidates")


def search_options(context: Any, options: dict[str, Any], *, store: str, extra: Sequence[str] = (),
                   hint: str = "", after: str = "") -> dict[str, Any]:
    """``options`` with ``semantic`` (option, else ``[memory] semantic``, else "auto") resolved to an
    ``embedder``; unknown options are one error sentence. Both stores of this package rank through this,
    so the in-memory one searches by meaning exactly when the persistent one would."""
    from purpose_agent.interfaces import MemoryStoreError

    config = getattr(context.kernel, "config", None)
    semantic = options.pop("semantic", None)
    if semantic is None:
        semantic = config.get("memory.semantic", "auto") if config is not None else "auto"
    if semantic not in SEMANTIC_CHOICES:
        raise MemoryStoreError(
            f"[memory] semantic = {semantic!r} is not one of \"auto\", true, false; \"auto\" searches memory by "
            "meaning when an embedder is installed, false by words only"
        )
    if semantic is True and "embedder" not in options:
        options["embedder"] = context.kernel.embedder()  # required: a missing embedder is reported now
    elif semantic == "auto" and "embedder" not in options:
        options["embedder"] = context.kernel.embedder_if_available  # "auto": missing or unusable means words only
    known = {*SEARCH_OPTIONS, *extra}
    unknown = sorted(set(options) - known)
    if unknown:
        raise MemoryStoreError(
            f"unknown option(s) {', '.join(unknown)} for the {store}; it takes {hint}"
            + ", ".join(sorted(known | {"semantic"})) + after
        )
    return options
