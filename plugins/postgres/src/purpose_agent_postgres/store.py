"""The memory store on PostgreSQL: the SQLite store's model, shared by many processes and machines.

Same items (kinds, statuses, scope, provenance, counters, usefulness, tags), the same versions
(every write of content is a new version; ``item_versions`` is append-only, enforced by a
trigger), the same extras the learner and the CLI use (``record_use``, ``rollback``,
``search_candidates`` with ``scopes``, ``restore``, ``add_many``, ``find_by_hash``,
``ids_with_prefix``, ``stats``, ``integrity_check``, ``schema_version``).

What is locked, and why (docs/scaling.md says the same for operators):

* ``update``, ``record_use`` and ``rollback`` lock the item's row (``SELECT ... FOR UPDATE``) for
  their transaction: the next version number, the counters and usefulness are computed from the
  row as it is, never from a copy read earlier, so concurrent writers neither reuse a version
  number nor lose an increment.
* ``update`` merges three ways: the version its caller read (``item.version``, from the history),
  the caller's item, and the row now. A field the caller did not change keeps its current value;
  a field only the caller changed takes the caller's; when both changed, a status decision
  (status with its reason) already made by another worker stands (memory CI decides once) and
  any other field takes the caller's. Counters and usefulness take the caller's *change* (against
  the state it read, found in ``counter_marks`` by its ``updated_at``) on top of the current
  values, so a use recorded by another worker meanwhile is kept. A merge that changes nothing
  writes nothing.
* ``add`` takes an advisory lock on the text's content hash: two workers adding the same lesson
  serialize, and the second gets the first one's live item back instead of a duplicate
  (option ``dedup``, default on).
* Migrations run under an advisory lock, in one transaction.

Lexical retrieval: a stored ``tsvector`` (text weighted A, tags B; English stemming); items
containing any of the query's words, ranked by BM25 computed in each process from the rows' ``tsv``
(lexical.py: only the rows kept are read from the server).

Search by meaning, when an embedder is given (``semantic``: ``"auto"`` uses the kernel's embedder
when one is installed): vectors in the items' rows, searched in this process (dense.py), fused with
the lexical ranking by reciprocal rank as the SQLite store does. ``retrieval()`` (and so ``stats()``,
``purpose-agent postgres status`` and ``purpose-agent doctor``) says which retrieval is active.
"""

from __future__ import annotations

import builtins
import json
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from purpose_agent.interfaces import (
    DEFAULT_POLICY,
    HYBRID_CANDIDATES,
    LEXICAL_FLOOR,
    MIN_SIMILARITY,
    SEMANTIC_CHOICES,
    StoredHit,
    StoreEmbedder,
    canonical_json,
    query_terms,
    reciprocal_rank_fusion,
)

from .connection import ConnectionSettings, PooledConnections, PostgresError, PostgresItemNotFound
from .schema import LATEST_SCHEMA, TEXT_SEARCH_CONFIG, TSV_SQL, advisory_key, migrate

_COLUMNS = ("id", "kind", "status", "text", "scope", "version", "provenance", "uses", "helpful", "harmful",
            "usefulness", "tags", "status_reason", "updated_at")
_SELECT = ", ".join(f"i.{c}" for c in _COLUMNS)
_INDEX = {c: i for i, c in enumerate(_COLUMNS)}
_JSON_FIELDS = frozenset({"scope", "provenance", "tags"})
#: The fields of an item that make up its content (a version); counters, usefulness and
#: updated_at are evidence of use and change without a new version.
CONTENT_FIELDS = ("kind", "text", "scope", "provenance", "tags")
#: Status and its reason are one decision: merged together.
DECISION_FIELDS = ("status", "status_reason")
_LIVE = ("candidate", "quarantined", "promoted")
#: In an UPDATE of ``items`` that sets ``text`` from ``%(text)s``: keep the row's vector when the
#: text is unchanged (the right-hand sides read the row as it was), else clear it for re-embedding;
#: mark the row changed, so every process's search statistics and vectors re-read it.
_VECTOR_KEPT_UNLESS_TEXT_CHANGED = (
    "vector = CASE WHEN text = %(text)s THEN vector END, "
    "vector_model = CASE WHEN text = %(text)s THEN vector_model END, "
    "changed_xid = pg_current_xact_id()")
#: How long update() can find the counters its caller read (older reads merge by the larger value).
MARK_RETENTION_S = 7 * 86_400.0
#: The smallest step between two updated_at stamps of one item, so each stamp names one state.
_STAMP_STEP = 1e-6



class Candidate(StoredHit):
    """A search hit: its ``score`` and raw row; ``item`` validates the row on first use (the
    kernel's ``store_kit.StoredHit`` over this store's columns, ``uses`` one of them)."""

    __slots__ = ()
    columns = _INDEX


