"""After a write, a process searching by meaning applies only the changed rows to its vectors.

Before, any write (by any connection or process) made the next search re-read every vector:
~4 s at 100,000 memories. Now the store's change log (``search_changes``, schema v6) says which
items changed, and the in-memory vectors take just those. These tests check that the result is
the same as reading everything afresh, across connections and processes, with a writer killed
mid-write, and that a reader too far behind still reads everything.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from purpose_agent.models import MemoryItem, MemoryStatus, Scope
from purpose_agent.testing import HashingEmbedder
from purpose_agent_sqlite import store as sqlite_store
from purpose_agent_sqlite import vector_search
from purpose_agent_sqlite.store import SQLiteStore

WORKER = Path(__file__).with_name("store_worker.py")
WORDS = "queue cache socket parser schema token worker index bucket ledger retry backoff".split()
QUERIES = ["queue cache worker", "retry backoff socket", "schema index ledger", "cache retry index"]


def lesson(n: int, status: MemoryStatus = MemoryStatus.PROMOTED, scope: Scope | None = None) -> MemoryItem:
    return MemoryItem(text=f"{WORDS[n % 12]} {WORDS[(n * 5) % 12]} {WORDS[(n * 7) % 12]} note {n}", status=status,
                      scope=scope or Scope())


class CountingLoads:
    """Counts the full reads of every vector (``SQLiteStore._load_dense``) by one store."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, target: SQLiteStore) -> None:
        self.count = 0
        original = SQLiteStore._load_dense

        def counted(store: SQLiteStore, embedder: Any) -> Any:
            self.count += store is target
            return original(store, embedder)

        monkeypatch.setattr(SQLiteStore, "_load_dense", counted)


def ranking(store: SQLiteStore, **filters: Any) -> list[list[tuple[int, float]]]:
    return [[(seq, round(cosine, 5)) for seq, cosine in store.dense_rows(q, limit=15, **filters)] for q in QUERIES]


def fresh_ranking(path: Path, **filters: Any) -> list[list[tuple[int, float]]]:
    """What a new process finds, by the exact scan."""
    exact_below = vector_search.EXACT_BELOW
    vector_search.EXACT_BELOW = 10**9
    try:
        with SQLiteStore(path, embedder=HashingEmbedder()) as fresh:
            return ranking(fresh, **filters)
    finally:
        vector_search.EXACT_BELOW = exact_below


def assert_found_as_fresh(store: SQLiteStore, path: Path, **filters: Any) -> None:
    """The store's ranking equals a new process's exact one; through the inverted file (which
    keeps its clusters across updates, where a new process trains new ones), every cosine is
    exact and nearly all are as near as the exact top rows."""
    got, want = ranking(store, **filters), fresh_ranking(path, **filters)
    if not store._dense.vectors.approximate:
        assert got == want, filters
        return
    for found, best in zip(got, want, strict=True):
        assert [c for _, c in found] == sorted((c for _, c in found), reverse=True)
        assert all(cosine <= best[0][1] + 1e-6 for _, cosine in found)
        assert len(found) == len(best)
        assert sum(cosine >= best[-1][1] - 1e-6 for _, cosine in found) >= 0.8 * len(best), filters


@pytest.mark.parametrize("exact_below", [10**9, 100], ids=["exact", "inverted-file"])
def test_writes_by_another_connection_are_applied_without_a_full_reload(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exact_below: int) -> None:
    monkeypatch.setattr(vector_search, "EXACT_BELOW", exact_below)
    path = tmp_path / "m.db"
    with SQLiteStore(path, embedder=HashingEmbedder()) as reader, SQLiteStore(path) as writer:
        writer.add_many([lesson(n) for n in range(300)])
        loads = CountingLoads(monkeypatch, reader)
        before = ranking(reader, status=MemoryStatus.PROMOTED)
        assert loads.count == 1
        # another connection without an embedder: adds, an edit, a demotion, a deletion
        items = writer.list()
        added = writer.add(MemoryItem(text="queue cache worker queue cache worker", status=MemoryStatus.PROMOTED))
        edited = writer.update(items[0].model_copy(update={"text": "retry backoff socket retry backoff"}))
        writer.update(items[1].model_copy(update={"status": MemoryStatus.CANDIDATE}))
        writer._conn().execute("DELETE FROM items WHERE id = ?", (items[2].id,))
        after = ranking(reader, status=MemoryStatus.PROMOTED)
        assert loads.count == 1, "the changes were applied, not everything read again"
        assert_found_as_fresh(reader, path, status=MemoryStatus.PROMOTED)
        assert after != before
        seq_of = dict(reader._conn().execute("SELECT id, seq FROM items"))
        assert seq_of[added.id] in [seq for seq, _ in after[0]] and seq_of[edited.id] in [seq for seq, _ in after[1]]
        assert seq_of[added.id] not in [seq for seq, _ in before[0]]
        assert seq_of[items[1].id] not in {seq for found in after for seq, _ in found}, "demoted: filtered out"
        assert reader._dense.vectors.approximate == (exact_below == 100)
        # the new vectors were embedded by the reader and stored for every other process
        embedder = HashingEmbedder()
        with SQLiteStore(path, embedder=embedder) as another:
            ranking(another)
        assert embedder.calls == [1] * len(QUERIES), "another process embeds only its queries"


