"""The PostgreSQL store's memory model beyond the conformance suite: retrieval, counters, the
three-way merge of update(), rollback, dedup, migrations and the integrity check. (A real team run
on it, learning and then using a lesson, is the conformance suite's learning scenario:
test_postgres_conformance.py.)"""

from __future__ import annotations

import io
import json
from typing import Any

import psycopg
import pytest

import purpose_agent as pa
from purpose_agent.memory.retrieval import RetrievalPolicy, RunScope, retrieve
from purpose_agent.memory.transfer import export_jsonl, import_records, read_jsonl
from purpose_agent.memory.usefulness import DEFAULT_POLICY
from purpose_agent.models import Counters, MemoryItem, MemoryStatus, Scope
from purpose_agent_postgres.schema import LATEST_SCHEMA
from purpose_agent_postgres.store import DEFAULT_POLICY as PLUGIN_DEFAULT_POLICY


def sql(options: dict[str, Any], statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Run one statement on the test server directly (as an operator would with psql)."""
    import os

    with psycopg.connect(options["dsn"], password=os.environ[options["password_env"]], autocommit=True) as conn:
        cursor = conn.execute(statement.replace("{s}", options["schema"]), params)
        return cursor.fetchall() if cursor.description else []


# --------------------------------------------------------------------------- retrieval


def test_search_stems_like_the_sqlite_store_and_weighs_text_over_tags(store: Any) -> None:
    installs = store.add(MemoryItem(text="The installer installs packages into the virtual environment."))
    tagged = store.add(MemoryItem(text="Pin the versions of every dependency.", tags=["install"]))
    store.add(MemoryItem(text="Dates are parsed with dateutil."))
    results = store.search("how to install", limit=5)
    assert [r.item.id for r in results] == [installs.id, tagged.id]
    assert results[0].score > results[1].score > 0


def test_user_text_cannot_break_the_query(store: Any) -> None:
    target = store.add(MemoryItem(text="Quote paths with spaces in shell commands."))
    for query in ['"unbalanced quote paths', "paths -spaces or OR & | ! ( ) :*", "paths'; DROP TABLE items; --", "\x00paths"]:
        assert [r.item.id for r in store.search(query)] == [target.id], query
    assert store.search("the and of") == []  # only stopwords: nothing to match
    assert store.search("") == []


def test_search_filters_status_and_scope_in_sql(store: Any) -> None:
    text = "Retry network calls with exponential backoff."
    mine = store.add(MemoryItem(text=text, status=MemoryStatus.PROMOTED, scope=Scope(level="purpose", value="ops")))
    glob = store.add(MemoryItem(text=text + " Always.", status=MemoryStatus.PROMOTED))
    store.add(MemoryItem(text=text + " Really.", status=MemoryStatus.PROMOTED, scope=Scope(level="purpose", value="other")))
    store.add(MemoryItem(text=text + " Maybe."))  # a candidate
    found = store.search_candidates("retry network backoff", limit=10, status=MemoryStatus.PROMOTED,
                                    scopes=[("purpose", "ops")])
    assert {c.id for c in found} == {mine.id, glob.id}
    assert all(c.status == "promoted" and c.uses == 0 for c in found)


def test_the_kernels_retrieval_runs_on_it(store: Any) -> None:
    lesson = store.add(MemoryItem(text="Run the unit tests before answering.", status=MemoryStatus.PROMOTED,
                                  scope=Scope(level="purpose", value="coding")))
    store.add(MemoryItem(text="Use the calendar for meetings.", status=MemoryStatus.PROMOTED))
    chosen = retrieve(store, "which unit tests should run", scope=RunScope(purpose="coding"), policy=RetrievalPolicy())
    assert [r.item.id for r in chosen] == [lesson.id]
    assert retrieve(store, "which unit tests should run", scope=RunScope(purpose="cooking")) == []


def test_text_postgresql_cannot_hold_is_refused_with_a_sentence(store: Any) -> None:
    item = store.add(MemoryItem(text="clean text"))
    for write in (lambda: store.add(MemoryItem(text="nul \x00 inside")),
                  lambda: store.update(item.model_copy(update={"text": "nul \x00 inside"}))):
        with pytest.raises(pa.PurposeAgentError, match="nothing was written: PostgreSQL refused a value .*NUL"):
            write()
    assert store.get(item.id).text == "clean text" and len(store.list()) == 1


# --------------------------------------------------------------------------- counters and the merge


def test_the_store_shares_the_kernels_ranking_rules_instead_of_copies() -> None:
    # It once kept copies of the usefulness policy, the query words and the fusion, held equal by
    # tests; the kernel's store_kit, offered to plugins through purpose_agent.interfaces, now gives
    # every store the kernel's own.
    from purpose_agent import store_kit
    from purpose_agent_postgres import store as postgres_store

    assert PLUGIN_DEFAULT_POLICY is DEFAULT_POLICY
    assert postgres_store.query_terms is store_kit.query_terms
    assert postgres_store.reciprocal_rank_fusion is store_kit.reciprocal_rank_fusion
    assert postgres_store.canonical_json is store_kit.canonical_json


def test_record_use_counts_and_writes_no_version(store: Any) -> None:
    item = store.add(MemoryItem(text="Check the return code."))
    store.record_use(item.id, True, policy=DEFAULT_POLICY)
    store.record_use(item.id, False)
    used = store.record_use(item.id, None)
    assert used.counters == Counters(uses=3, helpful=1, harmful=1) and used.version == 1
    assert store.get(item.id).counters == used.counters and len(store.history(item.id)) == 1
    with pytest.raises(KeyError, match="does not exist"):
        store.record_use("no-such-id", True)


def test_a_status_change_from_a_stale_read_keeps_the_uses_recorded_meanwhile(store: Any) -> None:
    read = store.add(MemoryItem(text="Log the request id.", status=MemoryStatus.QUARANTINED))
    for _ in range(3):
        store.record_use(read.id, True)  # another worker, while this one was replaying
    promoted = store.update(read.model_copy(update={"status": MemoryStatus.PROMOTED, "status_reason": "gain"}))
    assert promoted.status == MemoryStatus.PROMOTED and promoted.counters.uses == 3 and promoted.version == 2


def test_a_counter_increment_from_a_stale_read_adds_to_the_uses_recorded_meanwhile(store: Any) -> None:
    # Learner.credit reads an item and writes it back with counters + 1.
    read = store.add(MemoryItem(text="Log the request id."))
    store.record_use(read.id, True)
    credited = read.model_copy(update={"counters": Counters(uses=1, helpful=1)})
    assert store.update(credited).counters == Counters(uses=2, helpful=2)


def test_the_first_decision_stands_when_two_workers_decide_the_same_item(store: Any) -> None:
    read = store.add(MemoryItem(text="Cache the token.", status=MemoryStatus.QUARANTINED))
    first = store.update(read.model_copy(update={"status": MemoryStatus.PROMOTED, "status_reason": "worker A"}))
    second = store.update(read.model_copy(update={"status": MemoryStatus.REJECTED, "status_reason": "worker B"}))
    assert second.status == MemoryStatus.PROMOTED and second.status_reason == "worker A"
    assert second.version == first.version == 2 and len(store.history(read.id)) == 2  # nothing written for B
    # A field only the stale writer changed still applies, without undoing the decision.
    tagged = store.update(read.model_copy(update={"tags": ["checked"]}))
    assert tagged.tags == ["checked"] and tagged.status == MemoryStatus.PROMOTED and tagged.version == 3


def test_rollback_restores_content_under_the_lock_and_keeps_counters(store: Any) -> None:
    item = store.add(MemoryItem(text="first wording"))
    store.update(item.model_copy(update={"text": "second wording", "status": MemoryStatus.QUARANTINED}))
    store.record_use(item.id, True)
    back = store.rollback(item.id, 1, reason="the new wording regressed")
    assert (back.text, back.status, back.version, back.counters.uses) == ("first wording", MemoryStatus.CANDIDATE, 3, 1)
    assert back.status_reason == "rolled back to version 1: the new wording regressed"
    assert [v.text for v in store.history(item.id)] == ["first wording", "second wording", "first wording"]
    assert store.search("first wording")[0].item.id == item.id and store.search("second") == []
    with pytest.raises(KeyError, match="has no version 9; it has versions 1, 2, 3"):
        store.rollback(item.id, 9)
    with pytest.raises(ValueError, match="already the current version"):
        store.rollback(item.id, 3)


def test_an_identical_lesson_is_stored_once_while_it_is_live(store: Any) -> None:
    first = store.add(MemoryItem(text="Close files with a context manager."))
    again = store.add(MemoryItem(text="close files  with a CONTEXT manager."))
    assert again.id == first.id and len(store.list()) == 1
    store.update(first.model_copy(update={"status": MemoryStatus.REJECTED, "status_reason": "wrong"}))
    anew = store.add(MemoryItem(text="Close files with a context manager."))
    assert anew.id != first.id and len(store.list()) == 2


def test_dedup_can_be_switched_off(kernel: Any, options: dict[str, Any]) -> None:
    store = kernel.memory_store("postgres", **options, dedup=False)
    try:
        store.add(MemoryItem(text="Same text."))
        store.add(MemoryItem(text="Same text."))
        assert len(store.find_by_hash(MemoryItem(text="Same text.").content_hash)) == 2
    finally:
        store.close()


# --------------------------------------------------------------------------- schema and integrity


def test_history_is_append_only_in_the_database(store: Any, options: dict[str, Any]) -> None:
    item = store.add(MemoryItem(text="Keep history."))
    with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
        sql(options, "UPDATE {s}.item_versions SET data = '{}' WHERE item_id = %s", (item.id,))
    with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
        sql(options, "DELETE FROM {s}.item_versions WHERE item_id = %s", (item.id,))


def test_migrations_are_recorded_once_and_a_newer_schema_is_refused(kernel: Any, store: Any,
                                                                    options: dict[str, Any]) -> None:
    assert store.schema_version() == LATEST_SCHEMA
    kernel.memory_store("postgres", **options).close()  # opening again applies nothing
    assert sql(options, "SELECT version FROM {s}.schema_version") == [(v,) for v in range(1, LATEST_SCHEMA + 1)]
    sql(options, "INSERT INTO {s}.schema_version VALUES (%s, 0)", (LATEST_SCHEMA + 1,))
    with pytest.raises(pa.PurposeAgentError, match=f"has version {LATEST_SCHEMA + 1}, newer than.*upgrade"):
        kernel.memory_store("postgres", **options)


def test_workers_opening_a_new_schema_at_once_migrate_it_once(kernel: Any, options: dict[str, Any]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(6) as pool:
        stores = list(pool.map(lambda _: kernel.memory_store("postgres", **options), range(6)))
    for store in stores:
        store.close()
    assert sql(options, "SELECT version FROM {s}.schema_version") == [(v,) for v in range(1, LATEST_SCHEMA + 1)]


def test_a_read_older_than_the_marks_merges_counters_by_the_larger_value(store: Any, options: dict[str, Any]) -> None:
    from purpose_agent_postgres.store import MARK_RETENTION_S

    old = store.add(MemoryItem(text="An old lesson.", updated_at=1.0e9))
    store.record_use(old.id, True, now=1.0e9 + MARK_RETENTION_S + 10)  # forgets the mark of the add
    assert sql(options, "SELECT stamp FROM {s}.counter_marks WHERE item_id = %s", (old.id,)) == [
        (1.0e9 + MARK_RETENTION_S + 10,)]
    stale = store.update(old.model_copy(update={"status": MemoryStatus.QUARANTINED}))
    assert stale.counters == Counters(uses=1, helpful=1) and stale.status == MemoryStatus.QUARANTINED


def test_the_integrity_check_finds_what_it_promises(store: Any, options: dict[str, Any]) -> None:
    a = store.add(MemoryItem(text="alpha lesson"))
    b = store.add(MemoryItem(text="beta lesson"))
    store.update(b.model_copy(update={"text": "beta lesson, reworded"}))
    assert store.integrity_check() == "ok"
    sql(options, "UPDATE {s}.items SET tsv = to_tsvector('english', 'other') WHERE id = %s", (a.id,))
    sql(options, "UPDATE {s}.items SET version = 3, status = 'promoted' WHERE id = %s", (b.id,))
    report = store.integrity_check()
    assert f"search vector out of date for {a.id}" in report
    assert f"history is not versions 1..current for {b.id}" in report


def test_export_and_import_through_the_kernels_transfer(kernel: Any, store: Any, options: dict[str, Any]) -> None:
    item = store.add(MemoryItem(text="Export me.", tags=["x"]))
    store.update(item.model_copy(update={"status": MemoryStatus.QUARANTINED}))
    store.record_use(item.id, True)
    exported = io.StringIO()
    export_jsonl(store, exported)
    other = kernel.memory_store("postgres", **{**options, "schema": options["schema"] + "_copy"})
    try:
        import_records(other, read_jsonl(io.StringIO(exported.getvalue()), source="export"))
        again = io.StringIO()
        export_jsonl(other, again)
        assert again.getvalue() == exported.getvalue()
        assert other.integrity_check() == "ok"
    finally:
        other.close()


def test_stats_say_which_retrieval_is_active(store: Any) -> None:
    store.add(MemoryItem(text="one"))
    stats = store.stats()
    assert stats["items"] == 1 and stats["schema_version"] == LATEST_SCHEMA and stats["server"].startswith("PostgreSQL")
    assert "BM25" in stats["retrieval"]["lexical"]
    assert stats["retrieval"]["pgvector"].startswith(("available", "not installed"))
    json.dumps(stats)