class PostgresStore(PooledConnections):
    """A versioned memory store in a PostgreSQL schema; safe across threads, processes and machines.

    Connections come from a pool (``pool_min`` .. ``pool_max``); a forked child builds its own
    pool on first use (a connection must not be shared across processes).
    """

    #: ``search`` accepts ``scopes=[(level, value), ...]`` and filters in SQL.
    supports_scope_filter = True

    def __init__(self, settings: ConnectionSettings, *, embedder: Any = None, min_similarity: float = MIN_SIMILARITY,
                 lexical_floor: float = LEXICAL_FLOOR, candidates: int = HYBRID_CANDIDATES,
                 pgvector: Any = "auto") -> None:
        """``embedder``: ``None`` (words only), an embedder, or a function returning one or ``None``
        on first search (``semantic = "auto"``: an embedder that cannot be used means words only).
        ``pgvector``: search the vectors with the pgvector extension when the database has it or the
        role can create it (``"auto"``), require it (``True``), or never (``False``)."""
        if pgvector not in ("auto", True, False):
            raise PostgresError(f"pgvector = {pgvector!r} for the postgres memory store is not one of \"auto\", "
                                "true, false; \"auto\" uses the extension when the server has it")
        self.pgvector_mode = pgvector
        self._pgvector_use: bool | None = None  # decided when search by meaning is first needed
        self._pgvector_note = ""
        from .connection import connect

        self.settings = settings
        # search by meaning: an Embedder, or a function returning one (or None) on first search
        self._embedding = StoreEmbedder(embedder)
        self._dense: Any = None  # the DenseIndex of the embedder in use
        self._lexical: Any = None  # the LexicalIndex, on first search
        self._dense_guard = threading.Lock()
        self.min_similarity = float(min_similarity)
        self.lexical_floor = float(lexical_floor)
        self.candidates = int(candidates)
        self.schema = settings.schema
        self.where = settings.where()
        self._init_pool()
        self._closed = False
        # One direct connection first: a wrong address or password is reported as a sentence now,
        # not as a pool timeout later, and the schema is migrated before any pooled use.
        conn = connect(settings)
        try:
            migrate(conn, self.schema, self.where)
            self.pgvector = conn.execute(
                "SELECT default_version FROM pg_available_extensions WHERE name = 'vector'").fetchone() is not None
            self.server_version = conn.execute("SHOW server_version").fetchone()[0]
        finally:
            conn.close()

    # ------------------------------------------------------------------ connections

    def _get_pool(self) -> Any:
        if self._closed:
            raise PostgresError(f"the postgres memory store ({self.where}, schema {self.schema}) is closed; open a new one")
        return super()._get_pool()

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        """A pooled connection in one transaction (committed on success, rolled back on error)."""
        import psycopg
        from psycopg_pool import PoolTimeout

        from .connection import connection_failure

        pool = self._get_pool()
        try:
            with pool.connection() as conn, conn.transaction():
                yield conn
        except PoolTimeout as exc:
            raise PostgresError(
                f"no connection to PostgreSQL at {self.where} within {self.settings.connect_timeout:g} s "
                f"(pool of {self.settings.pool_max}, all busy or the server unreachable: {exc}); raise pool_max "
                "or connect_timeout under [plugins.postgres], or check the server"
            ) from None
        except psycopg.OperationalError as exc:
            raise PostgresError(connection_failure(self.settings, exc)) from None
        except psycopg.DataError as exc:
            # The usual one: a NUL character, which PostgreSQL text cannot hold (SQLite's can).
            raise PostgresError(f"nothing was written: PostgreSQL refused a value ({str(exc).splitlines()[0]}); "
                                "remove NUL characters and invalid Unicode from the text") from None

    def _table(self, name: str) -> str:
        return f"{self.schema}.{name}"

    def close(self) -> None:
        """Close the pool (every connection this process opened)."""
        self._closed = True
        self._release_pool()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ rows

    @staticmethod
    def _item(row: Sequence[Any]) -> Any:
        from purpose_agent.models import MemoryItem

        data = {c: (json.loads(v) if c in _JSON_FIELDS else v) for c, v in zip(_COLUMNS, row, strict=False)}
        data["counters"] = {"uses": data.pop("uses"), "helpful": data.pop("helpful"), "harmful": data.pop("harmful")}
        return MemoryItem.model_validate(data)

    @staticmethod
    def _values(data: dict[str, Any], content_hash: str) -> dict[str, Any]:
        """The ``items`` columns (as named parameters) of an item dumped with ``model_dump(mode="json")``."""
        counters = data["counters"]
        return {
            "id": data["id"], "kind": data["kind"], "status": data["status"], "text": data["text"],
            "scope": canonical_json(data["scope"]), "scope_level": data["scope"]["level"],
            "scope_value": data["scope"]["value"], "version": data["version"],
            "provenance": canonical_json(data["provenance"]), "uses": counters["uses"],
            "helpful": counters["helpful"], "harmful": counters["harmful"], "usefulness": data["usefulness"],
            "tags": canonical_json(data["tags"]), "status_reason": data["status_reason"],
            "updated_at": data["updated_at"], "content_hash": content_hash,
        }

    def _insert_sql(self) -> str:
        names = [*(c for c in _COLUMNS if c != "scope"), "scope", "scope_level", "scope_value", "content_hash"]
        placeholders = ", ".join(f"%({n})s" for n in names)
        tsv = TSV_SQL.format(text="%(text)s::text", tags="%(tags)s::text")
        return f"INSERT INTO {self._table('items')} ({', '.join(names)}, tsv) VALUES ({placeholders}, {tsv})"

    def _write_version(self, conn: Any, item_id: str, version: int, data: dict[str, Any], at: float) -> None:
        conn.execute(f"INSERT INTO {self._table('item_versions')} (item_id, version, data, written_at) "
                     "VALUES (%s, %s, %s, %s)", (item_id, version, canonical_json(data), at))

    def _mark(self, conn: Any, item_id: str, stamp: float, uses: int, helpful: int, harmful: int,
              usefulness: float) -> None:
        conn.execute(
            f"INSERT INTO {self._table('counter_marks')} (item_id, stamp, uses, helpful, harmful, usefulness) "
            "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (item_id, stamp) DO UPDATE SET uses = excluded.uses, "
            "helpful = excluded.helpful, harmful = excluded.harmful, usefulness = excluded.usefulness",
            (item_id, stamp, uses, helpful, harmful, usefulness))

    def _insert(self, conn: Any, item: Any, history: Iterable[Any] | None = None) -> None:
        data = item.model_dump(mode="json")
        conn.execute(self._insert_sql(), self._values(data, item.content_hash))
        if history is None:
            self._write_version(conn, item.id, item.version, data, item.updated_at)
        else:
            for old in history:
                self._write_version(conn, item.id, old.version, old.model_dump(mode="json"), old.updated_at)
        counters = item.counters
        self._mark(conn, item.id, item.updated_at, counters.uses, counters.helpful, counters.harmful, item.usefulness)

    # ------------------------------------------------------------------ the protocol

    def add(self, item: Any) -> Any:
        """Insert a new item (its first version); raise ``ValueError`` if its id exists.

        With ``dedup`` (the default), an item whose text equals (by content hash) that of a live
        item (candidate, quarantined or promoted) is not stored again: the live item is returned.
        An advisory lock on the hash makes that hold for workers adding at the same moment.
        """
        import psycopg

        with self._transaction() as conn:
            if self.settings.dedup:
                conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                             (advisory_key(self.schema, "hash/" + item.content_hash),))
            if conn.execute(f"SELECT 1 FROM {self._table('items')} WHERE id = %s", (item.id,)).fetchone():
                raise ValueError(f"memory item {item.id} already exists; use update() to change it")
            if self.settings.dedup:
                row = conn.execute(
                    f"SELECT {_SELECT} FROM {self._table('items')} i WHERE i.content_hash = %s AND i.status = ANY(%s) "
                    "ORDER BY i.seq LIMIT 1", (item.content_hash, list(_LIVE))).fetchone()
                if row is not None:
                    return self._item(row)
            try:
                self._insert(conn, item)
            except psycopg.errors.UniqueViolation:
                raise ValueError(f"memory item {item.id} already exists; use update() to change it") from None
        return item.model_copy(deep=True)

    def add_many(self, items: Iterable[Any]) -> int:
        """Insert many new items in one transaction (all or none; no dedup); return how many."""
        import psycopg

        batch = [(item, item.model_dump(mode="json")) for item in items]
        if not batch:
            return 0
        try:
            with self._transaction() as conn, conn.cursor() as cursor:
                cursor.executemany(self._insert_sql(), [self._values(d, i.content_hash) for i, d in batch])
                cursor.executemany(
                    f"INSERT INTO {self._table('item_versions')} (item_id, version, data, written_at) "
                    "VALUES (%s, %s, %s, %s)",
                    [(i.id, i.version, canonical_json(d), i.updated_at) for i, d in batch])
                cursor.executemany(
                    f"INSERT INTO {self._table('counter_marks')} (item_id, stamp, uses, helpful, harmful, usefulness) "
                    "VALUES (%s, %s, %s, %s, %s, %s)",
                    [(i.id, i.updated_at, i.counters.uses, i.counters.helpful, i.counters.harmful, i.usefulness)
                     for i, _ in batch])
        except psycopg.errors.UniqueViolation as exc:
            raise ValueError(f"an item in the batch already exists ({exc.diag.message_detail}); nothing was added") \
                from None
        return len(batch)

    def get(self, item_id: str) -> Any:
        """The current version of an item, or ``None``."""
        with self._transaction() as conn:
            row = conn.execute(f"SELECT {_SELECT} FROM {self._table('items')} i WHERE i.id = %s", (item_id,)).fetchone()
        return None if row is None else self._item(row)

    def update(self, item: Any) -> Any:
        """Write ``item`` as the next version, merged with what other workers wrote since it was read.

        See the module docstring for the merge. Raises ``KeyError`` if the id does not exist.
        Returns the item as stored (unchanged, and no new version, when the merge changes nothing).
        """
        given = item.model_dump(mode="json")
        with self._transaction() as conn:
            row = conn.execute(f"SELECT {_SELECT} FROM {self._table('items')} i WHERE i.id = %s FOR UPDATE",
                               (item.id,)).fetchone()
            if row is None:
                raise KeyError(f"memory item {item.id} does not exist; add() it first")
            current = self._item(row)
            now_data = current.model_dump(mode="json")
            base = None
            if item.version <= current.version:
                found = conn.execute(f"SELECT data FROM {self._table('item_versions')} WHERE item_id = %s AND version = %s",
                                     (item.id, item.version)).fetchone()
                base = json.loads(found[0]) if found else None
            merged = dict(now_data)
            for fields in [*((f,) for f in CONTENT_FIELDS), DECISION_FIELDS]:
                mine = tuple(given[f] for f in fields)
                theirs = tuple(now_data[f] for f in fields)
                if base is None:
                    chosen = mine
                else:
                    before = tuple(base[f] for f in fields)
                    if mine == before:
                        chosen = theirs
                    elif theirs == before or fields != DECISION_FIELDS:
                        chosen = mine
                    else:
                        chosen = theirs  # another worker decided first: its decision stands
                merged.update(zip(fields, chosen, strict=True))
            counters, usefulness = self._merged_counters(conn, item, current)
            merged["counters"], merged["usefulness"] = counters, usefulness
            content_changed = any(merged[f] != now_data[f] for f in (*CONTENT_FIELDS, *DECISION_FIELDS))
            if not content_changed and counters == now_data["counters"] and usefulness == now_data["usefulness"]:
                return current
            stamp = max(time.time(), current.updated_at + _STAMP_STEP)
            merged["version"] = current.version + 1
            merged["updated_at"] = stamp
            from purpose_agent.models import MemoryItem

            stored = MemoryItem.model_validate(merged)
            values = self._values(stored.model_dump(mode="json"), stored.content_hash)
            assignments = ", ".join(f"{c} = %({c})s" for c in values if c != "id")
            tsv = TSV_SQL.format(text="%(text)s::text", tags="%(tags)s::text")
            conn.execute(f"UPDATE {self._table('items')} SET {assignments}, tsv = {tsv}, "
                         f"{_VECTOR_KEPT_UNLESS_TEXT_CHANGED} WHERE id = %(id)s", values)
            self._write_version(conn, stored.id, stored.version, stored.model_dump(mode="json"), stamp)
            self._mark(conn, stored.id, stamp, counters["uses"], counters["helpful"], counters["harmful"], usefulness)
            self._forget_old_marks(conn, stored.id, stamp)
        return stored

    def _forget_old_marks(self, conn: Any, item_id: str, stamp: float) -> None:
        """Drop the item's marks older than :data:`MARK_RETENTION_S` (one row per write otherwise piles up)."""
        conn.execute(f"DELETE FROM {self._table('counter_marks')} WHERE item_id = %s AND stamp < %s",
                     (item_id, stamp - MARK_RETENTION_S))

    def _merged_counters(self, conn: Any, item: Any, current: Any) -> tuple[dict[str, int], float]:
        """The caller's change to counters and usefulness, applied on top of the current values."""
        now = current.counters
        mine = item.counters
        mark = conn.execute(
            f"SELECT uses, helpful, harmful, usefulness FROM {self._table('counter_marks')} "
            "WHERE item_id = %s AND stamp = %s", (item.id, item.updated_at)).fetchone()
        if mark is not None:
            seen_uses, seen_helpful, seen_harmful, seen_usefulness = mark
            counters = {"uses": now.uses + mine.uses - seen_uses,
                        "helpful": now.helpful + mine.helpful - seen_helpful,
                        "harmful": now.harmful + mine.harmful - seen_harmful}
            usefulness = current.usefulness + (item.usefulness - seen_usefulness)
        else:
            # The caller's read is too old to be found (or the item was built by hand): counters
            # never go backwards through update(); its usefulness counts only with new uses.
            counters = {"uses": max(now.uses, mine.uses), "helpful": max(now.helpful, mine.helpful),
                        "harmful": max(now.harmful, mine.harmful)}
            grew = mine.uses > now.uses or mine.helpful > now.helpful or mine.harmful > now.harmful
            usefulness = item.usefulness if grew else current.usefulness
        if min(counters.values()) < 0:
            raise ValueError(f"update() of memory item {item.id} would make a counter negative ({counters}); "
                             "counters only grow")
        return counters, float(usefulness)

    def list(self, *, status: Any = None, limit: int | None = None) -> Sequence[Any]:
        """Current items, newest first, optionally only those with ``status``."""
        sql = f"SELECT {_SELECT} FROM {self._table('items')} i"
        params: builtins.list[Any] = []
        if status is not None:
            sql += " WHERE i.status = %s"
            params.append(str(status))
        sql += " ORDER BY i.updated_at DESC, i.seq DESC"
        if limit is not None:
            sql += " LIMIT %s"
            params.append(int(limit))
        with self._transaction() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [self._item(row) for row in rows]

    def search(self, query: str, *, limit: int = 10, status: Any = None,
               scopes: Sequence[tuple[str, str]] | None = None) -> Sequence[Any]:
        """Items matching any of ``query``'s words, ranked by BM25 (hybrid with an embedder), best first.

        ``scopes`` keeps only global items and those whose ``(level, value)`` is listed.
        """
        from purpose_agent.models import ScoredItem

        return [ScoredItem(item=self._item(row), score=score)
                for score, row in self.search_rows(query, limit=limit, status=status, scopes=scopes)]

    def search_candidates(self, query: str, *, limit: int = 10, status: Any = None,
                          scopes: Sequence[tuple[str, str]] | None = None) -> builtins.list[Candidate]:
        """Like :meth:`search`, as :class:`Candidate` hits whose item is validated only on demand."""
        return [Candidate(score, row, self._item)
                for score, row in self.search_rows(query, limit=limit, status=status, scopes=scopes)]

    def search_rows(self, query: str, *, limit: int = 10, status: Any = None,
                    scopes: Sequence[tuple[str, str]] | None = None) -> builtins.list[tuple[float, tuple[Any, ...]]]:
        """The ranking behind :meth:`search`: ``(score, items row)`` pairs, best first.

        Without an embedder (:attr:`embedder`), the lexical ranking (:meth:`lexical_rows`). With
        one, hybrid: the lexical candidates scoring at least ``lexical_floor`` times the best, and
        the candidates by meaning whose cosine is at least ``min_similarity`` (:meth:`dense_rows`),
        ``candidates`` of each at most, fused by reciprocal rank; ``score`` is the fused score.
        """
        embedder = self.embedder
        if embedder is None or limit <= 0:
            return [(score, row[1:]) for score, row in self.lexical_rows(query, limit=limit, status=status,
                                                                          scopes=scopes)]
        try:
            return self._hybrid_rows(query, limit=limit, status=status, scopes=scopes)
        except Exception as exc:
            if not self._embedding.give_up(exc):
                raise
            return [(score, row[1:]) for score, row in self.lexical_rows(query, limit=limit, status=status,
                                                                          scopes=scopes)]

    def _hybrid_rows(self, query: str, *, limit: int, status: Any,
                     scopes: Sequence[tuple[str, str]] | None) -> builtins.list[tuple[float, tuple[Any, ...]]]:
        pool = max(limit, self.candidates)
        lexical = self.lexical_rows(query, limit=pool, status=status, scopes=scopes)
        if lexical:
            floor = lexical[0][0] * self.lexical_floor
            lexical = [entry for entry in lexical if entry[0] >= floor]
        rows = {row[0]: row[1:] for _, row in lexical}
        dense = self.dense_rows(query, limit=pool, status=status, scopes=scopes, rows=rows)
        fused = reciprocal_rank_fusion([[row[0] for _, row in lexical], [seq for seq, _ in dense]])[:limit]
        return [(score, rows[seq]) for seq, score, _ranks in fused if seq in rows]

    def _filters(self, status: Any, scopes: Sequence[tuple[str, str]] | None) -> tuple[str, builtins.list[Any]]:
        """``AND ...`` conditions on ``i`` for a status and a scope list, and their parameters."""
        filters = ""
        params: builtins.list[Any] = []
        if status is not None:
            filters += " AND i.status = %s"
            params.append(str(status))
        if scopes is not None:
            pairs = [f"{level}\x1f{value}" for level, value in scopes]
            filters += " AND (i.scope_level = 'global' OR i.scope_level || chr(31) || i.scope_value = ANY(%s))"
            params.append(pairs)
        return filters, params

    def lexical_rows(self, query: str, *, limit: int = 10, status: Any = None,
                     scopes: Sequence[tuple[str, str]] | None = None) -> builtins.list[tuple[float, tuple[Any, ...]]]:
        """The ranking by words: ``(bm25, (seq, *items row))`` pairs, best first, ties by insertion.

        Items containing any of the query's words (stemmed, stopwords dropped), scored by BM25 over
        the stored ``tsv`` in this process (lexical.py); only the rows kept are read.
        """
        words = " ".join(query_terms(query))
        if not words or limit <= 0:
            return []
        from .lexical import scope_key

        index = self.lexical_index()
        keys = None if scopes is None else ["global", *(scope_key(level, value) for level, value in scopes)]
        filters, params = self._filters(status, scopes)
        with self._transaction() as conn:  # one connection: refresh, then read the rows kept
            stems = index.refresh(conn, words, TEXT_SEARCH_CONFIG)
            ranked = index.rank(stems, limit=limit, status=None if status is None else str(status), scopes=keys)
            if not ranked:
                return []
            read = conn.execute(f"SELECT i.seq, {_SELECT} FROM {self._table('items')} i "
                                f"WHERE i.seq = ANY(%s){filters}", [[seq for _, seq in ranked], *params]).fetchall()
        rows = {int(row[0]): tuple(row) for row in read}
        # a row changed by another worker since the refresh may no longer pass the filters: dropped
        return [(score, rows[seq]) for score, seq in ranked if seq in rows]

    def lexical_index(self) -> Any:
        """This process's BM25 statistics of the items (lexical.py), built on first use."""
        with self._dense_guard:
            if self._lexical is None:
                from .lexical import LexicalIndex

                self._lexical = LexicalIndex(self._table("items"))
            return self._lexical

    # ------------------------------------------------------------------ search by meaning

    @property
    def embedder(self) -> Any:
        """The embedder behind search by meaning, or ``None`` (search by words only)."""
        return self._embedding.get()

    def dense_index(self) -> Any:
        """The in-memory vectors of this store's embedder (``None`` without one), brought up to
        date: rows not embedded yet are embedded first (the first search after many writes pays)."""
        embedder = self.embedder
        if embedder is None:
            return None
        with self._dense_guard:
            if self._dense is None or self._dense.embedder is not embedder:
                from .dense import DenseIndex

                use = self._pgvector_ready(embedder)
                self._dense = DenseIndex(embedder, self._transaction, self._table("items"),
                                         advisory_key(self.schema, "embed"), pgvector=use)
            dense = self._dense
        dense.embed_pending()
        if dense.pgvector:
            dense.copy_to_embedding_column()
        else:
            dense.refresh()
        return dense

    def _pgvector_ready(self, embedder: Any) -> bool:
        """Whether the server searches the vectors (pgvector), setting up its column and index if so.

        Decided once per store: the extension in this database, else created when the server offers
        it and the role may (``CREATE EXTENSION`` needs a superuser or the database owner with
        pgvector marked trusted); otherwise the vectors are searched in this process, and
        :meth:`retrieval` says why.
        """
        import hashlib

        import psycopg

        from .dense import sql_literal

        if self._pgvector_use is not None:
            return self._pgvector_use
        use, note = False, ""
        if self.pgvector_mode is not False:
            with self._transaction() as conn:
                installed = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
            if installed is None and self.pgvector:
                try:
                    with self._transaction() as conn:
                        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
                except (psycopg.Error, PostgresError) as exc:
                    note = f"available, but this role cannot create it ({str(exc).splitlines()[0]})"
                else:
                    installed = ("",)
            elif installed is None:
                note = "not installed on this server"
            if installed is not None:
                dimension, model = int(embedder.dimension), str(embedder.model_id)
                name = f"items_hnsw_{hashlib.sha256(model.encode()).hexdigest()[:12]}_{dimension}"
                with self._transaction() as conn:
                    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                                 (advisory_key(self.schema, "pgvector"),))
                    conn.execute(f"ALTER TABLE {self._table('items')} ADD COLUMN IF NOT EXISTS embedding vector")
                    conn.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {self._table('items')} USING hnsw "
                                 f"((embedding::vector({dimension})) vector_cosine_ops) "
                                 f"WHERE vector_model = {sql_literal(model, with_parameters=False)}")
                    version = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()[0]
                use, note = True, f"in use (version {version}): an HNSW index (cosine) on the items' vectors"
            if self.pgvector_mode is True and not use:
                raise PostgresError(f"pgvector = true under [plugins.postgres], but the extension is {note}; "
                                    "install it (CREATE EXTENSION vector, as a superuser) or set pgvector = \"auto\"")
        else:
            note = "not used: pgvector = false under [plugins.postgres]"
        self._pgvector_use, self._pgvector_note = use, note
        return use

    def dense_rows(self, query: str, *, limit: int = 10, status: Any = None,
                   scopes: Sequence[tuple[str, str]] | None = None, vector: Any = None,
                   rows: dict[int, tuple[Any, ...]] | None = None) -> builtins.list[tuple[int, float]]:
        """``(seq, cosine)`` of the items nearest ``query`` in meaning that pass the filters, best
        first, cosine at least ``min_similarity`` (``[]`` without an embedder).

        ``vector`` is the query's embedding when the caller has it; ``rows`` (seq to items row)
        receives the rows read, so a caller needs no second read.
        """
        dense = self.dense_index() if query.strip() and limit > 0 else None
        if dense is None:
            return []
        if vector is None:
            vector = dense.embedder.embed([query])[0]
        if dense.pgvector:
            return self._pgvector_rows(dense, vector, limit=limit, status=status, scopes=scopes, rows=rows)
        seqs, cosines = dense.nearest(vector, min_similarity=self.min_similarity)
        cosine_of = dict(zip(seqs.tolist(), cosines.tolist(), strict=True))
        filters, params = self._filters(status, scopes)
        found: builtins.list[int] = []
        rows = {} if rows is None else rows
        start, step = 0, max(4 * limit, 64)
        # the filters run in SQL on the nearest rows; widen until enough pass or none are left
        while len(found) < limit and start < len(seqs):
            part = seqs[start:start + step].tolist()
            with self._transaction() as conn:
                read = conn.execute(f"SELECT i.seq, {_SELECT} FROM {self._table('items')} i "
                                    f"WHERE i.seq = ANY(%s){filters}", [part, *params]).fetchall()
            by_seq = {int(row[0]): tuple(row[1:]) for row in read}
            for seq in part:
                if seq in by_seq and len(found) < limit:
                    found.append(seq)
                    rows.setdefault(seq, by_seq[seq])
            start, step = start + step, step * 4
        return [(seq, cosine_of[seq]) for seq in found]

    def _pgvector_rows(self, dense: Any, vector: Any, *, limit: int, status: Any,
                       scopes: Sequence[tuple[str, str]] | None,
                       rows: dict[int, tuple[Any, ...]] | None) -> builtins.list[tuple[int, float]]:
        """:meth:`dense_rows` by the server: the HNSW index, the filters in the same query."""
        import numpy as np

        from .dense import sql_literal, vector_literal

        dimension = dense.dimension
        query = vector_literal(np.asarray(vector, dtype="<f4").tobytes())
        filters, params = self._filters(status, scopes)
        distance = f"i.embedding::vector({dimension}) <=> %s::vector({dimension})"
        with self._transaction() as conn:
            conn.execute(f"SET LOCAL hnsw.ef_search = {max(40, min(1000, 2 * int(limit)))}")
            if conn.execute("SELECT 1 FROM pg_settings WHERE name = 'hnsw.iterative_scan'").fetchone():
                conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")  # filters: scan on until enough
            read = conn.execute(
                f"SELECT 1 - ({distance}) AS cosine, i.seq, {_SELECT} FROM {self._table('items')} i "
                f"WHERE i.vector_model = {sql_literal(dense.model_id, with_parameters=True)}{filters} "
                f"ORDER BY {distance} LIMIT %s", [query, *params, query, int(limit)]).fetchall()
        found = sorted(((float(row[0]), int(row[1]), tuple(row[2:])) for row in read
                        if float(row[0]) >= self.min_similarity), key=lambda hit: (-hit[0], hit[1]))
        if rows is not None:
            for _, seq, row in found:
                rows.setdefault(seq, row)
        return [(seq, cosine) for cosine, seq, _ in found]

    def history(self, item_id: str) -> Sequence[Any]:
        """Every version of an item, oldest first (empty if the id is unknown)."""
        from purpose_agent.models import MemoryItem

        with self._transaction() as conn:
            rows = conn.execute(f"SELECT data FROM {self._table('item_versions')} WHERE item_id = %s ORDER BY version",
                                (item_id,)).fetchall()
        return [MemoryItem.model_validate_json(row[0]) for row in rows]

    # ------------------------------------------------------------------ extras

    def record_use(self, item_id: str, helpful: bool | None = None, *, policy: Any = None,
                   now: float | None = None) -> Any:
        """Record one use of an item with its verdict (``None``: no verdict), atomically.

        Under the row's lock: ``uses`` (and ``helpful`` or ``harmful``) are incremented in SQL and
        usefulness is moved from the value in the row, so concurrent uses from any number of
        workers all count. No version is written: use is evidence about an item, not a change to it.
        """
        policy = policy or DEFAULT_POLICY
        now = time.time() if now is None else now
        with self._transaction() as conn:
            row = conn.execute(f"SELECT usefulness, updated_at FROM {self._table('items')} WHERE id = %s FOR UPDATE",
                               (item_id,)).fetchone()
            if row is None:
                raise PostgresItemNotFound(f"memory item {item_id} does not exist; cannot record its use")
            usefulness = policy.updated(float(row[0]), now - float(row[1]), helpful)
            stamp = max(now, float(row[1]) + _STAMP_STEP)
            updated = conn.execute(
                f"UPDATE {self._table('items')} i SET uses = uses + 1, helpful = helpful + %s, harmful = harmful + %s, "
                f"usefulness = %s, updated_at = %s WHERE id = %s RETURNING {_SELECT}",
                (1 if helpful is True else 0, 1 if helpful is False else 0, usefulness, stamp, item_id)).fetchone()
            self._mark(conn, item_id, stamp, updated[_INDEX["uses"]], updated[_INDEX["helpful"]],
                       updated[_INDEX["harmful"]], usefulness)
            self._forget_old_marks(conn, item_id, stamp)
        return self._item(updated)

    def rollback(self, item_id: str, version: int, *, reason: str = "") -> Any:
        """Write a new version whose content (kind, status, text, scope, provenance, tags) equals
        ``version``'s, under the row's lock; counters and usefulness keep their current values."""
        from purpose_agent.models import MemoryItem

        with self._transaction() as conn:
            row = conn.execute(f"SELECT {_SELECT} FROM {self._table('items')} i WHERE i.id = %s FOR UPDATE",
                               (item_id,)).fetchone()
            if row is None:
                raise PostgresItemNotFound(f"no memory item with id {item_id!r}; 'purpose-agent memory list' shows the ids")
            current = self._item(row)
            found = conn.execute(f"SELECT data FROM {self._table('item_versions')} WHERE item_id = %s AND version = %s",
                                 (item_id, version)).fetchone()
            if found is None:
                versions = [r[0] for r in conn.execute(
                    f"SELECT version FROM {self._table('item_versions')} WHERE item_id = %s ORDER BY version", (item_id,))]
                raise PostgresItemNotFound(
                    f"memory item {item_id} has no version {version}; it has versions "
                    f"{', '.join(str(v) for v in versions)} ('purpose-agent memory history {item_id}')")
            if version == current.version:
                raise ValueError(f"version {version} is already the current version of {item_id}; nothing to roll back")
            old = MemoryItem.model_validate_json(found[0])
            note = f"rolled back to version {version}" + (f": {reason.strip()}" if reason.strip() else "")
            stamp = max(time.time(), current.updated_at + _STAMP_STEP)
            restored = current.model_copy(update={**{f: getattr(old, f) for f in (*CONTENT_FIELDS, "status")},
                                                  "status_reason": note, "version": current.version + 1,
                                                  "updated_at": stamp})
            values = self._values(restored.model_dump(mode="json"), restored.content_hash)
            assignments = ", ".join(f"{c} = %({c})s" for c in values if c != "id")
            tsv = TSV_SQL.format(text="%(text)s::text", tags="%(tags)s::text")
            conn.execute(f"UPDATE {self._table('items')} SET {assignments}, tsv = {tsv}, "
                         f"{_VECTOR_KEPT_UNLESS_TEXT_CHANGED} WHERE id = %(id)s", values)
            self._write_version(conn, item_id, restored.version, restored.model_dump(mode="json"), stamp)
            c = restored.counters
            self._mark(conn, item_id, stamp, c.uses, c.helpful, c.harmful, restored.usefulness)
        return restored

    def find_by_hash(self, digest: str) -> Sequence[Any]:
        """Current items whose ``content_hash`` is ``digest`` (tier-1 duplicate detection)."""
        with self._transaction() as conn:
            rows = conn.execute(f"SELECT {_SELECT} FROM {self._table('items')} i WHERE i.content_hash = %s "
                                "ORDER BY i.seq", (digest,)).fetchall()
        return [self._item(row) for row in rows]

    def ids_with_prefix(self, prefix: str, *, limit: int = 2) -> builtins.list[str]:
        """Ids starting with ``prefix`` (for short ids typed by people), at most ``limit``."""
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        with self._transaction() as conn:
            rows = conn.execute(f"SELECT id FROM {self._table('items')} WHERE id LIKE %s ORDER BY id LIMIT %s",
                                (escaped + "%", limit)).fetchall()
        return [row[0] for row in rows]

    def restore(self, records: Sequence[Any], *, skip_existing: bool = False) -> builtins.list[str]:
        """Insert exported records exactly as they were (versions, times, counters); one transaction.

        An id that already exists is an error (nothing is written) unless ``skip_existing``.
        """
        written: builtins.list[str] = []
        with self._transaction() as conn:
            for record in records:
                if conn.execute(f"SELECT 1 FROM {self._table('items')} WHERE id = %s", (record.item.id,)).fetchone():
                    if skip_existing:
                        continue
                    raise ValueError(
                        f"memory item {record.item.id} already exists in schema {self.schema} at {self.where}; "
                        "nothing was imported. Use --skip-existing to import only the new items."
                    )
                self._insert(conn, record.item, record.history)
                written.append(record.item.id)
        return written

    def schema_version(self) -> int:
        """The schema version of the tables."""
        with self._transaction() as conn:
            return int(conn.execute(f"SELECT MAX(version) FROM {self._table('schema_version')}").fetchone()[0])

    def retrieval(self) -> dict[str, str]:
        """Which retrieval is active, and whether pgvector could be (``stats``, ``postgres status``, ``doctor``).

        Resolves the embedder (``semantic = "auto"`` loads it) to say whether search is by meaning.
        """
        embedder = self.embedder
        pgvector = ("available on this server; used once search by meaning is" if self.pgvector
                    else "not installed on this server")
        if embedder is None:
            dense = ("not used: no embedder (install one, e.g. purpose-agent-minilm, and keep semantic = \"auto\" "
                     "under [plugins.postgres])" if self._embedding.source is not None
                     else "not used: words only (semantic = false under [plugins.postgres], or no embedder given)")
        else:
            use = self._pgvector_ready(embedder)
            with self._transaction() as conn:
                embedded, total = conn.execute(
                    f"SELECT COUNT(*) FILTER (WHERE vector_model = %s), COUNT(*) FROM {self._table('items')}",
                    (str(embedder.model_id),)).fetchone()
            where = ("searched by the server through pgvector" if use
                     else "exact cosine in each process")
            dense = (f"vectors in the items' rows ({embedder.model_id}, {embedded} of {total} items embedded; "
                     f"the rest on the next search), {where}, fused with the words by reciprocal rank")
            pgvector = self._pgvector_note if use else (
                f"{self._pgvector_note}; the vectors are searched in each process instead")
        return {
            "lexical": (f"BM25 over the stored tsvector ('{TEXT_SEARCH_CONFIG}' stemming; text weight 1, tags 0.5), "
                        "statistics held in each process and refreshed from the rows changed since"),
            "dense": dense,
            "pgvector": pgvector,
        }

    def stats(self) -> dict[str, Any]:
        """Counts by status and kind, versions, schema version, sizes, the server, and the retrieval in use."""
        with self._transaction() as conn:
            by_status = dict(conn.execute(
                f"SELECT status, COUNT(*) FROM {self._table('items')} GROUP BY status ORDER BY status").fetchall())
            by_kind = dict(conn.execute(
                f"SELECT kind, COUNT(*) FROM {self._table('items')} GROUP BY kind ORDER BY kind").fetchall())
            versions = conn.execute(f"SELECT COUNT(*) FROM {self._table('item_versions')}").fetchone()[0]
            size = conn.execute(
                "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'",
                (self.schema,)).fetchone()[0]
        return {
            "server": f"PostgreSQL {self.server_version} at {self.where}",
            "schema": self.schema,
            "schema_version": self.schema_version(),
            "items": sum(by_status.values()),
            "versions": versions,
            "by_status": by_status,
            "by_kind": by_kind,
            "database_bytes": int(size),
            "retrieval": self.retrieval(),
        }

    def integrity_check(self) -> str:
        """``"ok"``, or the problems found, joined with ``; ``.

        Every item has versions 1..version with no gap, its row equals its newest version in
        content, its ``tsv`` is what its text and tags give, and no version belongs to no item.
        """
        items, versions = self._table("items"), self._table("item_versions")
        problems: builtins.list[str] = []
        with self._transaction() as conn:
            gaps = conn.execute(
                f"SELECT i.id FROM {items} i LEFT JOIN (SELECT item_id, COUNT(*) AS n, MIN(version) AS lo, "
                f"MAX(version) AS hi FROM {versions} GROUP BY item_id) v ON v.item_id = i.id "
                "WHERE v.item_id IS NULL OR v.n <> i.version OR v.lo <> 1 OR v.hi <> i.version LIMIT 5").fetchall()
            if gaps:
                problems.append(f"history is not versions 1..current for {', '.join(r[0] for r in gaps)}")
            orphans = conn.execute(f"SELECT DISTINCT item_id FROM {versions} v WHERE NOT EXISTS "
                                   f"(SELECT 1 FROM {items} i WHERE i.id = v.item_id) LIMIT 5").fetchall()
            if orphans:
                problems.append(f"versions without an item: {', '.join(r[0] for r in orphans)}")
            tsv = TSV_SQL.format(text="i.text", tags="i.tags")
            stale = conn.execute(f"SELECT i.id FROM {items} i WHERE i.tsv <> {tsv} LIMIT 5").fetchall()
            if stale:
                problems.append(f"search vector out of date for {', '.join(r[0] for r in stale)}")
            rows = conn.execute(f"SELECT {_SELECT}, v.data FROM {items} i JOIN {versions} v "
                                "ON v.item_id = i.id AND v.version = i.version").fetchall()
        for row in rows:
            current = self._item(row[:-1]).model_dump(mode="json")
            newest = json.loads(row[-1])
            differs = [f for f in (*CONTENT_FIELDS, *DECISION_FIELDS) if current[f] != newest.get(f)]
            if differs:
                problems.append(f"item {current['id']} differs from its newest version in {', '.join(differs)}")
                if len(problems) > 10:
                    break
        return "; ".join(problems) or "ok"


