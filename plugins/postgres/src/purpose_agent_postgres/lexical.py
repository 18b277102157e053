"""Ranking by words on PostgreSQL: BM25 over the rows' own ``tsvector``, evaluated in this process.

Why not ``ORDER BY ts_rank_cd(...)`` in SQL: PostgreSQL ranks *every* matching row, and to rank a
row it reads it from the heap. At 100,000 lessons a query of six ordinary words matches about a
quarter of them, so a search read most of the table and took 185 ms (p50, load 6) however few
results were asked for; no index gives a relevance order to stop early.

Here a process keeps what BM25 needs: each item's length in tokens, status and scope (read once,
from plain columns), and, per stem a query has used, the items containing it with its weighted
frequency (text counts 1, tags 0.5: the ``tsv`` labels A and B, the SQLite store's weights). A
stem's postings are read the first time a query uses it, through the GIN index, aggregated by the
server; PostgreSQL's own English stemming makes the stems, so nothing here can drift from it.
A search scores only its stems' postings with numpy (k1 = 1.2, b = 0.75, idf floored at 1e-6, as
FTS5's bm25), keeps the best ``limit`` that pass the filters, and reads just those rows. The
scores are exact BM25 over the state the last refresh read.

Refresh reads only rows written since the last look: every write of a row sets ``changed_xid`` to
its transaction's id (schema v2), and the refresh is one statement that also returns its own
snapshot's ``xmin``: a transaction that statement could not see has an id at least that. A row
whose words changed (``tsv_hash``) gets a new slot, and its old postings go dead and are skipped;
when half the slots are dead, everything is read again.
"""

from __future__ import annotations

import builtins
import math
import threading
from array import array
from collections.abc import Sequence
from typing import Any

#: BM25's parameters, and the weight of a stem found in the tags (label B) against the text (A).
K1 = 1.2
B = 0.75
TAGS_WEIGHT = 0.5

#: A stem's weighted frequency in a row, from ``unnest(tsv) u``: every position counts 1, tags' less.
_FREQUENCY_SQL = (f"(cardinality(u.positions) - {1 - TAGS_WEIGHT} * "
                  "COALESCE(cardinality(array_positions(u.weights, 'B')), 0))::float8")


def scope_key(level: str, value: str) -> str:
    """The key of a scope in filters: ``"global"``, or level and value joined by the unit separator."""
    return "global" if level == "global" else f"{level}\x1f{value}"


def tsquery_lexeme(stem: str) -> str:
    """``stem`` as a ``tsquery`` literal that is not stemmed again (quoted, quotes and backslashes escaped)."""
    return "'" + stem.replace("\\", "\\\\").replace("'", "''") + "'"


