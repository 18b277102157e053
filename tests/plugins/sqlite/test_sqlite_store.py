"""The SQLite memory store: conformance, schema migrations, bad files, and real concurrent processes."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import purpose_agent_sqlite.sqlite_plugin as sqlite_plugin
import purpose_agent_sqlite.store as sqlite_store
from purpose_agent.memory.errors import MemoryItemNotFound, MemoryStoreError
from purpose_agent.models import MemoryItem, MemoryKind, MemoryStatus, Scope
from purpose_agent.testing import make_kernel
from purpose_agent_conformance import MemoryStoreConformance

WORKER = Path(__file__).with_name("store_worker.py")


class TestSQLiteConformance(MemoryStoreConformance):
    plugin_id = "sqlite"
    plugin = sqlite_plugin
    store_name = "sqlite"

    def meaning_only_options_for(self, tmp_path: Path, embedder: Any) -> dict[str, Any]:
        # lexical_floor above 1 keeps no candidate by words: everything found is found by meaning
        return {"embedder": embedder, "min_similarity": -1.0, "lexical_floor": 2.0}


# --------------------------------------------------------------------------- opening


def test_the_default_path_is_in_the_user_data_directory(kernel: Any, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    data_home = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data_home))
    store = kernel.memory_store("sqlite")
    try:
        assert store.path == data_home / "purpose-agent" / "memory.db"
        store.add(MemoryItem(text="persisted by default"))
    finally:
        store.close()
    assert (data_home / "purpose-agent" / "memory.db").is_file()


def test_the_configured_path_is_used(tmp_path: Path) -> None:
    target = tmp_path / "configured" / "lessons.db"
    kernel = make_kernel({"sqlite": sqlite_plugin}, config={"memory": {"path": str(target)}}, strict=True)
    store = kernel.memory_store("sqlite")
    store.close()
    assert store.path == target and target.is_file()


def test_an_unknown_option_is_named(kernel: Any, tmp_path: Path) -> None:
    with pytest.raises(MemoryStoreError, match="unknown option.*pth"):
        kernel.memory_store("sqlite", path=str(tmp_path / "x.db"), pth="typo")


def test_data_survives_reopening(kernel: Any, tmp_path: Path) -> None:
    path = str(tmp_path / "reopen.db")
    first = kernel.memory_store("sqlite", path=path)
    item = first.add(MemoryItem(text="Ünïcode, newlines\nand 'quotes' survive", tags=["io", "text"],
                                scope=Scope(level="agent", value="coder")))
    first.update(item.model_copy(update={"status": MemoryStatus.PROMOTED}))
    first.close()
    second = kernel.memory_store("sqlite", path=path)
    try:
        got = second.get(item.id)
        assert got is not None and got.text == item.text and got.tags == ["io", "text"]
        assert got.scope == Scope(level="agent", value="coder") and got.version == 2
        assert [v.status for v in second.history(item.id)] == [MemoryStatus.CANDIDATE, MemoryStatus.PROMOTED]
    finally:
        second.close()


def test_a_file_that_is_not_a_database_is_refused_with_a_sentence(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are my notes, not a database\n" * 100)
    with pytest.raises(MemoryStoreError, match="is not a usable memory database"):
        sqlite_store.SQLiteStore(path)
    assert path.read_bytes().startswith(b"these are my notes")


def test_a_database_from_a_newer_release_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    sqlite_store.SQLiteStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_version VALUES (99, 0)")
    with pytest.raises(MemoryStoreError, match="schema version 99.*upgrade purpose-agent-sqlite,"):
        sqlite_store.SQLiteStore(path)


def test_missing_fts5_is_reported_clearly(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sqlite_store, "_FTS5_CHECKED", False)
    with pytest.raises(MemoryStoreError, match="built without FTS5"):
        sqlite_store.SQLiteStore(tmp_path / "x.db")


def test_a_closed_store_says_so(sqlite_store: Any) -> None:
    sqlite_store.close()
    with pytest.raises(MemoryStoreError, match="is closed"):
        sqlite_store.get("x")


def test_wal_mode_and_busy_timeout_are_set(sqlite_store: Any) -> None:
    conn = sqlite_store._conn()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 10_000


# --------------------------------------------------------------------------- migrations


def _make_v1_database(path: Path) -> tuple[str, str]:
    """A database exactly as schema version 1 left it, with one item in it."""
    item = MemoryItem(text="Retry  flaky NETWORK calls with exponential backoff.", status=MemoryStatus.PROMOTED)
    data = item.model_dump(mode="json")
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)")
    for statement in sqlite_store.MIGRATIONS[0]:
        conn.execute(statement)
    conn.execute("INSERT INTO schema_version VALUES (1, 0)")
    columns = sqlite_store._COLUMNS
    conn.execute(
        f"INSERT INTO items ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
        [json.dumps(data[c]) if c in ("scope", "provenance", "counters", "tags") else data[c] for c in columns],
    )
    conn.execute("INSERT INTO item_versions VALUES (?, 1, ?, 0)", (item.id, item.model_dump_json()))
    conn.commit()
    conn.close()
    return item.id, item.content_hash


def test_a_version_1_database_is_migrated_to_the_latest(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    item_id, digest = _make_v1_database(path)
    store = sqlite_store.SQLiteStore(path)
    try:
        assert store.schema_version() == sqlite_store.LATEST_SCHEMA == 6
        applied = [row[0] for row in store._conn().execute("SELECT version FROM schema_version ORDER BY version")]
        assert applied == list(range(1, 7))
        # the new search index covers the old rows, and the duplicate key was backfilled
        assert [s.item.id for s in store.search("backoff")] == [item_id]
        assert [i.id for i in store.find_by_hash(digest)] == [item_id]
        assert store.get(item_id).status is MemoryStatus.PROMOTED
        assert store.integrity_check() == "ok"
    finally:
        store.close()


def test_a_failed_migration_leaves_the_file_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "v1.db"
    _make_v1_database(path)
    broken = (*sqlite_store.MIGRATIONS[1][:-1], "THIS IS NOT SQL")
    monkeypatch.setattr(sqlite_store, "MIGRATIONS", (sqlite_store.MIGRATIONS[0], broken))
    with pytest.raises(MemoryStoreError):
        sqlite_store.SQLiteStore(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] == 1
        assert not conn.execute("SELECT name FROM sqlite_master WHERE name = 'items_fts'").fetchall()


def test_content_hash_in_sql_matches_the_model() -> None:
    for text in ["A  b\tC\n", "Ünïcode TEXT", "x"]:
        assert sqlite_store.content_hash(text) == MemoryItem(text=text).content_hash


# --------------------------------------------------------------------------- history and search


def test_history_is_append_only_in_the_file_itself(sqlite_store: Any) -> None:
    item = sqlite_store.add(MemoryItem(text="keep me"))
    conn = sqlite3.connect(sqlite_store.path)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("UPDATE item_versions SET data = '{}'")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("DELETE FROM item_versions")
    finally:
        conn.close()
    assert [v.text for v in sqlite_store.history(item.id)] == ["keep me"]


def test_update_of_an_unknown_item_is_refused(sqlite_store: Any) -> None:
    with pytest.raises(KeyError):
        sqlite_store.update(MemoryItem(text="never added"))


def test_search_survives_query_syntax_in_user_text(sqlite_store: Any) -> None:
    target = sqlite_store.add(MemoryItem(text="Quote paths with spaces in shell commands."))
    for query in ['NEAR("shell" AND', '"', "*", "quote OR", "paths) (", "^spaces", "-shell", ""]:
        results = sqlite_store.search(query)
        assert all(r.item.id == target.id for r in results)
    assert sqlite_store.search("spaces shell")[0].item.id == target.id


def test_search_stems_and_ignores_case(sqlite_store: Any) -> None:
    target = sqlite_store.add(MemoryItem(text="Retrying requests needs an idempotency key."))
    sqlite_store.add(MemoryItem(text="Format dates as ISO 8601."))
    assert [r.item.id for r in sqlite_store.search("RETRY request")] == [target.id]


def test_search_filters_status_and_scope(sqlite_store: Any) -> None:
    texts = "parse the config file with tomllib"
    glob = sqlite_store.add(MemoryItem(text=texts, status=MemoryStatus.PROMOTED))
    mine = sqlite_store.add(MemoryItem(text=texts, status=MemoryStatus.PROMOTED, scope=Scope(level="agent", value="me")))
    sqlite_store.add(MemoryItem(text=texts, status=MemoryStatus.PROMOTED, scope=Scope(level="agent", value="other")))
    sqlite_store.add(MemoryItem(text=texts))  # a candidate
    found = sqlite_store.search("config tomllib", status=MemoryStatus.PROMOTED, scopes=[("agent", "me")])
    assert {r.item.id for r in found} == {glob.id, mine.id}
    assert len(sqlite_store.search("config tomllib")) == 4


def test_a_word_in_most_items_weighs_nothing_but_still_matches(sqlite_store: Any) -> None:
    for n in range(9):
        sqlite_store.add(MemoryItem(text=f"common filler number {n}"))
    rare = sqlite_store.add(MemoryItem(text="common advice about tomllib"))
    # "common" is in every item: BM25 gives it ~0 weight; the rare word decides the order
    assert sqlite_store.search("common tomllib", limit=1)[0].item.id == rare.id
    # fewer hits than the limit without it: every item matching any word is still returned
    assert len(sqlite_store.search("common tomllib", limit=20)) == 10


def _agrees_with_fts5(store: Any, query: str, limit: int, **filters: Any) -> None:
    """``search`` returns FTS5's own top ``limit`` for ``query``: same scores, same order, same ties."""
    got = store.search_rows(query, limit=limit, **filters)
    want = store.fts5_rows(query, limit=10_000, **filters)
    assert len(got) == min(limit, len(want))
    every = {row[_ID]: score for score, row in want}
    # every score is FTS5's bm25() of that item for the whole query (floored words: ~1e-6 each)
    assert all(score == pytest.approx(every[row[_ID]], abs=1e-5) for score, row in got)
    assert [s for s, _ in got] == sorted((s for s, _ in got), reverse=True)
    # and nothing FTS5 ranks above the last one returned is missing
    if got:
        last = got[-1][0]
        above = {row[_ID] for score, row in want if score > last + 1e-5}
        assert above <= {row[_ID] for _, row in got}


