"""Memory found by meaning in PostgreSQL: vectors in the items' rows, searched in each process,
fused with the lexical ranking by reciprocal rank (the SQLite store's hybrid, on a real server).
The tests that go through the kernel's configuration use whichever search the server allows
(pgvector when it has the extension).

Plumbing (fusion, filters, refresh across stores, text changes, model changes, configuration) uses
HashingEmbedder; the test about meaning uses the real all-MiniLM-L6-v2 embedder through the kernel.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import purpose_agent_postgres
from purpose_agent.errors import PluginError, UnknownComponentError
from purpose_agent.models import MemoryStatus
from purpose_agent.store_kit import RRF_K
from purpose_agent.testing import HashingEmbedder, make_kernel, plugin
from purpose_agent.testing.memory_corpus import DISTRACTORS, PIN, promoted
from purpose_agent_postgres import PostgresError


def embedder_plugin(embedder: Any) -> Any:
    return plugin("emb", register_embedders=lambda register: register("emb", lambda context: embedder))


@pytest.fixture
def open_store(kernel: Any, options: dict[str, Any]) -> Iterator[Any]:
    """``open_store(**more)``: a store on the test's schema searching its vectors in this process
    (the pgvector path has test_postgres_pgvector.py); every one opened is closed at the end."""
    opened: list[Any] = []

    def build(**more: Any) -> Any:
        store = kernel.memory_store("postgres", **{**options, "pgvector": False, **more})
        opened.append(store)
        return store

    yield build
    for store in opened:
        store.close()


def test_hybrid_ranks_fuse_words_and_vectors(open_store: Any) -> None:
    # both floors off: every candidate of either ranking takes part
    store = open_store(embedder=HashingEmbedder(), min_similarity=-1.0, lexical_floor=0.0)
    store.add_many([promoted(t) for t in DISTRACTORS])
    query = "explicit timeout for requests"
    lexical = [row[0] for _, row in store.lexical_rows(query, limit=50)]
    dense = [seq for seq, _ in store.dense_rows(query, limit=50)]
    assert lexical and len(dense) == len(DISTRACTORS)
    rows = store.search_rows(query, limit=50)
    assert len(rows) == len(set(lexical) | set(dense))
    seq_of = {text: seq for seq, text in _seqs_and_texts(store)}
    for score, row in rows:
        seq = seq_of[row[3]]
        ranks = [ranking.index(seq) + 1 for ranking in (lexical, dense) if seq in ranking]
        assert score == pytest.approx(sum(1 / (RRF_K + r) for r in ranks))
    assert [s for s, _ in rows] == sorted((s for s, _ in rows), reverse=True)
    default_floors = open_store(embedder=HashingEmbedder())
    assert 0 < len(default_floors.search_rows(query, limit=50)) < len(rows)


def _seqs_and_texts(store: Any) -> list[tuple[int, str]]:
    with store._transaction() as conn:
        return conn.execute(f"SELECT seq, text FROM {store.schema}.items").fetchall()


def test_other_workers_writes_are_seen_by_meaning(open_store: Any) -> None:
    """Two store objects stand for two workers: one's new item, changed text and changed status
    reach the other's in-memory vectors on its next search, which reads only the changed rows."""
    searcher = open_store(embedder=HashingEmbedder(), lexical_floor=2.0)
    writer = open_store(embedder=HashingEmbedder())
    writer.add_many([promoted(t) for t in DISTRACTORS])
    assert searcher.search("lockfile pin dependency versions", limit=1) == []
    assert searcher.dense_index().size == len(DISTRACTORS)
    item = writer.add(promoted(PIN))
    assert [s.item.text for s in searcher.search("lockfile pin dependency versions", limit=1)] == [PIN]
    assert searcher.dense_index().size == len(DISTRACTORS) + 1
    # a new text clears the row's vector; the next search embeds the new one and forgets the old
    writer.update(item.model_copy(update={"text": "Vendor third-party wheels in the repository."}))
    with writer._transaction() as conn:
        assert conn.execute(f"SELECT vector FROM {writer.schema}.items WHERE id = %s", (item.id,)).fetchone()[0] is None
    hits = searcher.search("lockfile pin dependency versions", limit=3)
    assert PIN not in [h.item.text for h in hits]
    assert [h.item.text for h in searcher.search("vendor third-party wheels", limit=1)] == [
        "Vendor third-party wheels in the repository."]
    # counters and status do not touch the vector; the status filter still applies in SQL
    writer.record_use(item.id, helpful=True)
    current = writer.get(item.id)
    writer.update(current.model_copy(update={"status": MemoryStatus.ARCHIVED, "status_reason": "superseded"}))
    vendor = "Vendor third-party wheels in the repository."
    assert vendor in [h.item.text for h in searcher.search("vendor third-party wheels", limit=5)]
    assert vendor not in [h.item.text for h in searcher.search("vendor third-party wheels", limit=5,
                                                                status=MemoryStatus.PROMOTED)]
    assert searcher.dense_index().size == len(DISTRACTORS) + 1


def test_a_changed_model_re_embeds_the_rows(open_store: Any) -> None:
    first = open_store(embedder=HashingEmbedder())
    first.add_many([promoted(t) for t in DISTRACTORS])
    first.search("timeout", limit=1)
    other = HashingEmbedder(dimension=128, salt="other model")
    second = open_store(embedder=other)
    assert second.search("explicit timeout on requests", limit=1)[0].item.text == DISTRACTORS[7]
    assert second.dense_index().size == len(DISTRACTORS)
    with second._transaction() as conn:
        models = conn.execute(f"SELECT DISTINCT vector_model FROM {second.schema}.items").fetchall()
    assert models == [(other.model_id,)]
    assert f"{other.model_id}, {len(DISTRACTORS)} of {len(DISTRACTORS)} items embedded" in second.retrieval()["dense"]
    # the first store's vectors are of the old model: its next look drops them and re-embeds
    assert first.dense_index().size == len(DISTRACTORS)


