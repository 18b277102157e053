"""Memory found by meaning: SQLiteStore's hybrid search (BM25 + embeddings, fused by rank).

Plumbing (filters, lazy embedding, model change, configuration) uses HashingEmbedder; the test
about meaning uses the real all-MiniLM-L6-v2 embedder through the kernel and the learner.
"""

from __future__ import annotations

import sqlite3
import warnings
from pathlib import Path
from typing import Any

import pytest

from purpose_agent.errors import UnknownComponentError
from purpose_agent.learning.learner import Learner
from purpose_agent.memory.errors import MemoryStoreError
from purpose_agent.memory.retrieval import RunScope, retrieve
from purpose_agent.models import MemoryStatus, Scope
from purpose_agent.store_kit import RRF_K
from purpose_agent.testing import HashingEmbedder, ScriptedBackend, make_kernel, plugin
from purpose_agent.testing.memory_corpus import DISTRACTORS, PIN, promoted
from purpose_agent_sqlite.store import SQLiteStore


def test_hybrid_ranks_fuse_words_and_vectors(tmp_path: Path) -> None:
    # both floors off: every candidate of either ranking takes part
    with SQLiteStore(tmp_path / "m.db", embedder=HashingEmbedder(), min_similarity=-1.0, lexical_floor=0.0) as store:
        store.add_many([promoted(t) for t in DISTRACTORS])
        lexical = [row[0] for _, row in store.lexical_rows("explicit timeout for requests", limit=50, with_seq=True)]
        dense = [seq for seq, _ in store.dense_rows("explicit timeout for requests", limit=50)]
        rows = store.search_rows("explicit timeout for requests", limit=50)
        assert rows and len(rows) == len(set(lexical) | set(dense))
        by_text = {row[3]: score for score, row in rows}
        seq_of = {text: seq for seq, text in store._conn().execute("SELECT seq, text FROM items")}
        for text, score in by_text.items():
            ranks = [ranking.index(seq_of[text]) + 1 for ranking in (lexical, dense) if seq_of[text] in ranking]
            assert score == pytest.approx(sum(1 / (RRF_K + r) for r in ranks))
        assert [s for s, _ in rows] == sorted((s for s, _ in rows), reverse=True)
    with SQLiteStore(tmp_path / "m.db", embedder=HashingEmbedder()) as store:  # the default floors
        kept = store.search_rows("explicit timeout for requests", limit=50)
        assert 0 < len(kept) < len(rows)


def test_items_are_embedded_lazily_once_and_writes_are_seen(tmp_path: Path) -> None:
    embedder = HashingEmbedder()
    path = tmp_path / "m.db"
    with SQLiteStore(path, embedder=embedder) as store, SQLiteStore(path, embedder=HashingEmbedder()) as other:
        store.add_many([promoted(t) for t in DISTRACTORS])
        assert embedder.calls == [], "adding does not embed"
        store.search("timeout", limit=3)
        assert sum(embedder.calls) == len(DISTRACTORS) + 1  # every item once, then the query
        store.search("backoff", limit=3)
        assert sum(embedder.calls) == len(DISTRACTORS) + 2, "vectors are loaded, not embedded again"
        added = other.add(promoted("Cache compiled regular expressions at module level."))
        assert store.search("compiled regular expressions", limit=1)[0].item.id == added.id
        assert sum(embedder.calls) == len(DISTRACTORS) + 2 + 2  # the new item, then the query
        current = other.get(added.id)
        other.update(current.model_copy(update={"status": MemoryStatus.ARCHIVED}))
        assert [s.item.id for s in store.search("compiled regular expressions", limit=3,
                                                status=MemoryStatus.PROMOTED)] != [added.id]
        assert store.integrity_check() == "ok"