_ID = sqlite_store._COLUMNS.index("id")


def _blocks_are_well_formed(store: Any, capacity: int) -> None:
    """Each (stem, status) list: blocks of 1..capacity postings, ascending, disjoint, keyed by their first seq."""
    from array import array

    lists: dict[tuple[str, str], list[int]] = {}
    rows = store._conn().execute("SELECT term, status, first_seq, seqs FROM search_blocks "
                                 "ORDER BY term, status, first_seq")
    for term, status, first, blob in rows:
        seqs = array("q", blob).tolist()
        assert 1 <= len(seqs) <= capacity and seqs == sorted(seqs) and seqs[0] == first
        lists.setdefault((term, status), []).extend(seqs)
    assert all(seqs == sorted(set(seqs)) for seqs in lists.values())
    if capacity < 10:  # the small-block run: some lists really span several blocks
        assert any(len(seqs) > 3 * capacity for seqs in lists.values())


@pytest.mark.parametrize("span", [None, 3], ids=["one-block-per-list", "many-small-blocks"])
def test_the_ranking_is_fts5_bm25_over_every_match(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   span: int | None) -> None:
    import random

    from purpose_agent_sqlite import fts as sqlite_search

    if span:  # small corpus: split every list over many blocks, as on large stores
        monkeypatch.setattr(sqlite_search, "BLOCK_POSTINGS", span)

    rng = random.Random(3)
    words = "cache retry retries timeout socket parse parsing config token lock queue worker schema index".split()
    scopes = [Scope(), Scope(), Scope(level="agent", value="me"), Scope(level="purpose", value="build")]
    statuses = [MemoryStatus.PROMOTED, MemoryStatus.PROMOTED, MemoryStatus.CANDIDATE, MemoryStatus.ARCHIVED]
    store = sqlite_store.SQLiteStore(tmp_path / "agree.db")
    try:
        items = [MemoryItem(text=" ".join(rng.choices(words, k=rng.randint(2, 12))) + " and the rest",
                            tags=rng.sample(["cache", "io", "ops", "token"], rng.randint(0, 2)),
                            status=rng.choice(statuses), scope=rng.choice(scopes)) for _ in range(500)]
        store.add_many(items[:300])
        for item in items[300:]:
            store.add(item)
        # updates move items between statuses and scopes and change their words
        for item in rng.sample(items, 80):
            store.update(item.model_copy(update={"status": rng.choice(statuses), "scope": rng.choice(scopes),
                                                 "text": item.text + " " + rng.choice(words)}))
        assert store.integrity_check() == "ok"
        _blocks_are_well_formed(store, sqlite_search.BLOCK_POSTINGS)
        for _ in range(30):
            query = " ".join(rng.sample(words, rng.randint(1, 4))) + " the parse_config"
            for limit in (1, 10, 50):
                _agrees_with_fts5(store, query, limit)
                _agrees_with_fts5(store, query, limit, status=MemoryStatus.PROMOTED)
                _agrees_with_fts5(store, query, limit, status=MemoryStatus.PROMOTED, scopes=[("agent", "me")])
    finally:
        store.close()