def test_the_semantic_setting_chooses_the_search(options: dict[str, Any]) -> None:
    embedder = HashingEmbedder()
    with_one = make_kernel({"postgres": purpose_agent_postgres, "emb": embedder_plugin(embedder)},
                           config={"runtime": {"embedding_cache": False}})
    stores: list[Any] = []
    try:
        stores.append(auto := with_one.memory_store("postgres", **options))
        assert auto.embedder is not None and auto.embedder.model_id == embedder.model_id
        assert "vectors in the items' rows" in auto.retrieval()["dense"]
        stores.append(off := with_one.memory_store("postgres", **options, semantic=False))
        assert off.embedder is None and off.retrieval()["dense"].startswith("not used: words only")
        configured_off = make_kernel({"postgres": purpose_agent_postgres, "emb": embedder_plugin(embedder)},
                                     config={"plugins": {"postgres": {"semantic": False}}})
        stores.append(store := configured_off.memory_store("postgres", **options))
        assert store.embedder is None
        without = make_kernel({"postgres": purpose_agent_postgres})
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no embedder installed is normal: no warning
            stores.append(lexical := without.memory_store("postgres", **options))
            lexical.add(promoted(DISTRACTORS[0]))
            assert [s.item.text for s in lexical.search("network backoff")] == [DISTRACTORS[0]]
            assert lexical.embedder is None
            assert "no embedder" in lexical.retrieval()["dense"]
        with pytest.raises(UnknownComponentError, match="no embedder is installed"):
            without.memory_store("postgres", **options, semantic=True)
        with pytest.raises(PostgresError, match="semantic = 'maybe' for the postgres memory store is not one of"):
            without.memory_store("postgres", **options, semantic="maybe")
        with pytest.raises(PostgresError, match="unknown option.*lexical_flor.*it takes .*lexical_floor"):
            without.memory_store("postgres", **options, lexical_flor=0.3)
        with pytest.raises(PostgresError, match="unknown option.*semantic.*for the postgres checkpointer"):
            without.checkpointer("postgres", **options, semantic=False)
    finally:
        for opened in stores:
            opened.close()


class FailingEmbedder(HashingEmbedder):
    """Builds fine, fails on use: like a model whose weights cannot be read."""

    def embed(self, texts: Any) -> Any:
        raise PluginError("the model weights cannot be read")


def test_an_embedder_found_by_auto_that_fails_falls_back_to_words(options: dict[str, Any]) -> None:
    kernel = make_kernel({"postgres": purpose_agent_postgres, "emb": embedder_plugin(FailingEmbedder())},
                         config={"runtime": {"embedding_cache": False}})
    store = kernel.memory_store("postgres", **options)
    try:
        store.add(promoted(DISTRACTORS[0]))
        with pytest.warns(RuntimeWarning, match="words only.*weights cannot be read"):
            found = store.search("network backoff")
        assert [s.item.text for s in found] == [DISTRACTORS[0]]
        assert store.embedder is None
    finally:
        store.close()


@pytest.mark.slow
def test_a_lesson_is_found_by_meaning_for_a_task_worded_differently(options: dict[str, Any], tmp_path: Path) -> None:
    """The real all-MiniLM-L6-v2 through the kernel: no shared word, found by meaning."""
    minilm = pytest.importorskip("purpose_agent_minilm")
    from purpose_agent.learning.learner import Learner
    from purpose_agent.memory.retrieval import RunScope, retrieve
    from purpose_agent.testing import ScriptedBackend

    kernel = make_kernel({"postgres": purpose_agent_postgres, "minilm": minilm},
                         config={"runtime": {"embedding_cache": str(tmp_path / "v.sqlite")}})
    store = kernel.memory_store("postgres", **options)
    try:
        store.add_many([promoted(PIN), *(promoted(t) for t in DISTRACTORS)])
        task = "How do I make installs reproducible?"
        assert store.lexical_rows(task, limit=10) == [], "no shared word: the words cannot find it"
        assert "all-MiniLM-L6-v2" in store.retrieval()["dense"]
        assert [s.item.text for s in store.search(task, limit=1)] == [PIN]
        assert [r.item.text for r in retrieve(store, task, scope=RunScope(purpose="build"))][:1] == [PIN]
        learner = Learner(kernel, store, ScriptedBackend([]), purpose="build")
        assert learner.retrieve(task)[0].text == PIN
        # unrelated tasks do not drag it in: cosine below the floor keeps it out
        assert PIN not in [i.text for i in learner.retrieve("Escape the HTML of user comments")]
    finally:
        store.close()


def test_a_version_1_schema_is_migrated_and_its_items_found_by_meaning(
        kernel: Any, options: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from purpose_agent_postgres import schema

    with monkeypatch.context() as old_code:  # the plugin as it was before schema v2
        old_code.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:1])
        old_code.setattr(schema, "LATEST_SCHEMA", 1)
        old = kernel.memory_store("postgres", **options)
        old.add_many([promoted(t) for t in DISTRACTORS])
        assert old.schema_version() == 1
        old.close()
    store = kernel.memory_store("postgres", **options, embedder=HashingEmbedder(), lexical_floor=2.0)
    try:
        assert store.schema_version() == schema.LATEST_SCHEMA == 2
        assert store.search("explicit timeout on every request", limit=1)[0].item.text == DISTRACTORS[7]
        assert store.integrity_check() == "ok"
    finally:
        store.close()
