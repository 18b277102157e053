"""The hybrid retrieval engine (purpose_agent_sqlite.search_index): real SQLite files, real processes.

Plumbing uses purpose_agent.testing.HashingEmbedder (shared words, not meaning); the test that
is about meaning uses the real all-MiniLM-L6-v2 embedder (test_search_index_meaning.py).
"""

from __future__ import annotations

import inspect
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from purpose_agent.testing import HashingEmbedder
from purpose_agent_sqlite import vector_search
from purpose_agent_sqlite.search_index import (
    RRF_K,
    IndexedText,
    SearchHit,
    SearchIndex,
    SearchIndexError,
    reciprocal_rank_fusion,
)

TEXTS = [
    IndexedText("refunds", "Refunds are paid back to the original card within 14 days.", {"file": "refunds.md", "lines": [1, 4]}),
    IndexedText("shipping", "Parcels ship from Rotterdam; delivery takes three to five working days.", {"file": "shipping.md"}),
    IndexedText("returns", "Return an unused item within 30 days for a refund of its price.", {"file": "refunds.md", "lines": [5, 9]}),
    IndexedText("warranty", "The warranty covers manufacturing defects for two years.", {"file": "warranty.md"}),
    IndexedText("support", "Support answers email within one working day.", {"file": "support.md"}),
]


@pytest.fixture
def index(tmp_path: Path):
    with SearchIndex(tmp_path / "index.db", name="chunks", embedder=HashingEmbedder()) as opened:
        opened.upsert(TEXTS)
        yield opened


def test_upsert_get_len_contains_delete(index: SearchIndex) -> None:
    assert len(index) == 5
    assert "refunds" in index and "nope" not in index and 3 not in index
    assert index.get("refunds") == TEXTS[0]
    assert index.get("nope") is None
    assert index.delete(["refunds", "nope", "refunds"]) == 1
    assert len(index) == 4 and "refunds" not in index
    assert [hit.id for hit in index.search("refund", k=5, mode="lexical")] == ["returns"]
    assert index.delete([]) == 0
    assert index.ids() == ["shipping", "returns", "warranty", "support"]


def test_upsert_replaces_by_id_and_skips_unchanged(tmp_path: Path) -> None:
    embedder = HashingEmbedder()
    with SearchIndex(tmp_path / "index.db", embedder=embedder) as index:
        assert index.upsert(TEXTS) == 5
        assert embedder.calls == [5]  # one batch
        assert index.upsert(TEXTS) == 0  # nothing changed: not embedded, not written
        assert embedder.calls == [5]
        moved = IndexedText("refunds", TEXTS[0].text, {"file": "policies/refunds.md"})
        assert index.upsert([moved]) == 1
        assert embedder.calls == [5], "a metadata change must not re-embed"
        assert index.get("refunds") == moved
        changed = IndexedText("refunds", "Refunds take a fortnight.", {})
        assert index.upsert([changed]) == 1
        assert embedder.calls == [5, 1]
        assert index.get("refunds") == changed
        assert len(index) == 5
        # the old words are gone from the BM25 tables, the new ones are there
        assert "refunds" not in [h.id for h in index.search("original card", k=5, mode="lexical")]
        assert [h.id for h in index.search("fortnight", k=5, mode="lexical")] == ["refunds"]
        # a later entry with the same id wins
        assert index.upsert([IndexedText("x", "first"), IndexedText("x", "second")]) == 1
        assert index.get("x") == IndexedText("x", "second")
        assert index.integrity_check() == "ok"


def test_vectors_are_keyed_by_content_and_dropped_with_their_last_text(tmp_path: Path) -> None:
    path = tmp_path / "index.db"
    embedder = HashingEmbedder()
    with SearchIndex(path, embedder=embedder) as index:
        index.upsert([IndexedText("a", "same words"), IndexedText("b", "same words"), IndexedText("c", "other")])
        assert embedder.calls == [2], "two texts, one distinct: two vectors"
        index.delete(["a"])
        index.upsert([IndexedText("c", "changed")])
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM chunks_vectors").fetchone()[0] == 2  # 'same words', 'changed'


