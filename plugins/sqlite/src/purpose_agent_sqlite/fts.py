"""Ranked search for the SQLite memory store: FTS5's BM25, evaluated over sidecar tables.

Why not ``ORDER BY bm25(items_fts)``: FTS5 computes ``bm25()`` for *every* document matching any
query word (~3 µs each, through its auxiliary-function API), and before the first one it walks
the whole document list of every query phrase to count it. At 100,000 lessons a five-word query
matches thousands of items, so a search took 17–60 ms (p50) however few results were asked for.

This module keeps what BM25 needs in ordinary tables, written in the same transaction as the
item (so a crash leaves both or neither):

* ``search_blocks``: a stem's postings of one status, in runs of up to :data:`BLOCK_POSTINGS`
  items ordered by item number (``seq``): four parallel little-endian arrays per row — item numbers,
  the stem's weighted frequency in each item (text counts 1, tags 0.5: the column weights
  ``search`` has always used), each item's length in tokens and its scope id. A query reads a
  stem's whole list in one row per 256 items instead of one row per item;
* ``search_terms``: per stem, the number of items containing it (BM25's document frequency);
* ``search_scopes``: scope keys (:func:`scope_key`) and their small ids;
* ``search_documents`` / ``search_totals``: each item's stems (to take it out again) and the
  corpus size and token count (BM25's N and average length).

A query (:func:`rank`) reads the blocks of its stems and scores every matching item with
numpy: FTS5's formula (k1 = 1.2, b = 0.75, idf floored at 1e-6), summed per item, the top
``limit`` kept. Exhaustive, so exact: the scores are FTS5's ``bm25()`` values (negated) to
rounding, and ``tests/plugins/sqlite/test_sqlite_store.py`` checks them against FTS5 itself.

Tokens come from FTS5's own tokenizer (the same ``tokenize=`` spec as ``items_fts``), through a
contentless temporary FTS5 table read back with ``fts5vocab``: stemming, case and diacritic
folding are exactly FTS5's, with no second implementation to drift from it.
"""

from __future__ import annotations

import json
import math
import sqlite3
import sys
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

#: The tokenizer of ``items_fts`` (schema v2); the sidecar must tokenize identically.
TOKENIZE = "porter unicode61 remove_diacritics 2"

#: BM25 parameters and column weights of FTS5's ``bm25(items_fts, 1.0, 0.5)``.
K1 = 1.2
B = 0.75
TEXT_WEIGHT = 1.0
TAGS_WEIGHT = 0.5

#: Postings per block row at most; a fuller block is split. Larger blocks mean fewer rows per
#: query and bigger rewrites per write (adding an item rewrites the last block of each of its stems).
BLOCK_POSTINGS = 256

#: numpy dtypes of a block's four arrays (seqs, frequencies, lengths, scopes; little-endian on
#: disk); :class:`_Block` reads and writes the same layout with ``array`` type codes q, d, i, I.
_DTYPES = ("<i8", "<f8", "<i4", "<u4")
_SWAP = sys.byteorder != "little"

#: Schema v4 (see ``sqlite_store.MIGRATIONS``, which also keeps ``search_documents`` and
#: ``search_totals`` from v3); :func:`rebuild` fills the tables.
SCHEMA: tuple[str, ...] = (
    """CREATE TABLE search_terms (
        term TEXT PRIMARY KEY,
        documents INTEGER NOT NULL           -- items containing the stem (any status)
    ) WITHOUT ROWID""",
    # a rowid table: rows with blobs of up to ~24 KB are what WITHOUT ROWID is not for
    """CREATE TABLE search_blocks (
        term TEXT NOT NULL,
        status TEXT NOT NULL,
        first_seq INTEGER NOT NULL,          -- the block's lowest seq: it holds seqs up to the next block's
        seqs BLOB NOT NULL,                  -- int64 items.seq, ascending
        frequencies BLOB NOT NULL,           -- float64: occurrences in text + 0.5 x occurrences in tags
        lengths BLOB NOT NULL,               -- int32: tokens in the item, all columns (BM25's D)
        scopes BLOB NOT NULL,                -- uint32: search_scopes.id
        UNIQUE (term, status, first_seq)
    )""",
    """CREATE TABLE search_scopes (
        id INTEGER PRIMARY KEY,
        scope TEXT NOT NULL UNIQUE           -- 'global', or level || char(31) || value
    )""",
)