def test_a_changed_model_re_embeds_and_drops_the_old_vectors(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    with SQLiteStore(path, embedder=HashingEmbedder(salt="old")) as store:
        store.add_many([promoted(t) for t in DISTRACTORS])
        store.search("timeout", limit=3)
    new = HashingEmbedder(salt="new")
    with SQLiteStore(path, embedder=new) as store:
        assert store.search("explicit timeout HTTP request", limit=1)[0].item.text == DISTRACTORS[7]
        assert sum(new.calls) == len(DISTRACTORS) + 1
    with sqlite3.connect(path) as conn:
        assert [row[0] for row in conn.execute("SELECT DISTINCT model_id FROM item_vectors")] == [new.model_id]


def test_without_an_embedder_search_is_bm25_as_before(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "m.db") as store:
        store.add_many([promoted(t) for t in DISTRACTORS])
        assert store.embedder is None and store.dense_rows("timeout") == []
        rows = store.search_rows("explicit timeout", limit=5)
        assert rows == store.lexical_rows("explicit timeout", limit=5)
        assert [r[1][3] for r in rows] == [r[1][3] for r in store.fts5_rows("explicit timeout", limit=5)]


def embedder_plugin(embedder: Any) -> Any:
    return plugin("emb", register_embedders=lambda register: register("emb", lambda context: embedder))


def test_the_semantic_setting_chooses_the_search(tmp_path: Path) -> None:
    embedder = HashingEmbedder()
    with_one = make_kernel(embedder_plugin(embedder), builtins=True, config={"runtime": {"embedding_cache": False}})
    auto: Any = with_one.memory_store("sqlite", path=str(tmp_path / "a.db"))
    assert auto.embedder is not None and auto.embedder.model_id == embedder.model_id
    off: Any = with_one.memory_store("sqlite", path=str(tmp_path / "b.db"), semantic=False)
    assert off.embedder is None
    configured_off = make_kernel(embedder_plugin(embedder), builtins=True, config={"memory": {"semantic": False}})
    assert configured_off.memory_store("sqlite", path=str(tmp_path / "c.db")).embedder is None
    without = make_kernel(builtins=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no embedder installed is normal: no warning
        lexical: Any = without.memory_store("sqlite", path=str(tmp_path / "d.db"))
        lexical.add(promoted(DISTRACTORS[0]))
        assert [s.item.text for s in lexical.search("network backoff")] == [DISTRACTORS[0]]
        assert lexical.embedder is None
    with pytest.raises(UnknownComponentError, match="no embedder is installed"):
        without.memory_store("sqlite", path=str(tmp_path / "e.db"), semantic=True)
    with pytest.raises(MemoryStoreError, match="semantic = 'maybe' is not one of"):
        without.memory_store("sqlite", path=str(tmp_path / "f.db"), semantic="maybe")
    for store in (auto, off, lexical):
        store.close()


@pytest.fixture(scope="module")
def minilm() -> Any:
    module = pytest.importorskip("purpose_agent_minilm")
    return module


@pytest.mark.slow
def test_a_lesson_is_found_by_meaning_for_a_task_worded_differently(tmp_path: Path, minilm: Any) -> None:
    kernel = make_kernel(minilm, builtins=True, config={"runtime": {"embedding_cache": str(tmp_path / "v.sqlite")}})
    store: Any = kernel.memory_store("sqlite", path=str(tmp_path / "m.db"))
    try:
        store.add_many([promoted(PIN), *(promoted(t) for t in DISTRACTORS)])
        task = "How do I make installs reproducible?"
        assert store.lexical_rows(task, limit=10) == [], "no shared word: BM25 cannot find it"
        assert [s.item.text for s in store.search(task, limit=1)] == [PIN]
        assert [r.item.text for r in retrieve(store, task, scope=RunScope(purpose="build"))][:1] == [PIN]
        learner = Learner(kernel, store, ScriptedBackend([]), purpose="build")
        assert learner.retrieve(task)[:1] == [store.get(learner.retrieve(task)[0].id)]
        assert learner.retrieve(task)[0].text == PIN
        # unrelated tasks do not drag it in: cosine below the floor keeps it out
        assert PIN not in [i.text for i in learner.retrieve("Escape the HTML of user comments")]
    finally:
        store.close()


def test_filters_hold_when_the_nearest_vectors_are_approximate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from purpose_agent_sqlite import vector_search

    words = "queue cache socket parser schema token worker index bucket ledger".split()
    items = [promoted(f"{words[n % 10]} {words[(n * 3) % 10]} note {n}",
                      status=MemoryStatus.PROMOTED if n % 3 else MemoryStatus.CANDIDATE,
                      scope=Scope() if n % 5 else Scope(level="agent", value=f"a{n % 2}")) for n in range(400)]
    results = {}
    for exact_below in (10**9, 50):
        monkeypatch.setattr(vector_search, "EXACT_BELOW", exact_below)
        with SQLiteStore(tmp_path / f"m{exact_below}.db", embedder=HashingEmbedder()) as store:
            store.add_many(items)
            rows = store.dense_rows("queue cache note", limit=20, status=MemoryStatus.PROMOTED, scopes=[("agent", "a0")])
            assert store._dense.vectors.approximate == (exact_below == 50)
            by_seq = {seq: store._conn().execute("SELECT status, scope FROM items WHERE seq = ?", (seq,)).fetchone()
                      for seq, _ in rows}
            assert len(rows) == 20
            assert all(status == "promoted" and ('"global"' in scope or '"a0"' in scope) for status, scope in by_seq.values())
            results[exact_below] = [round(cosine, 5) for _, cosine in rows]
    # the approximate scores are exact cosines; it may miss a few rows, never rank a worse one first
    assert results[50] == sorted(results[50], reverse=True)
    assert sum(score >= results[10**9][-1] for score in results[50]) >= 18


class FailingEmbedder(HashingEmbedder):
    """Builds fine, fails on use: like a model whose weights cannot be read."""

    def embed(self, texts: Any) -> Any:
        from purpose_agent.errors import PluginError

        raise PluginError("the model weights cannot be read")


def test_an_embedder_found_by_auto_that_fails_falls_back_to_words(tmp_path: Path) -> None:
    kernel = make_kernel(embedder_plugin(FailingEmbedder()), builtins=True,
                         config={"runtime": {"embedding_cache": False}})
    auto: Any = kernel.memory_store("sqlite", path=str(tmp_path / "auto.db"))
    auto.add(promoted(DISTRACTORS[0]))
    with pytest.warns(RuntimeWarning, match="words only.*weights cannot be read"):
        found = auto.search("network backoff")
    assert [s.item.text for s in found] == [DISTRACTORS[0]]
    assert auto.embedder is None
    auto.close()
    with SQLiteStore(tmp_path / "given.db", embedder=FailingEmbedder()) as given:  # asked for: no fallback
        given.add(promoted(DISTRACTORS[0]))
        from purpose_agent.errors import PluginError

        with pytest.raises(PluginError, match="weights cannot be read"):
            given.search("network backoff")


class BrokenEmbedder(HashingEmbedder):
    """Embeds nothing: what a model whose files went missing does."""

    def embed(self, texts: Any) -> Any:
        raise RuntimeError("the model files are gone")


def test_an_optional_embedder_that_fails_leaves_search_by_words_said_once(tmp_path: Path) -> None:
    # semantic = "auto" hands the store a function finding the embedder: it is optional
    with SQLiteStore(tmp_path / "m.db", embedder=lambda: BrokenEmbedder()) as store:
        store.add_many([promoted(t) for t in DISTRACTORS])
        with pytest.warns(RuntimeWarning, match="searched by words only from now on.*the model files are gone"):
            found = store.search("explicit timeout for requests", limit=3)
        assert found and store.embedder is None
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert [s.item.text for s in store.search("explicit timeout for requests", limit=3)] == \
                [s.item.text for s in found]
        by_words = [row[3] for _, row in store.lexical_rows("explicit timeout for requests", limit=3)]
        assert [s.item.text for s in found] == by_words


def test_an_embedder_given_by_the_caller_that_fails_is_the_callers_error(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "m.db", embedder=BrokenEmbedder()) as store:
        store.add_many([promoted(t) for t in DISTRACTORS])
        with pytest.raises(RuntimeError, match="the model files are gone"):
            store.search("explicit timeout for requests", limit=3)