def test_persists_across_reopen_and_names_share_a_file(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    with SearchIndex(path, name="chunks", embedder=HashingEmbedder()) as chunks, \
            SearchIndex(path, name="lessons") as lessons:
        chunks.upsert(TEXTS)
        lessons.upsert([IndexedText("pin", "Always pin dependency versions.")])
    with SearchIndex(path, name="chunks", embedder=HashingEmbedder()) as chunks, \
            SearchIndex(path, name="lessons") as lessons:
        assert len(chunks) == 5 and len(lessons) == 1
        assert [h.id for h in chunks.search("warranty defects", k=1)] == ["warranty"]
        assert lessons.search("warranty defects") == []
        assert [h.id for h in lessons.search("pinned versions", mode="lexical")] == ["pin"]
        assert chunks.integrity_check() == lessons.integrity_check() == "ok"


def test_in_memory_index_works_and_is_gone_when_closed() -> None:
    with SearchIndex(":memory:", embedder=HashingEmbedder()) as index:
        index.upsert(TEXTS)
        assert [h.id for h in index.search("warranty", k=1)] == ["warranty"]
    with SearchIndex(":memory:") as index:
        assert len(index) == 0


def test_lexical_scores_are_bm25_and_dense_scores_cosines(index: SearchIndex) -> None:
    lexical = index.search("refund within days", k=5, mode="lexical")
    assert [h.lexical_rank for h in lexical] == list(range(1, len(lexical) + 1))
    assert all(h.dense_rank is None for h in lexical)
    assert [h.score for h in lexical] == sorted((h.score for h in lexical), reverse=True)
    dense = index.search("refund within days", k=5, mode="dense")
    assert [h.dense_rank for h in dense] == [1, 2, 3, 4, 5]
    import numpy as np

    query = HashingEmbedder().embed(["refund within days"])[0]
    for hit in dense:
        assert hit.score == pytest.approx(float(HashingEmbedder().embed([hit.text])[0] @ query), abs=1e-6)
    assert isinstance(dense[0], SearchHit) and np.isfinite(dense[0].score)


def test_hybrid_is_reciprocal_rank_fusion_of_both_rankings(index: SearchIndex) -> None:
    query = "refund of the price within days"
    lexical = [h.id for h in index.search(query, k=5, mode="lexical")]
    dense = [h.id for h in index.search(query, k=5, mode="dense")]
    hybrid = index.search(query, k=5, mode="hybrid")
    assert {h.id for h in hybrid} == set(lexical) | set(dense)
    for hit in hybrid:
        assert hit.lexical_rank == (lexical.index(hit.id) + 1 if hit.id in lexical else None)
        assert hit.dense_rank == (dense.index(hit.id) + 1 if hit.id in dense else None)
        expected = sum(1 / (RRF_K + r) for r in (hit.lexical_rank, hit.dense_rank) if r is not None)
        assert hit.score == pytest.approx(expected)
    assert [h.score for h in hybrid] == sorted((h.score for h in hybrid), reverse=True)


def test_reciprocal_rank_fusion() -> None:
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["c", "a"]], k=1)
    assert [(key, ranks) for key, _, ranks in fused] == [("a", [1, 2]), ("c", [3, 1]), ("b", [2, None])]
    assert fused[0][1] == pytest.approx(1 / 2 + 1 / 3)
    assert fused[1][1] == pytest.approx(1 / 4 + 1 / 2)
    assert reciprocal_rank_fusion([[], []]) == []


def test_without_an_embedder_hybrid_is_lexical_and_dense_is_refused(tmp_path: Path) -> None:
    with SearchIndex(tmp_path / "index.db") as index:
        index.upsert(TEXTS)
        lexical = index.search("refund days", k=5, mode="lexical")
        hybrid = index.search("refund days", k=5)
        assert [h.id for h in hybrid] == [h.id for h in lexical] and hybrid
        assert all(h.dense_rank is None for h in hybrid)
        assert hybrid[0].score == pytest.approx(1 / (RRF_K + 1))
        with pytest.raises(SearchIndexError, match="dense search needs an embedder.*mode='lexical'"):
            index.search("refund", mode="dense")


def test_texts_indexed_without_an_embedder_are_embedded_on_first_dense_search(tmp_path: Path) -> None:
    path = tmp_path / "index.db"
    with SearchIndex(path) as index:
        index.upsert(TEXTS)
    embedder = HashingEmbedder()
    with SearchIndex(path, embedder=embedder) as index:
        assert embedder.calls == []
        assert index.search("warranty defects", k=1, mode="dense")[0].id == "warranty"
        assert sum(embedder.calls) == 5 + 1  # the five texts, then the query


def test_a_changed_model_re_embeds_lazily_and_drops_the_old_vectors(tmp_path: Path) -> None:
    path = tmp_path / "index.db"
    with SearchIndex(path, embedder=HashingEmbedder(salt="v1")) as index:
        index.upsert(TEXTS)
        index.search("warranty", mode="dense")
    new = HashingEmbedder(salt="v2")
    with SearchIndex(path, embedder=new) as index:
        assert new.calls == [], "opening does not embed"
        assert index.search("warranty defects", k=1, mode="dense")[0].id == "warranty"
        assert sum(new.calls) == 6
        index.search("support email", k=1, mode="dense")
        assert sum(new.calls) == 7, "the vectors are embedded once, then loaded"
    with sqlite3.connect(path) as conn:
        models = [row[0] for row in conn.execute("SELECT DISTINCT model_id FROM chunks_vectors")]
    assert models == [new.model_id]