@dataclass(frozen=True)
class Tables:
    """Where one ranking lives: the table of the ranked rows and the prefix of its search tables.

    The memory store's ranking is :data:`MEMORY` (``items`` and ``search_*``); each
    :class:`purpose_agent_sqlite.search_index.SearchIndex` has its own pair, so several rankings share
    one SQLite file. ``items`` must have the integer primary key ``seq``.
    """

    items: str = "items"
    prefix: str = "search_"
    # the search tables' names: the prefix and what each holds
    blocks: str = field(init=False)
    terms: str = field(init=False)
    scopes: str = field(init=False)
    documents: str = field(init=False)
    totals: str = field(init=False)

    def __post_init__(self) -> None:
        for table in ("blocks", "terms", "scopes", "documents", "totals"):
            object.__setattr__(self, table, self.prefix + table)  # frozen: set once, here

    def schema(self) -> tuple[str, ...]:
        """Every search table, empty (for a new ranking; the memory store's come from its migrations)."""
        renamed = tuple(sql.replace("TABLE search_", f"TABLE IF NOT EXISTS {self.prefix}") for sql in SCHEMA)
        return (*renamed,
                f"""CREATE TABLE IF NOT EXISTS {self.documents} (
                    seq INTEGER PRIMARY KEY, status TEXT NOT NULL, length INTEGER NOT NULL, terms TEXT NOT NULL)""",
                f"""CREATE TABLE IF NOT EXISTS {self.totals} (
                    id INTEGER PRIMARY KEY CHECK (id = 1), documents INTEGER NOT NULL, tokens INTEGER NOT NULL)""",
                f"INSERT OR IGNORE INTO {self.totals} (id, documents, tokens) VALUES (1, 0, 0)")


#: The memory store's ranking (``sqlite_store``).
MEMORY = Tables()

_TOKENIZER = "temp.purpose_agent_tokenizer"
_TOKENS = "temp.purpose_agent_tokens"
_STEMS: dict[str, tuple[str, ...]] = {}
_STEMS_MAX = 50_000


def prepare(conn: sqlite3.Connection) -> None:
    """Create this connection's temporary tokenizer tables (once per connection)."""
    conn.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {_TOKENIZER} USING fts5(text, tags, content='', "
                 f"tokenize='{TOKENIZE}')")
    conn.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {_TOKENS} USING fts5vocab(temp, purpose_agent_tokenizer, "
                 "'instance')")


def tokenize(conn: sqlite3.Connection, rows: Sequence[tuple[int, str, str]]) -> dict[int, tuple[dict[str, float], int]]:
    """``{key: ({stem: weighted frequency}, length)}`` for ``(key, text, tags)`` rows, by FTS5's tokenizer."""
    conn.execute(f"INSERT INTO {_TOKENIZER} (purpose_agent_tokenizer) VALUES ('delete-all')")
    conn.executemany(f"INSERT INTO {_TOKENIZER} (rowid, text, tags) VALUES (?, ?, ?)", rows)
    out: dict[int, tuple[dict[str, float], int]] = {key: ({}, 0) for key, _, _ in rows}
    lengths = dict.fromkeys(out, 0)
    for term, doc, column in conn.execute(f"SELECT term, doc, col FROM {_TOKENS}"):
        frequencies = out[doc][0]
        frequencies[term] = frequencies.get(term, 0.0) + (TEXT_WEIGHT if column == "text" else TAGS_WEIGHT)
        lengths[doc] += 1
    return {key: (frequencies, lengths[key]) for key, (frequencies, _) in out.items()}