def test_the_search_index_can_be_rebuilt_and_reports_damage(sqlite_store: Any) -> None:
    sqlite_store.add_many(MemoryItem(text=f"rotate the signing key number {n}") for n in range(5))
    before = [(round(s, 9), r[_ID]) for s, r in sqlite_store.search_rows("signing key", limit=5)]
    conn = sqlite_store._conn()
    conn.execute("DELETE FROM search_documents WHERE seq = (SELECT min(seq) FROM items)")
    assert "rebuild it" in sqlite_store.integrity_check()
    assert sqlite_store.rebuild_search_index() == 5
    assert sqlite_store.integrity_check() == "ok"
    conn.execute("UPDATE search_blocks SET lengths = substr(lengths, 2) WHERE rowid = (SELECT min(rowid) FROM search_blocks)")
    assert "1 damaged blocks" in sqlite_store.integrity_check()
    assert sqlite_store.rebuild_search_index() == 5
    assert sqlite_store.integrity_check() == "ok"
    assert [(round(s, 9), r[_ID]) for s, r in sqlite_store.search_rows("signing key", limit=5)] == before


def test_an_update_outside_search_fields_leaves_the_search_tables_alone(sqlite_store: Any) -> None:
    item = sqlite_store.add(MemoryItem(text="vacuum the database weekly", status=MemoryStatus.PROMOTED))
    conn = sqlite_store._conn()
    blocks = conn.execute("SELECT rowid, seqs FROM search_blocks ORDER BY rowid").fetchall()
    sqlite_store.update(item.model_copy(update={"kind": MemoryKind.WARNING, "status_reason": "seen twice"}))
    assert conn.execute("SELECT rowid, seqs FROM search_blocks ORDER BY rowid").fetchall() == blocks
    moved = sqlite_store.update(item.model_copy(update={"status": MemoryStatus.ARCHIVED}))
    assert sqlite_store.search("vacuum", status=MemoryStatus.PROMOTED) == []
    assert [s.item.id for s in sqlite_store.search("vacuum", status=MemoryStatus.ARCHIVED)] == [moved.id]
    assert sqlite_store.integrity_check() == "ok"


