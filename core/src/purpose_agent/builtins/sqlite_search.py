"""Ranked search for the SQLite memory store: FTS5's BM25, evaluated over sidecar tables.

Why not ``ORDER BY bm25(items_fts)``: FTS5 computes ``bm25()`` for *every* document matching any
query word, and before the first one it walks the whole document list of every query phrase to
count it. At 100,000 lessons a five-word query matches thousands of items (~3 µs each), so a
search took 17–60 ms (p50) however few results were asked for.

This module keeps what BM25 needs in four ordinary tables, written in the same transaction as
the item (so a crash leaves both or neither):

* ``search_postings``: one row per (stem, status, item) with the stem's weighted frequency in the
  item (text counts 1, tags 0.5 — the column weights ``search`` has always used), the item's
  length in tokens and its scope key. The primary key puts one stem's items of one status next
  to each other, so a status filter is a key range, not a row-by-row test;
* ``search_terms``: per stem, the number of items containing it (BM25's document frequency), and
  the highest frequency and shortest item indexed with it (bounds on its share of a score);
* ``search_documents`` / ``search_totals``: each item's stems (to take it out again) and the
  corpus size and token count (BM25's N and average length).

A query is evaluated in SQL: for each query stem, SQLite walks that stem's key range and sums
FTS5's formula (k1 = 1.2, b = 0.75, idf floored at 1e-6) per item in its C loop; :func:`rank`
says how a threshold and per-stem bounds keep it from sorting every match. The scores are FTS5's
``bm25()`` values (negated) to rounding; ``tests/core/memory/test_sqlite_store.py`` checks them
against FTS5 itself.

Tokens come from FTS5's own tokenizer (the same ``tokenize=`` spec as ``items_fts``), through a
contentless temporary FTS5 table read back with ``fts5vocab``: stemming, case and diacritic
folding are exactly FTS5's, with no second implementation to drift from it.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

#: The tokenizer of ``items_fts`` (schema v2); the sidecar must tokenize identically.
TOKENIZE = "porter unicode61 remove_diacritics 2"

#: BM25 parameters and column weights of FTS5's ``bm25(items_fts, 1.0, 0.5)``.
K1 = 1.2
B = 0.75
TEXT_WEIGHT = 1.0
TAGS_WEIGHT = 0.5

#: Schema v3 (see ``sqlite_store.MIGRATIONS``); :func:`rebuild` fills the tables.
SCHEMA: tuple[str, ...] = (
    """CREATE TABLE search_terms (
        term TEXT PRIMARY KEY,
        documents INTEGER NOT NULL,          -- items containing the stem (any status)
        max_frequency REAL NOT NULL,         -- the highest frequency and the shortest item ever
        min_length INTEGER NOT NULL          -- indexed with it: bounds on its BM25 contribution
    ) WITHOUT ROWID""",
    """CREATE TABLE search_postings (
        term TEXT NOT NULL,
        status TEXT NOT NULL,
        seq INTEGER NOT NULL,                -- items.seq
        frequency REAL NOT NULL,             -- occurrences in text + 0.5 x occurrences in tags
        length INTEGER NOT NULL,             -- tokens in the item, all columns (BM25's D)
        scope TEXT NOT NULL,                 -- 'global', or level || char(31) || value
        PRIMARY KEY (term, status, seq)
    ) WITHOUT ROWID""",
    """CREATE TABLE search_documents (
        seq INTEGER PRIMARY KEY,             -- items.seq
        status TEXT NOT NULL,
        length INTEGER NOT NULL,
        terms TEXT NOT NULL                  -- its distinct stems, space-separated
    )""",
    """CREATE TABLE search_totals (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        documents INTEGER NOT NULL,
        tokens INTEGER NOT NULL
    )""",
    "INSERT INTO search_totals (id, documents, tokens) VALUES (1, 0, 0)",
)

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
    """The value of ``search_postings.scope`` for a scope: ``global`` whatever its value, else both parts."""
    return "global" if level == "global" else f"{level}\x1f{value}"


def index(conn: sqlite3.Connection, docs: Sequence[tuple[int, str, str, str, str]]) -> None:
    """Add items to the search tables: ``(seq, text, tags JSON, status, scope JSON)`` each."""
    if not docs:
        return
    tokens = tokenize(conn, [(seq, text, tags) for seq, text, tags, _, _ in docs])
    postings, documents = [], []
    terms: dict[str, list[float]] = {}  # term -> [documents, max frequency, min length]
    total = 0
    for seq, _, _, status, scope in docs:
        frequencies, length = tokens[seq]
        data = json.loads(scope)
        key = scope_key(data.get("level", "global"), data.get("value", ""))
        total += length
        postings += [(term, status, seq, frequency, length, key) for term, frequency in frequencies.items()]
        documents.append((seq, status, length, " ".join(frequencies)))
        for term, frequency in frequencies.items():
            known = terms.get(term)
            if known is None:
                terms[term] = [1, frequency, length]
            else:
                known[0] += 1
                known[1] = max(known[1], frequency)
                known[2] = min(known[2], length)
    conn.executemany("INSERT INTO search_postings (term, status, seq, frequency, length, scope) VALUES (?, ?, ?, ?, ?, ?)",
                     postings)
    # the bounds only ever widen here (unindex leaves them): still bounds, just less tight
    conn.executemany("INSERT INTO search_terms (term, documents, max_frequency, min_length) VALUES (?, ?, ?, ?) "
                     "ON CONFLICT (term) DO UPDATE SET documents = documents + excluded.documents, "
                     "max_frequency = max(max_frequency, excluded.max_frequency), "
                     "min_length = min(min_length, excluded.min_length)",
                     [(term, *values) for term, values in terms.items()])
    conn.executemany("INSERT INTO search_documents (seq, status, length, terms) VALUES (?, ?, ?, ?)", documents)
    conn.execute("UPDATE search_totals SET documents = documents + ?, tokens = tokens + ? WHERE id = 1",
                 (len(docs), total))


def unindex(conn: sqlite3.Connection, seqs: Iterable[int]) -> None:
    """Take items out of the search tables (before their text, tags, status or scope change)."""
    for seq in seqs:
        row = conn.execute("SELECT status, length, terms FROM search_documents WHERE seq = ?", (seq,)).fetchone()
        if row is None:
            continue
        status, length, terms = row
        words = terms.split()
        conn.executemany("DELETE FROM search_postings WHERE term = ? AND status = ? AND seq = ?",
                         [(term, status, seq) for term in words])
        conn.executemany("UPDATE search_terms SET documents = documents - 1 WHERE term = ?", [(t,) for t in words])
        conn.execute("DELETE FROM search_documents WHERE seq = ?", (seq,))
        conn.execute("UPDATE search_totals SET documents = documents - 1, tokens = tokens - ? WHERE id = 1", (length,))


def rebuild(conn: sqlite3.Connection, batch: int = 2_000) -> int:
    """Empty the search tables and index every item again (migration v3 and repairs); return the count."""
    prepare(conn)
    for table in ("search_postings", "search_terms", "search_documents"):
        conn.execute(f"DELETE FROM {table}")
    conn.execute("UPDATE search_totals SET documents = 0, tokens = 0 WHERE id = 1")
    count, last = 0, -1
    while True:
        rows = conn.execute("SELECT seq, text, tags, status, scope FROM items WHERE seq > ? ORDER BY seq LIMIT ?",
                            (last, batch)).fetchall()
        if not rows:
            return count
        index(conn, rows)
        count += len(rows)
        last = rows[-1][0]


def check(conn: sqlite3.Connection) -> str:
    """``"ok"``, or what is inconsistent between the items and the search tables."""
    items = conn.execute("SELECT count(*) FROM items").fetchone()[0]
    documents = conn.execute("SELECT count(*) FROM search_documents").fetchone()[0]
    total = conn.execute("SELECT documents FROM search_totals WHERE id = 1").fetchone()
    postings = conn.execute("SELECT count(*) FROM search_postings").fetchone()[0]
    listed = conn.execute("SELECT coalesce(sum(documents), 0) FROM search_terms").fetchone()[0]
    if not items == documents == (total[0] if total else -1) or postings != listed:
        return (f"search index out of step: {items} items, {documents} indexed, totals say "
                f"{total[0] if total else 'nothing'}, {postings} postings for {listed} counted; "
                "rebuild it with SQLiteStore.rebuild_search_index()")
    return "ok"


class _Term:
    """One query stem: its BM25 ``weight`` (idf x (k1 + 1) x repeats) and ``bound`` on any item's share."""

    __slots__ = ("bound", "documents", "stem", "weight", "word")

    def __init__(self, stem: str, word: str, documents: int, weight: float, bound: float) -> None:
        self.stem, self.word, self.documents, self.weight, self.bound = stem, word, documents, weight, bound


#: Postings (summed document frequencies) up to which a query is scored without a threshold.
SMALL_QUERY = 10_000
#: Postings of the rarest stems read to find the first threshold.
SEED_POSTINGS = 2_000
#: Items containing every query word scored (times the limit) to find the first threshold.
SEED_ITEMS = 2
#: One posting's share of the score; ``{p}`` is the postings alias, the two parameters are
#: k1 * (1 - b) and k1 * b / avgdl; ``q.weight`` is idf * (k1 + 1) * repeats.
_BM25 = "q.weight * {p}.frequency / ({p}.frequency + ? + ? * {p}.length)"
#: A key lookup's cost relative to grouping one posting (a correlated lookup, measured ~2 us, against ~0.7 us).
LOOKUP_COST = 3.0


def rank(conn: sqlite3.Connection, words: Sequence[str], *, limit: int, status: str | None,
         scopes: Sequence[str] | None, select: str) -> list[tuple[Any, ...]]:
    """``(relevance, *items columns)`` rows, best first: the top ``limit`` by BM25 as FTS5 computes it.

    ``scopes`` are :func:`scope_key` values to keep (``None``: all). ``select`` is the items
    column list (alias ``i``).

    Exact, without sorting every match. The cost of an aggregate query is in grouping and
    ordering, so the final query only lets through items that can still make the list:

    1. *Threshold*: ``limit`` real items are scored on every stem — items holding every query
       word (FTS5 intersects the lists in C) when every stem is common, else the best on the
       rarest stems; the lowest of those scores is a lower bound on the answer's last score.
    2. *MaxScore* (Turtle & Flood, 1995): each stem's share of any item's score is at most its
       ``bound`` (its weight at the highest frequency and shortest item ever indexed with it).
       The commonest stems whose bounds sum below the threshold cannot lift an item into the
       list on their own, so their postings need not be read; they are added, one key lookup
       each, only to items that pass. How many to skip is chosen by a cost estimate.
    3. The other stems' postings are summed per item, and only items whose partial score is at
       least the threshold minus those bounds go on to be completed and ordered.

    Stems in half of the items or more weigh 1e-6 in FTS5 (a floored idf): they are left out
    unless the other stems match fewer than ``limit`` items, which moves no score by more than
    ~2e-6 per such stem.
    """
    totals = conn.execute("SELECT documents, tokens FROM search_totals WHERE id = 1").fetchone()
    if not words or limit <= 0 or not totals or not totals[0]:
        return []
    documents, tokens = totals
    count: dict[str, int] = {}
    word_of: dict[str, str] = {}
    for word, word_stems in zip(words, stems(conn, words), strict=True):
        for stem in word_stems:  # each query word is one FTS5 phrase: a stem twice counts twice
            count[stem] = count.get(stem, 0) + 1
            word_of.setdefault(stem, word)
    if not count:
        return []
    constant, per_token = K1 * (1 - B), (K1 * B * documents / tokens if tokens else 0.0)
    found = conn.execute(f"SELECT term, documents, max_frequency, min_length FROM search_terms WHERE term IN "
                         f"({', '.join('?' for _ in count)}) AND documents > 0", list(count)).fetchall()
    terms = []
    for stem, n, top, shortest in found:
        idf = math.log((documents - n + 0.5) / (n + 0.5))
        weight = (idf if idf > 0 else 1e-6) * (K1 + 1) * count[stem]
        terms.append(_Term(stem, word_of[stem], n, weight, weight * top / (top + constant + per_token * shortest)))
    query = _Query(conn, status, scopes, constant, per_token, limit)
    informative = [t for t in terms if 2 * t.documents < documents]
    hits: list[tuple[float, int]] = []
    if informative:
        hits = query.top(informative)
    if len(hits) < limit and len(informative) < len(terms):
        hits = query.top(terms)
    return query.rows(hits, select)


class _Query:
    """The SQL of one ranking: filters, BM25 constants and the number of results wanted."""

    def __init__(self, conn: sqlite3.Connection, status: str | None, scopes: Sequence[str] | None,
                 constant: float, per_token: float, limit: int) -> None:
        self.conn, self.limit, self.constant, self.per_token = conn, limit, constant, per_token
        self.status = status
        self.filters, self.filter_params = "", []
        if status is not None:
            self.filters += " AND p.status = ?"
            self.filter_params.append(status)
        if scopes is not None:
            self.filters += f" AND p.scope IN ({', '.join('?' for _ in scopes)})"
            self.filter_params += list(scopes)

    def top(self, terms: list[_Term]) -> list[tuple[float, int]]:
        """The exact ``(score, seq)`` top list for ``terms``, best first (ties: lower seq first)."""
        every = {t.stem for t in terms}
        if sum(t.documents for t in terms) <= SMALL_QUERY or len(terms) == 1:
            return self.scored(terms, every, None)
        rarest = min(t.documents for t in terms)
        # every stem common: items holding all of them are the likely winners; else the rarest stems' best
        first = self.with_every_word(terms) if rarest > SEED_POSTINGS else []
        if len(first) < self.limit:
            seed: set[str] = set()
            read = 0
            for term in sorted(terms, key=lambda t: t.documents):
                if seed and read + term.documents > SEED_POSTINGS:
                    break
                seed.add(term.stem)
                read += term.documents
            first = self.scored(terms, seed, None)
        if len(first) < self.limit:
            return self.scored(terms, every, None)
        # floating-point sums in another order may differ in the last bits: keep a margin
        threshold = first[-1][0] * (1 - 1e-9)
        # Which stems to skip: any prefix of the stems by bound whose bounds sum below the
        # threshold keeps the answer exact. Cost of a choice, in units of one grouped posting:
        # the essential stems' postings, plus, for each item expected to pass the floor, one key
        # lookup per skipped stem (LOOKUP_COST) and its place in the final sort. An item is
        # expected to pass when one stem's typical share (frequency 1, average length) reaches
        # the floor: then nearly all of that stem's items pass.
        by_bound = sorted(terms, key=lambda t: t.bound)
        every_cost = float(sum(t.documents for t in terms))
        best_cost, best_skip, best_room = every_cost, 0, threshold
        room = threshold
        for n, term in enumerate(by_bound, 1):
            if term.bound >= room:
                break
            room -= term.bound
            essential = by_bound[n:]
            passing = sum(t.documents for t in essential if t.weight / (K1 + 1) >= room)
            cost = sum(t.documents for t in essential) + passing * (1 + LOOKUP_COST * n)
            if cost < best_cost:
                best_cost, best_skip, best_room = cost, n, room
        return self.scored(terms, every - {t.stem for t in by_bound[:best_skip]}, best_room)

    def with_every_word(self, terms: list[_Term]) -> list[tuple[float, int]]:
        """The best ``limit`` of some items containing every query word (FTS5 intersects in C), fully scored."""
        if self.status is None:  # the lookups below need the status (part of the key)
            return []
        match = " AND ".join(f'"{t.word}"' for t in terms)
        found = [row[0] for row in self.conn.execute("SELECT rowid FROM items_fts WHERE items_fts MATCH ? LIMIT ?",
                                                     (match, SEED_ITEMS * self.limit))]
        if len(found) < self.limit:
            return []
        weights, params = self._weights(terms, {t.stem for t in terms})
        sql = (f"WITH {weights}, c (seq) AS (VALUES {', '.join('(?)' for _ in found)}) "
               f"SELECT SUM({_BM25.format(p='p')}) AS relevance, c.seq FROM c CROSS JOIN q CROSS JOIN search_postings p "
               f"ON p.term = q.term AND p.seq = c.seq{self.filters} GROUP BY c.seq ORDER BY relevance DESC, c.seq LIMIT ?")
        return self.conn.execute(sql, [*params, *found, self.constant, self.per_token, *self.filter_params,
                                       self.limit]).fetchall()

    @staticmethod
    def _weights(terms: list[_Term], essential: set[str]) -> tuple[str, list[Any]]:
        """The ``q (term, weight, essential)`` table of a query, as a CTE and its parameters."""
        values = ", ".join("(?, ?, ?)" for _ in terms)
        return (f"q (term, weight, essential) AS (VALUES {values})",
                [x for t in terms for x in (t.stem, t.weight, t.stem in essential)])

    def scored(self, terms: list[_Term], essential: set[str], floor: float | None) -> list[tuple[float, int]]:
        """The best ``limit`` ``(score, seq)`` among items containing an ``essential`` stem.

        Items are grouped on their essential stems; with a ``floor``, groups whose partial score
        is below it stop there. Without one, only the ``limit`` best partial scores go on. The
        other stems are then added by key lookup and the survivors ordered by their full score.
        """
        weights, params = self._weights(terms, essential)
        keep = "HAVING partial >= ?" if floor is not None else "ORDER BY partial DESC, p.seq LIMIT ?"
        sql = (f"WITH {weights}, "
               f"ess AS (SELECT p.seq AS seq, max(p.status) AS status, SUM({_BM25.format(p='p')}) AS partial "
               f"FROM q CROSS JOIN search_postings p ON p.term = q.term{self.filters} WHERE q.essential "
               f"GROUP BY p.seq {keep}) ")
        params += [self.constant, self.per_token, *self.filter_params, self.limit if floor is None else floor]
        if len(essential) == len(terms):
            sql += "SELECT partial AS relevance, seq FROM ess "
        else:
            sql += (f"SELECT e.partial + coalesce((SELECT SUM({_BM25.format(p='x')}) FROM q "
                    "CROSS JOIN search_postings x ON x.term = q.term AND x.status = e.status AND x.seq = e.seq "
                    "WHERE NOT q.essential), 0) AS relevance, e.seq FROM ess e ")
            params += [self.constant, self.per_token]
        sql += "ORDER BY relevance DESC, seq LIMIT ?"
        params.append(self.limit)
        return self.conn.execute(sql, params).fetchall()

    def rows(self, hits: list[tuple[float, int]], select: str) -> list[tuple[Any, ...]]:
        """``(score, *items columns)`` for ``hits``, in their order."""
        if not hits:
            return []
        found = {row[0]: row[1:] for row in self.conn.execute(
            f"SELECT i.seq, {select} FROM items i WHERE i.seq IN ({', '.join('?' for _ in hits)})",
            [seq for _, seq in hits])}
        return [(score, *found[seq]) for score, seq in hits if seq in found]