def stems(conn: sqlite3.Connection, words: Sequence[str]) -> list[tuple[str, ...]]:
    """The FTS5 tokens of each query word (usually one stem; cached per process)."""
    known = {w: _STEMS.get(w) for w in words}  # a local view: another thread may clear the cache
    missing = [w for w, got in known.items() if got is None]
    if missing:
        found = tokenize(conn, [(n, word, "") for n, word in enumerate(missing, 1)])
        if len(_STEMS) + len(missing) > _STEMS_MAX:
            _STEMS.clear()
        for n, word in enumerate(missing, 1):
            known[word] = _STEMS[word] = tuple(found[n][0])
    return [known[w] or () for w in words]


def scope_key(level: str, value: str) -> str:
    """The key of a scope in ``search_scopes``: ``global`` whatever its value, else both parts."""
    return "global" if level == "global" else f"{level}\x1f{value}"


class _Block:
    """One ``search_blocks`` row as four parallel arrays (item numbers ascending).

    ``rowid`` is the row it was read from (``None``: not stored yet); ``high`` is where the next
    block starts (item numbers from there on belong to it).
    """

    __slots__ = ("frequencies", "high", "lengths", "rowid", "scopes", "seqs")

    def __init__(self, row: Sequence[bytes] | None = None, rowid: int | None = None,
                 high: float = math.inf) -> None:
        seqs, frequencies, lengths, scopes = row or (b"", b"", b"", b"")
        self.seqs = _decode("q", seqs)
        self.frequencies = _decode("d", frequencies)
        self.lengths = _decode("i", lengths)
        self.scopes = _decode("I", scopes)
        self.rowid, self.high = rowid, high

    def arrays(self) -> tuple[array[Any], ...]:
        return self.seqs, self.frequencies, self.lengths, self.scopes

    def blobs(self) -> tuple[bytes, ...]:
        return tuple(_encode(values) for values in self.arrays())

    def insert(self, seq: int, frequency: float, length: int, scope: int) -> None:
        at = len(self.seqs)
        while at and self.seqs[at - 1] > seq:  # nearly always appended: new items have the highest seq
            at -= 1
        self.seqs.insert(at, seq)
        self.frequencies.insert(at, frequency)
        self.lengths.insert(at, length)
        self.scopes.insert(at, scope)

    def remove(self, seq: int) -> None:
        if seq not in self.seqs:  # already gone (a damaged index): integrity_check() reports the count
            return
        at = self.seqs.index(seq)
        for values in self.arrays():
            del values[at]

    def slice(self, start: int, stop: int) -> _Block:
        part = _Block()
        part.seqs, part.frequencies, part.lengths, part.scopes = (v[start:stop] for v in self.arrays())
        return part


def _decode(code: str, data: bytes) -> array[Any]:
    values = array(code)
    values.frombytes(data)
    if _SWAP:
        values.byteswap()
    return values


def _encode(values: array[Any]) -> bytes:
    if _SWAP:
        values = array(values.typecode, values)
        values.byteswap()
    return values.tobytes()


def _write_blocks(conn: sqlite3.Connection, changes: dict[tuple[str, str], list[tuple[Any, ...]]],
                  remove: bool = False, tables: Tables = MEMORY) -> None:
    """Insert postings ``(seq, frequency, length, scope id)`` (or remove ``(seq,)``), by (term, status)."""
    for (term, status), postings in changes.items():
        postings.sort()
        block: _Block | None = None
        for posting in postings:
            seq = posting[0]
            if block is None or seq >= block.high:  # postings ascend: only the upper end can be passed
                if block is not None:
                    _save_block(conn, term, status, block, tables)
                block = _load_block(conn, term, status, seq, tables)
            if remove:
                block.remove(seq)
            else:
                block.insert(*posting)
        if block is not None:
            _save_block(conn, term, status, block, tables)