def test_search_candidates_validate_only_what_is_asked_for(sqlite_store: Any) -> None:
    item = sqlite_store.add(MemoryItem(text="lazy lesson about pools", status=MemoryStatus.PROMOTED,
                                       scope=Scope(level="agent", value="me"), tags=["io"]))
    [hit] = sqlite_store.search_candidates("pools")
    assert (hit.id, hit.text, hit.status, hit.scope, hit.uses) == (item.id, item.text, "promoted", ("agent", "me"), 0)
    assert hit.score == pytest.approx(sqlite_store.search("pools")[0].score)
    assert hit._item is None and hit.item == sqlite_store.get(item.id) and hit.item is hit.item


def test_record_use_counts_without_a_new_version(sqlite_store: Any) -> None:
    item = sqlite_store.add(MemoryItem(text="used lesson", status=MemoryStatus.PROMOTED))
    sqlite_store.record_use(item.id, True)
    sqlite_store.record_use(item.id, False)
    sqlite_store.record_use(item.id, None)
    got = sqlite_store.get(item.id)
    assert (got.counters.uses, got.counters.helpful, got.counters.harmful) == (3, 1, 1)
    assert got.version == 1 and len(sqlite_store.history(item.id)) == 1
    with pytest.raises(MemoryItemNotFound):
        sqlite_store.record_use("nope", True)


def test_add_many_is_all_or_nothing(sqlite_store: Any) -> None:
    existing = sqlite_store.add(MemoryItem(text="already here"))
    batch = [MemoryItem(text="new one"), existing, MemoryItem(text="new two")]
    with pytest.raises(ValueError, match="nothing was added"):
        sqlite_store.add_many(batch)
    assert [i.id for i in sqlite_store.list()] == [existing.id]