def test_filters_see_changed_statuses_and_new_scopes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vector_search, "EXACT_BELOW", 50)
    path = tmp_path / "m.db"
    with SQLiteStore(path, embedder=HashingEmbedder()) as store:
        store.add_many([lesson(n, scope=Scope(level="agent", value=f"a{n % 3}")) for n in range(200)])
        scoped = {"status": MemoryStatus.PROMOTED, "scopes": [("agent", "a0")]}
        ranking(store, **scoped)
        loads = CountingLoads(monkeypatch, store)
        store.add(lesson(999, scope=Scope(level="agent", value="a-new")))  # a scope the vectors had not seen
        store.add(lesson(998, status=MemoryStatus.CANDIDATE))
        for filters in (scoped, {"status": MemoryStatus.CANDIDATE}, {"scopes": [("agent", "a-new")]}):
            assert_found_as_fresh(store, path, **filters)
        assert loads.count == 0


def prune_the_log(writer: SQLiteStore) -> None:
    writer.add_many([lesson(n) for n in range(50, 60)])
    # what the prune trigger does once the log outgrows CHANGES_KEPT
    writer._conn().execute("DELETE FROM search_changes WHERE version < (SELECT max(version) FROM search_changes)")


def change_most_rows(writer: SQLiteStore) -> None:
    writer.add_many([lesson(n) for n in range(50, 1_100)])  # over 1,000 and over half of the set


@pytest.mark.parametrize("fall_behind", [prune_the_log, change_most_rows])
def test_a_reader_too_far_behind_reads_everything_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      fall_behind: Callable[[SQLiteStore], None]) -> None:
    path = tmp_path / "m.db"
    with SQLiteStore(path, embedder=HashingEmbedder()) as reader, SQLiteStore(path) as writer:
        writer.add_many([lesson(n) for n in range(50)])
        ranking(reader)
        loads = CountingLoads(monkeypatch, reader)
        fall_behind(writer)
        assert_found_as_fresh(reader, path)
        assert loads.count == 1
        writer.add_many([lesson(n) for n in range(2_000, 2_010)])  # a few, after reading everything
        assert_found_as_fresh(reader, path)
        assert loads.count == 1, "the few are applied to what was read, not read again with the rest"


def test_the_change_log_is_pruned(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "m.db") as store:
        store.add_many([lesson(n) for n in range(9_000)])
        kept = store._conn().execute("SELECT count(*), min(version), max(version) FROM search_changes").fetchone()
        assert kept == (9_000, 1, 9_000), "under CHANGES_KEPT nothing goes"
        conn = store._conn()
        # jump the counter to just below a multiple of 4,096 past CHANGES_KEPT: reaching it prunes
        # every entry more than CHANGES_KEPT older
        prune_at = (sqlite_store.CHANGES_KEPT // 4_096 + 3) * 4_096
        conn.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = 'search_changes'", (prune_at - 5,))
        store.add_many([lesson(n) for n in range(10)])
        assert conn.execute("SELECT count(*), min(version) FROM search_changes").fetchone() == (10, prune_at - 4)


@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix", reason="needs SIGKILL")
def test_a_writer_process_killed_mid_write_leaves_the_reader_consistent(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vector_search, "EXACT_BELOW", 100)
    path = tmp_path / "m.db"
    with SQLiteStore(path, embedder=HashingEmbedder()) as reader:
        reader.add_many([lesson(n) for n in range(300)])
        ranking(reader)
        loads = CountingLoads(monkeypatch, reader)
        for round_number in range(3):
            # another process adds, promotes and uses items in a loop, and is killed while writing
            proc = subprocess.Popen([sys.executable, str(WORKER), "churn", str(path), str(round_number)],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready"
            for _ in range(15 + 10 * round_number):
                assert proc.stdout.readline(), "the writer stopped before it was killed"
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
            assert proc.returncode == -signal.SIGKILL
            # a search between two of them sees exactly what a fresh process would
            assert_found_as_fresh(reader, path)
            assert_found_as_fresh(reader, path, status=MemoryStatus.PROMOTED)
            held = set(reader._dense.vectors.row_seqs().tolist())
            assert held == {row[0] for row in reader._conn().execute("SELECT seq FROM items")}
        assert loads.count == 0, "every round was applied incrementally"
        assert reader.integrity_check() == "ok"