def _load_block(conn: sqlite3.Connection, term: str, status: str, seq: int, tables: Tables) -> _Block:
    """The block ``seq`` belongs in: the last one starting at or below it, else the first one."""
    # the row, and where the next block starts (seqs from there on belong to it)
    columns = (f"rowid, seqs, frequencies, lengths, scopes, (SELECT min(n.first_seq) FROM {tables.blocks} n "
               "WHERE n.term = b.term AND n.status = b.status AND n.first_seq > b.first_seq)")
    row = conn.execute(f"SELECT {columns} FROM {tables.blocks} b WHERE term = ? AND status = ? AND first_seq <= ? "
                       "ORDER BY first_seq DESC LIMIT 1", (term, status, seq)).fetchone()
    if row is None:
        row = conn.execute(f"SELECT {columns} FROM {tables.blocks} b WHERE term = ? AND status = ? "
                           "ORDER BY first_seq LIMIT 1", (term, status)).fetchone()
    if row is None:
        return _Block()
    return _Block(row[1:5], rowid=row[0], high=math.inf if row[5] is None else row[5])


def _save_block(conn: sqlite3.Connection, term: str, status: str, block: _Block, tables: Tables) -> None:
    """Write a changed block back: deleted when empty, split into full runs when over capacity."""
    if block.rowid is not None and not block.seqs:
        conn.execute(f"DELETE FROM {tables.blocks} WHERE rowid = ?", (block.rowid,))
        return
    runs = [block.slice(at, at + BLOCK_POSTINGS) for at in range(0, len(block.seqs), BLOCK_POSTINGS)]
    if block.rowid is not None:
        first = runs.pop(0)
        conn.execute(f"UPDATE {tables.blocks} SET first_seq = ?, seqs = ?, frequencies = ?, lengths = ?, scopes = ? "
                     "WHERE rowid = ?", (first.seqs[0], *first.blobs(), block.rowid))
    conn.executemany(f"INSERT INTO {tables.blocks} (term, status, first_seq, seqs, frequencies, lengths, scopes) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)", [(term, status, run.seqs[0], *run.blobs()) for run in runs])


def _scope_ids(conn: sqlite3.Connection, keys: Iterable[str], tables: Tables) -> dict[str, int]:
    wanted = sorted(set(keys))
    conn.executemany(f"INSERT OR IGNORE INTO {tables.scopes} (scope) VALUES (?)", [(k,) for k in wanted])
    return dict(conn.execute(f"SELECT scope, id FROM {tables.scopes} WHERE scope IN ({', '.join('?' for _ in wanted)})",
                             wanted))


def index(conn: sqlite3.Connection, docs: Sequence[tuple[int, str, str, str, str]], tables: Tables = MEMORY) -> None:
    """Add items to the search tables: ``(seq, text, tags JSON, status, scope JSON)`` each."""
    if not docs:
        return
    tokens = tokenize(conn, [(seq, text, tags) for seq, text, tags, _, _ in docs])
    keys = {}
    for seq, _, _, _, scope in docs:
        data = json.loads(scope)
        keys[seq] = scope_key(data.get("level", "global"), data.get("value", ""))
    ids = _scope_ids(conn, keys.values(), tables)
    changes: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
    documents: list[tuple[int, str, int, str]] = []
    counts: dict[str, int] = {}
    total = 0
    for seq, _, _, status, _ in docs:
        frequencies, length = tokens[seq]
        total += length
        documents.append((seq, status, length, " ".join(frequencies)))
        for term, frequency in frequencies.items():
            changes.setdefault((term, status), []).append((seq, frequency, length, ids[keys[seq]]))
            counts[term] = counts.get(term, 0) + 1
    _write_blocks(conn, changes, tables=tables)
    conn.executemany(f"INSERT INTO {tables.terms} (term, documents) VALUES (?, ?) "
                     "ON CONFLICT (term) DO UPDATE SET documents = documents + excluded.documents", counts.items())
    conn.executemany(f"INSERT INTO {tables.documents} (seq, status, length, terms) VALUES (?, ?, ?, ?)", documents)
    conn.execute(f"UPDATE {tables.totals} SET documents = documents + ?, tokens = tokens + ? WHERE id = 1",
                 (len(docs), total))