def test_ids_with_prefix_treats_wildcards_literally(sqlite_store: Any) -> None:
    item = sqlite_store.add(MemoryItem(id="abc_123", text="x"))
    sqlite_store.add(MemoryItem(id="abcX123", text="y"))
    assert sqlite_store.ids_with_prefix("abc_") == [item.id]
    assert sqlite_store.ids_with_prefix("%") == []


# --------------------------------------------------------------------------- processes


def _worker(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, str(WORKER), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _finish(proc: subprocess.Popen[str]) -> str:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return out


@pytest.mark.slow
def test_concurrent_writer_processes_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    sqlite_store.SQLiteStore(path).close()  # create it once, so the writers race on writes only
    procs = [_worker("write", str(path), f"proc{n}", "60") for n in range(4)]
    reported = [line.split()[1] for proc in procs for line in _finish(proc).splitlines()]
    assert len(reported) == 240
    store = sqlite_store.SQLiteStore(path)
    try:
        stored = {i.id for i in store.list()}
        assert stored == set(reported)
        assert store.integrity_check() == "ok"
        assert len(store.search("proc3 lesson", limit=500)) == 240  # every row is in the search index
    finally:
        store.close()


@pytest.mark.slow
def test_concurrent_uses_from_processes_all_count(tmp_path: Path) -> None:
    path = tmp_path / "uses.db"
    store = sqlite_store.SQLiteStore(path)
    item = store.add(MemoryItem(text="popular lesson", status=MemoryStatus.PROMOTED))
    procs = [_worker("use", str(path), item.id, "40") for _ in range(3)]
    for proc in procs:
        _finish(proc)
    try:
        assert store.get(item.id).counters.uses == 120
    finally:
        store.close()


def test_a_new_database_opened_by_several_processes_at_once_is_migrated_once(tmp_path: Path) -> None:
    path = tmp_path / "race.db"
    procs = [_worker("write", str(path), f"p{n}", "3") for n in range(3)]
    for proc in procs:
        _finish(proc)
    with sqlite3.connect(path) as conn:
        assert [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY version")] == list(range(1, sqlite_store.LATEST_SCHEMA + 1))
        assert conn.execute("SELECT COUNT(*) FROM items").fetchone()[0] == 9


# --------------------------------------------------------------------------- import cost


def test_the_builtin_module_does_not_import_pydantic_or_numpy() -> None:
    code = ("import sys, purpose_agent_sqlite.store, purpose_agent.memory.retrieval, "
            "purpose_agent.memory.lifecycle, purpose_agent.memory.transfer, purpose_agent.cli.memory_cmd\n"
            "print('pydantic' in sys.modules, 'numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"  # numpy comes with the first search


def test_threads_search_while_another_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import random
    import threading

    from purpose_agent_sqlite import fts as sqlite_search

    monkeypatch.setattr(sqlite_search, "_STEMS_MAX", 8)  # the shared stem cache is cleared constantly
    words = "cache retry timeout socket parse config token lock queue worker schema index".split()
    store = sqlite_store.SQLiteStore(tmp_path / "threads.db")
    store.add_many(MemoryItem(text=" ".join(random.Random(n).choices(words, k=6)), status=MemoryStatus.PROMOTED)
                   for n in range(200))
    errors: list[BaseException] = []
    done = threading.Event()

    def search(seed: int) -> None:
        rng = random.Random(seed)
        try:
            while not done.is_set():
                query = " ".join(rng.sample(words, 3))
                got = store.search_rows(query, limit=5)
                # writes land between any two reads: check the shape here, agreement once they stop
                assert len(got) == 5 and [g[0] for g in got] == sorted((g[0] for g in got), reverse=True)
        except BaseException as exc:  # reported to the main thread
            errors.append(exc)

    threads = [threading.Thread(target=search, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    try:
        for n in range(100):
            store.add(MemoryItem(text=f"{words[n % len(words)]} written while searching {n}"))
    finally:
        done.set()
        for thread in threads:
            thread.join()
        store.close()
    assert not errors, errors[0]
    with sqlite_store.SQLiteStore(tmp_path / "threads.db") as reopened:
        assert reopened.integrity_check() == "ok"
        for query in ("cache retry", "socket written while", "queue worker schema"):
            _agrees_with_fts5(reopened, query, 10)