def test_another_connection_sees_writes(tmp_path: Path) -> None:
    path = tmp_path / "index.db"
    with SearchIndex(path, embedder=HashingEmbedder()) as reader, SearchIndex(path, embedder=HashingEmbedder()) as writer:
        writer.upsert(TEXTS[:2])
        before = {h.id for h in reader.search("warranty defects", mode="dense", k=5)}
        assert "warranty" not in before
        writer.upsert(TEXTS[2:])
        assert reader.search("warranty defects", mode="dense", k=1)[0].id == "warranty"
        writer.delete(["warranty"])
        assert "warranty" not in {h.id for h in reader.search("warranty defects", mode="dense", k=5)}


def test_where_filters_metadata_and_widens_the_rankings(tmp_path: Path) -> None:
    texts = [IndexedText(f"n{n}", f"refund note number {n}", {"file": "noise.md"}) for n in range(200)]
    texts.append(IndexedText("target", "a refund note at the very end", {"file": "wanted.md", "flagged": False}))
    with SearchIndex(tmp_path / "index.db", embedder=HashingEmbedder(), candidates=5) as index:
        index.upsert(texts)
        for mode in ("lexical", "dense", "hybrid"):
            hits = index.search("refund note", k=3, mode=mode, where={"file": "wanted.md"})
            assert [h.id for h in hits] == ["target"], mode
        assert index.search("refund note", where={"flagged": True}) == []
        assert len(index.search("refund note", k=4, where={"file": "noise.md"})) == 4


def test_bad_input_gets_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SearchIndexError, match="letters, digits"):
        SearchIndex(tmp_path / "x.db", name="chunks; DROP TABLE x")
    with pytest.raises(SearchIndexError, match="no embed"):
        SearchIndex(tmp_path / "x.db", embedder=object())
    with SearchIndex(tmp_path / "x.db") as index:
        with pytest.raises(SearchIndexError, match="IndexedText"):
            index.upsert([{"id": "a", "text": "b"}])  # type: ignore[list-item]
        with pytest.raises(SearchIndexError, match="non-empty string"):
            index.upsert([IndexedText("", "text")])
        with pytest.raises(SearchIndexError, match="not a string"):
            index.upsert([IndexedText("a", b"bytes")])  # type: ignore[arg-type]
        with pytest.raises(SearchIndexError, match="JSON"):
            index.upsert([IndexedText("a", "text", {"when": object()})])
        with pytest.raises(SearchIndexError, match="is not one of lexical, dense, hybrid"):
            index.search("x", mode="semantic")
        with pytest.raises(SearchIndexError, match="lone surrogate"):
            index.upsert([IndexedText("ok", "fine text"), IndexedText("bad", "broken \udc80 text")])
        assert len(index) == 0, "nothing was written by a refused call"
        assert index.search("", k=5) == [] and index.search("words", k=0) == []
    with pytest.raises(SearchIndexError, match="closed"):
        index.search("x")
    (tmp_path / "not-sqlite.db").write_text("hello, I am not a database" * 100)
    with pytest.raises(SearchIndexError, match="not a usable search index"):
        SearchIndex(tmp_path / "not-sqlite.db")


def test_approximate_search_is_used_above_the_threshold_and_agrees_with_exact(tmp_path: Path) -> None:
    words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma".split()
    texts = [IndexedText(f"t{n}", " ".join(words[(n * 7 + j * 3) % len(words)] for j in range(n % 5 + 2)) + f" item{n}")
             for n in range(600)]
    with SearchIndex(tmp_path / "a.db", embedder=HashingEmbedder(), exact_below=100) as approximate, \
            SearchIndex(tmp_path / "e.db", embedder=HashingEmbedder(), exact_below=10**9) as exact:
        approximate.upsert(texts)
        exact.upsert(texts)
        agree = 0
        for query in ("alpha beta", "gamma delta epsilon", "pi rho sigma", "item42 kappa"):
            got = approximate.search(query, k=10, mode="dense")
            want = exact.search(query, k=10, mode="dense")
            assert [h.score for h in got] == sorted((h.score for h in got), reverse=True)
            # hashed bags of words tie often: a hit counts when it scores as well as the exact 10th
            agree += sum(h.score >= want[-1].score - 1e-6 for h in got)
        assert approximate._vector_set().approximate and not exact._vector_set().approximate
        # hashed bags of words barely cluster, the hardest case for an inverted file; real
        # sentence vectors do better (bench_retrieval.py measures recall on them)
        assert agree >= 30, f"approximate recall@10 {agree / 40:.2f}"