def unindex(conn: sqlite3.Connection, seqs: Iterable[int], tables: Tables = MEMORY) -> None:
    """Take items out of the search tables (before their text, tags, status or scope change)."""
    changes: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
    counts: dict[str, int] = {}
    count = tokens = 0
    for seq in seqs:
        row = conn.execute(f"SELECT status, length, terms FROM {tables.documents} WHERE seq = ?", (seq,)).fetchone()
        if row is None:
            continue
        status, length, terms = row
        for term in terms.split():
            changes.setdefault((term, status), []).append((seq,))
            counts[term] = counts.get(term, 0) + 1
        conn.execute(f"DELETE FROM {tables.documents} WHERE seq = ?", (seq,))
        count, tokens = count + 1, tokens + length
    _write_blocks(conn, changes, remove=True, tables=tables)
    conn.executemany(f"UPDATE {tables.terms} SET documents = documents - ? WHERE term = ?",
                     [(n, term) for term, n in counts.items()])
    conn.execute(f"UPDATE {tables.totals} SET documents = documents - ?, tokens = tokens - ? WHERE id = 1",
                 (count, tokens))


def rebuild(conn: sqlite3.Connection, batch: int = 5_000, tables: Tables = MEMORY,
            columns: str = "seq, text, tags, status, scope") -> int:
    """Empty the search tables and index every item again (migrations and repairs); return the count.

    ``columns`` selects :func:`index`'s ``(seq, text, tags, status, scope)`` from ``tables.items``.
    """
    prepare(conn)
    for table in (tables.blocks, tables.terms, tables.documents, tables.scopes):
        conn.execute(f"DELETE FROM {table}")
    conn.execute(f"UPDATE {tables.totals} SET documents = 0, tokens = 0 WHERE id = 1")
    count, last = 0, -1
    while True:
        rows = conn.execute(f"SELECT {columns} FROM {tables.items} WHERE seq > ? ORDER BY seq LIMIT ?",
                            (last, batch)).fetchall()
        if not rows:
            return count
        index(conn, rows, tables)
        count += len(rows)
        last = rows[-1][0]


def check(conn: sqlite3.Connection, tables: Tables = MEMORY) -> str:
    """``"ok"``, or what is inconsistent between the items and the search tables."""
    items = conn.execute(f"SELECT count(*) FROM {tables.items}").fetchone()[0]
    documents = conn.execute(f"SELECT count(*) FROM {tables.documents}").fetchone()[0]
    total = conn.execute(f"SELECT documents FROM {tables.totals} WHERE id = 1").fetchone()
    postings, ragged = conn.execute(
        "SELECT coalesce(sum(length(seqs)), 0) / 8, coalesce(sum(length(frequencies) != length(seqs) "
        "OR 2 * length(lengths) != length(seqs) OR 2 * length(scopes) != length(seqs) OR length(seqs) = 0), 0) "
        f"FROM {tables.blocks}").fetchone()
    listed = conn.execute(f"SELECT coalesce(sum(documents), 0) FROM {tables.terms}").fetchone()[0]
    if not items == documents == (total[0] if total else -1) or postings != listed or ragged:
        return (f"search index out of step: {items} items, {documents} indexed, totals say "
                f"{total[0] if total else 'nothing'}, {postings} postings for {listed} counted, "
                f"{ragged} damaged blocks; rebuild it with SQLiteStore.rebuild_search_index()")
    return "ok"