def open_store(context: Any) -> PostgresStore:
    """The factory behind ``kernel.memory_store("postgres", ...)``: options over ``[plugins.postgres]``."""
    from .connection import PostgresError, resolve

    options = dict(getattr(context, "options", None) or {})
    settings = getattr(context, "settings", None)
    semantic = options.pop("semantic", getattr(settings, "semantic", "auto"))
    if semantic not in SEMANTIC_CHOICES:
        raise PostgresError(
            f"semantic = {semantic!r} for the postgres memory store is not one of \"auto\", true, false; \"auto\" "
            "searches memory by meaning when an embedder is installed, false by words only")
    search_options = {key: options.pop(key) for key in STORE_OPTIONS if key in options}
    search_options.setdefault("pgvector", getattr(settings, "pgvector", "auto"))
    if semantic is True and "embedder" not in search_options:
        search_options["embedder"] = context.kernel.embedder()  # required: a missing embedder is reported now
    elif semantic == "auto" and "embedder" not in search_options:
        search_options["embedder"] = context.kernel.embedder_if_available  # "auto": missing or unusable means words only
    elif semantic is False:
        search_options["embedder"] = None
    return PostgresStore(resolve(context, "memory store", extra=("semantic", *STORE_OPTIONS)), **search_options)


#: Options of the memory store beside the connection's (see :class:`PostgresStore`).
STORE_OPTIONS = ("embedder", "min_similarity", "lexical_floor", "candidates", "pgvector")




__all__ = ["LATEST_SCHEMA", "Candidate", "PostgresStore", "open_store", "query_terms"]