WRITER = textwrap.dedent("""
    import sys
    from purpose_agent_sqlite.search_index import IndexedText, SearchIndex
    from purpose_agent.testing import HashingEmbedder

    index = SearchIndex(sys.argv[1], embedder=HashingEmbedder())
    batch = int(sys.argv[2])
    for round in range(10_000):
        index.upsert([IndexedText(f"r{round}-{n}", f"round {round} text {n} about refunds and parcels {n % 7}",
                                  {"round": round}) for n in range(batch)])
        if round % 3 == 2:
            index.delete([f"r{round - 1}-{n}" for n in range(batch)])
        print(round, flush=True)
""")


@pytest.mark.slow
def test_a_process_killed_mid_write_leaves_the_index_consistent(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "index.db"
    batch = 400
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    # a reader that stays open across the writers: it applies their changes, never reads all again
    # (however many there are: here, where their count does not decide it)
    monkeypatch.setattr(vector_search, "REREAD_SHARE", 10**6)
    reader = SearchIndex(path, embedder=HashingEmbedder())
    base = [IndexedText(f"base{n}", f"base text {n} about warranty and support {n % 11}") for n in range(20)]
    reader.upsert(base)
    reader.search("refunds", mode="dense")
    full_reads = []
    original = SearchIndex._load_vectors
    monkeypatch.setattr(SearchIndex, "_load_vectors",
                        lambda self, model_id: full_reads.append(self is reader) or original(self, model_id))
    for kill_after in (0.8, 1.7):
        process = subprocess.Popen([sys.executable, str(script), str(path), str(batch)], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        time.sleep(kill_after)
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        with SearchIndex(path, embedder=HashingEmbedder()) as index:
            assert index.integrity_check() == "ok"
            count = len(index) - len(base)  # the reader's own texts, then whole batches
            assert count % batch == 0, f"{count} texts: a batch was half written"
            rounds: dict[str, int] = {}
            for text_id in index.ids():
                if "-" not in text_id:
                    continue
                round_number = text_id.split("-")[0]
                rounds[round_number] = rounds.get(round_number, 0) + 1
            assert set(rounds.values()) <= {batch}
            if count:
                assert len(index.search("refunds parcels", k=5, mode="hybrid")) == 5
        with sqlite3.connect(path) as conn:
            texts = conn.execute("SELECT count(DISTINCT digest) FROM chunks_texts").fetchone()[0]
            vectors = conn.execute("SELECT count(*) FROM chunks_vectors").fetchone()[0]
        assert vectors == texts, "every text has its vector and no vector outlives its texts"
        with SearchIndex(path, embedder=HashingEmbedder()) as fresh:
            for query in ("refunds parcels 3", "round 2 text 17", "warranty defects"):
                want = [(h.id, round(h.score, 5)) for h in fresh.search(query, k=20, mode="dense")]
                assert [(h.id, round(h.score, 5)) for h in reader.search(query, k=20, mode="dense")] == want
        assert len(reader._vector_set()) == len(reader)
    reader.close()
    assert True not in full_reads, "the reader applied the changed rows only"


def test_hybrid_floors_leave_weak_candidates_out_of_the_fusion(index: SearchIndex) -> None:
    query = "refund of the price within days"
    everything = index.search(query, k=5)
    index.lexical_floor, index.min_similarity = 0.9, 0.99
    strict = index.search(query, k=5)
    lexical = index.search(query, k=50, mode="lexical")
    close_to_best = [h.id for h in lexical if h.score >= 0.9 * lexical[0].score]
    assert len(strict) < len(everything)
    assert [h.id for h in strict] == close_to_best, "only BM25 candidates within 90 % of the best"
    assert all(h.dense_rank is None for h in strict), "no text is within cosine 0.99 of the query"


def test_the_search_index_meets_the_text_index_protocol(tmp_path: Path) -> None:
    # Plugins (the vault) type their index as purpose_agent.interfaces.TextIndex.
    from purpose_agent.interfaces import TextIndex

    index = SearchIndex(str(tmp_path / "index.sqlite"), name="notes")
    try:
        for method in [name for name, member in vars(TextIndex).items() if callable(member) and not name.startswith("_")]:
            contract = inspect.signature(getattr(TextIndex, method))
            offered = inspect.signature(getattr(index, method))
            assert list(contract.parameters)[1:] == list(offered.parameters), method
    finally:
        index.close()