class LexicalIndex:
    """The BM25 statistics of one schema's items, held in memory and kept current.

    ``table`` is the qualified ``items`` table; every method that reads takes a connection the
    caller holds (so a search uses one connection from the pool).
    """

    def __init__(self, table: str) -> None:
        self._table = table
        self._guard = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        import numpy as np

        self._xmin: str | None = None  # None: the next refresh reads every row
        self._slot_of = np.full(0, -1, dtype=np.int64)  # item seq -> its current slot (-1: none)
        self._count = 0  # slots used
        self._seqs = np.zeros(0, dtype=np.int64)
        self._lengths = np.zeros(0, dtype=np.float64)
        self._statuses = np.zeros(0, dtype=np.int32)
        self._scopes = np.zeros(0, dtype=np.int32)
        self._live = np.zeros(0, dtype=bool)
        self._hashes = np.zeros(0, dtype=np.int64)
        # per stem a query used: postings read then (slots, frequencies) and those added since
        self._base: dict[str, tuple[Any, Any]] = {}
        self._extra: dict[str, tuple[array[int], array[float]]] = {}
        self._status_codes: dict[str, int] = {}
        self._scope_codes: dict[str, int] = {}
        self._live_count = 0
        self._live_length = 0.0

    # ------------------------------------------------------------------ keeping it current

    def refresh(self, conn: Any, query: str, config: str) -> builtins.list[str]:
        """Bring the statistics up to date on ``conn`` and return ``query``'s stems
        (``to_tsvector(config, query)``); the postings of stems never used before are read now."""
        with self._guard:
            if self._count and self._live_count * 2 <= self._count:
                self._reset()  # half the slots hold replaced texts: start again
            stem_sql = f"ARRAY(SELECT lexeme FROM unnest(to_tsvector('{config}', %s)))"
            if self._xmin is None:
                self._xmin, stems = conn.execute(
                    f"SELECT pg_snapshot_xmin(pg_current_snapshot())::text, {stem_sql}", (query,)).fetchone()
                # rows committed after that statement are read again by the next refresh: harmless
                self._read_all(conn.execute(f"SELECT seq, status, scope_level, scope_value, tokens, tsv_hash "
                                            f"FROM {self._table} ORDER BY seq").fetchall())
            else:
                # One statement, one snapshot: its xmin and the rows it sees agree (in READ COMMITTED
                # each statement has its own snapshot, and pg_current_snapshot() is that one).
                rows = conn.execute(
                    f"SELECT NULL::bigint, pg_snapshot_xmin(pg_current_snapshot())::text, NULL, NULL, NULL::integer, "
                    f"NULL::bigint, {stem_sql}, NULL::float8[] "
                    f"UNION ALL SELECT i.seq, i.status, i.scope_level, i.scope_value, i.tokens, i.tsv_hash, "
                    f"ARRAY(SELECT u.lexeme FROM unnest(i.tsv) u ORDER BY u.lexeme), "
                    f"ARRAY(SELECT {_FREQUENCY_SQL} FROM unnest(i.tsv) u ORDER BY u.lexeme) "
                    f"FROM {self._table} i WHERE i.changed_xid >= %s::xid8", (query, self._xmin)).fetchall()
                self._xmin, stems = rows[0][1], rows[0][6]
                for seq, status, level, value, tokens, digest, row_stems, frequencies in rows[1:]:
                    self._apply(seq, status, level, value, tokens, digest, row_stems, frequencies)
            self._load_postings(conn, [stem for stem in dict.fromkeys(stems) if stem not in self._base])
            return list(stems)

    def _read_all(self, rows: Sequence[Any]) -> None:
        """Take in every row at once (the first refresh): the per-row facts, no postings yet."""
        import numpy as np

        count = len(rows)
        self._grow(count)
        statuses = self._status_codes
        scopes = self._scope_codes
        self._seqs[:count] = np.fromiter((row[0] for row in rows), dtype=np.int64, count=count)
        self._statuses[:count] = np.fromiter((statuses.setdefault(row[1], len(statuses)) for row in rows),
                                             dtype=np.int32, count=count)
        self._scopes[:count] = np.fromiter((scopes.setdefault(scope_key(row[2], row[3]), len(scopes)) for row in rows),
                                           dtype=np.int32, count=count)
        self._lengths[:count] = np.fromiter((row[4] for row in rows), dtype=np.float64, count=count)
        self._hashes[:count] = np.fromiter((row[5] for row in rows), dtype=np.int64, count=count)
        self._live[:count] = True
        if count:
            self._slot_of = np.full(int(self._seqs[count - 1]) + 1, -1, dtype=np.int64)
            self._slot_of[self._seqs[:count]] = np.arange(count)
        self._count = self._live_count = count
        self._live_length = float(self._lengths[:count].sum())

    def _load_postings(self, conn: Any, stems: Sequence[str]) -> None:
        """Read the postings of ``stems`` (through the GIN index), aggregated per stem by the server."""
        import numpy as np

        if not stems:
            return
        found = {stem: (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)) for stem in stems}
        rows = conn.execute(
            f"SELECT u.lexeme, string_agg(int8send(i.seq), ''::bytea), string_agg(float8send({_FREQUENCY_SQL}), ''::bytea) "
            f"FROM {self._table} i, unnest(i.tsv) u WHERE i.tsv @@ %s::tsquery AND u.lexeme = ANY(%s) "
            "GROUP BY u.lexeme", (" | ".join(tsquery_lexeme(stem) for stem in stems), list(stems))).fetchall()
        for stem, seqs_blob, frequencies_blob in rows:
            seqs = np.frombuffer(seqs_blob, dtype=">i8").astype(np.int64)
            frequencies = np.frombuffer(frequencies_blob, dtype=">f8").astype(np.float64)
            slots = np.full(len(seqs), -1, dtype=np.int64)
            inside = seqs < len(self._slot_of)
            slots[inside] = self._slot_of[seqs[inside]]
            known = slots >= 0  # a row added since the last refresh: the next refresh adds it
            found[stem] = (slots[known], frequencies[known])
        self._base.update(found)

    def _apply(self, seq: int, status: str, level: str, value: str, tokens: int, digest: int,
               stems: Sequence[str] | None = None, frequencies: Sequence[float] | None = None) -> None:
        """Take in one row; ``stems`` and ``frequencies`` are its words (from a refresh, not a full read)."""
        import numpy as np

        status_code = self._status_codes.setdefault(status, len(self._status_codes))
        scope_code = self._scope_codes.setdefault(scope_key(level, value), len(self._scope_codes))
        if seq >= len(self._slot_of):
            grown = np.full(max(seq + 1, 2 * len(self._slot_of)), -1, dtype=np.int64)
            grown[:len(self._slot_of)] = self._slot_of
            self._slot_of = grown
        slot: int | None = int(self._slot_of[seq])
        if slot == -1:
            slot = None
        if slot is not None and self._hashes[slot] == digest:
            self._statuses[slot], self._scopes[slot] = status_code, scope_code  # same words: same postings
            return
        if slot is not None:  # new words: the old slot's postings go dead
            self._live[slot] = False
            self._live_count -= 1
            self._live_length -= float(self._lengths[slot])
        slot = self._slot_of[seq] = self._count
        self._grow(slot + 1)
        self._count += 1
        self._seqs[slot], self._lengths[slot], self._hashes[slot] = seq, tokens, digest
        self._statuses[slot], self._scopes[slot], self._live[slot] = status_code, scope_code, True
        self._live_count += 1
        self._live_length += tokens
        for stem, frequency in zip(stems or (), frequencies or (), strict=True):
            if stem not in self._base:
                continue  # never queried: read whole, with this row, when a query first uses it
            postings = self._extra.get(stem)
            if postings is None:
                postings = self._extra[stem] = (array("q"), array("d"))
            postings[0].append(slot)
            postings[1].append(float(frequency))

    def _grow(self, needed: int) -> None:
        import numpy as np

        if needed <= len(self._seqs):
            return
        size = max(needed, 2 * len(self._seqs), 1024)
        for name in ("_seqs", "_lengths", "_statuses", "_scopes", "_live", "_hashes"):
            old = getattr(self, name)
            new = np.zeros(size, dtype=old.dtype)
            new[:self._count] = old[:self._count]
            setattr(self, name, new)

    # ------------------------------------------------------------------ ranking

    def rank(self, stems: Sequence[str], *, limit: int, status: str | None = None,
             scopes: Sequence[str] | None = None) -> builtins.list[tuple[float, int]]:
        """``(bm25, seq)`` of the best ``limit`` items containing any of ``stems`` that pass the
        filters (``scopes``: :func:`scope_key` keys), best first, ties by ``seq``."""
        import numpy as np

        with self._guard:
            if not self._live_count or limit <= 0:
                return []
            count = self._count
            average = max(self._live_length / self._live_count, 1e-9)
            slots_parts, score_parts = [], []
            for stem in dict.fromkeys(stems):
                parts = [self._base[stem]] if stem in self._base else []
                extra = self._extra.get(stem)
                if extra is not None:
                    parts.append((np.array(extra[0], dtype=np.int64), np.array(extra[1], dtype=np.float64)))
                if not parts:
                    continue
                slots = np.concatenate([part[0] for part in parts])
                frequencies = np.concatenate([part[1] for part in parts])
                alive = self._live[slots]
                slots, frequencies = slots[alive], frequencies[alive]
                if not len(slots):
                    continue
                found = len(slots)
                idf = max(math.log((self._live_count - found + 0.5) / (found + 0.5)), 1e-6)
                norm = K1 * (1 - B + B * self._lengths[slots] / average)
                slots_parts.append(slots)
                score_parts.append(idf * frequencies * (K1 + 1) / (frequencies + norm))
            if not slots_parts:
                return []
            totals = np.bincount(np.concatenate(slots_parts), weights=np.concatenate(score_parts), minlength=count)
            candidates = np.flatnonzero(totals)
            if status is not None:
                code = self._status_codes.get(status)
                if code is None:
                    return []
                candidates = candidates[self._statuses[candidates] == code]
            if scopes is not None:
                codes = [self._scope_codes[key] for key in scopes if key in self._scope_codes]
                candidates = candidates[np.isin(self._scopes[candidates], np.asarray(codes, dtype=np.int32))]
            scores = totals[candidates]
            if len(candidates) > limit:  # everything tied with the limit-th score stays, for the seq tie-break
                kth = np.partition(scores, len(scores) - limit)[len(scores) - limit]
                close = scores >= kth
                candidates, scores = candidates[close], scores[close]
            seqs = self._seqs[candidates]
            order = np.lexsort((seqs, -scores))[:limit]
            return [(float(scores[i]), int(seqs[i])) for i in order]

    @property
    def size(self) -> int:
        """How many items this process can rank."""
        return self._live_count