def rank(conn: sqlite3.Connection, words: Sequence[str], *, limit: int, status: str | None,
         scopes: Sequence[str] | None, select: str, tables: Tables = MEMORY) -> list[tuple[Any, ...]]:
    """``(relevance, *items columns)`` rows, best first: the top ``limit`` by BM25 as FTS5 computes it.

    ``scopes`` are :func:`scope_key` values to keep (``None``: all). ``select`` is the items
    column list (alias ``i``). Ties are ordered by ``seq`` (insertion order), as FTS5 orders them.

    Every posting of the query's stems is scored (numpy, ~0.02 µs each after reading the blocks);
    no bound or threshold is involved, so the answer is FTS5's exhaustive ranking. One exception,
    FTS5's own: a stem in half of the items or more weighs 1e-6 (a floored idf); such stems are
    left out unless the other stems match fewer than ``limit`` items, which moves no score by
    more than ~2e-6 per such stem and saves reading the longest lists.
    """
    totals = conn.execute(f"SELECT documents, tokens FROM {tables.totals} WHERE id = 1").fetchone()
    if not words or limit <= 0 or not totals or not totals[0]:
        return []
    documents, tokens = totals
    count: dict[str, int] = {}
    for word_stems in stems(conn, words):
        for stem in word_stems:  # each query word is one FTS5 phrase: a stem twice counts twice
            count[stem] = count.get(stem, 0) + 1
    if not count:
        return []
    found = conn.execute(f"SELECT term, documents FROM {tables.terms} WHERE term IN "
                         f"({', '.join('?' for _ in count)}) AND documents > 0", list(count)).fetchall()
    weights = {}
    for stem, n in sorted(found):
        idf = math.log((documents - n + 0.5) / (n + 0.5))
        weights[stem] = ((idf if idf > 0 else 1e-6) * (K1 + 1) * count[stem], 2 * n < documents)
    allowed = None
    if scopes is not None:
        allowed = [row[0] for row in conn.execute(
            f"SELECT id FROM {tables.scopes} WHERE scope IN ({', '.join('?' for _ in scopes)})", list(scopes))]
    constant, per_token = K1 * (1 - B), (K1 * B * documents / tokens if tokens else 0.0)
    informative = {s: w for s, (w, useful) in weights.items() if useful}
    hits: list[tuple[float, int]] = []
    if informative:
        hits = _top(conn, informative, status, allowed, constant, per_token, limit, tables)
    if len(hits) < limit and len(informative) < len(weights):
        hits = _top(conn, {s: w for s, (w, _) in weights.items()}, status, allowed, constant, per_token, limit, tables)
    if not hits:
        return []
    found_rows = {row[0]: row[1:] for row in conn.execute(
        f"SELECT i.seq, {select} FROM {tables.items} i WHERE i.seq IN ({', '.join('?' for _ in hits)})",
        [seq for _, seq in hits])}
    return [(score, *found_rows[seq]) for score, seq in hits if seq in found_rows]


def _top(conn: sqlite3.Connection, weights: dict[str, float], status: str | None, allowed: list[int] | None,
         constant: float, per_token: float, limit: int, tables: Tables) -> list[tuple[float, int]]:
    """The exact ``(score, seq)`` top ``limit`` over every posting of the ``weights`` stems, best first."""
    import numpy as np

    if allowed is not None and not allowed:
        return []
    where = "term = ?" + ("" if status is None else " AND status = ?")
    seqs, scores, scopes = [], [], []
    for stem, weight in weights.items():
        rows = conn.execute(f"SELECT seqs, frequencies, lengths, scopes FROM {tables.blocks} WHERE {where}",
                            (stem,) if status is None else (stem, status)).fetchall()
        if not rows:
            continue
        seq, frequency, length, scope = (np.frombuffer(b"".join(r[n] for r in rows), dtype=dtype)
                                         for n, dtype in enumerate(_DTYPES))
        # FTS5: idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * D / avgdl)); weight holds idf * (k1 + 1)
        scores.append(weight * frequency / (frequency + constant + per_token * length))
        seqs.append(seq)
        scopes.append(scope)
    if not seqs:
        return []
    seq, score = np.concatenate(seqs), np.concatenate(scores)
    if allowed is not None:
        keep = np.isin(np.concatenate(scopes), allowed, kind="table")  # ids are small integers
        seq, score = seq[keep], score[keep]
        if not len(seq):
            return []
    # Group by item: each stem's list is already in seq order, so a stable sort only merges the
    # runs; then one sum per run of equal seqs.
    order = np.argsort(seq, kind="stable")
    seq, score = seq[order], score[order]
    starts = np.flatnonzero(np.concatenate(([True], seq[1:] != seq[:-1])))
    items, totals = seq[starts], np.add.reduceat(score, starts)
    if len(items) > limit:
        # everything tied with the limit-th best goes to the exact ordering below
        cut = np.partition(totals, len(totals) - limit)[len(totals) - limit]
        chosen = np.flatnonzero(totals >= cut)
        items, totals = items[chosen], totals[chosen]
    order = np.lexsort((items, -totals))[:limit]
    return [(float(totals[n]), int(items[n])) for n in order]
