"""The ranking by words on PostgreSQL: BM25 over the stored tsvector, held in each process.

The scores are checked against BM25 computed independently from PostgreSQL's own ``unnest(tsv)``;
a second store object stands for a second worker whose writes the first one's next search sees.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest

from purpose_agent.models import MemoryItem, MemoryStatus, Scope
from purpose_agent_postgres.lexical import K1, B

TEXTS = [
    "Retry flaky network calls with exponential backoff and a jitter.",
    "Retry the network call once; a second failure is real.",
    "Close file handles in a finally block or use a context manager.",
    "Set an explicit timeout on every network request, and retry on timeout.",
    "Parse dates with an explicit time zone.",
]


@pytest.fixture
def two(kernel: Any, options: dict[str, Any]) -> Iterator[tuple[Any, Any]]:
    first, second = kernel.memory_store("postgres", **options), kernel.memory_store("postgres", **options)
    yield first, second
    first.close()
    second.close()


def reference_bm25(store: Any, query: str) -> dict[str, float]:
    """BM25 of every item for ``query`` from PostgreSQL's unnest(tsv): text 1, tags 0.5 per occurrence."""
    with store._transaction() as conn:
        postings = conn.execute(
            f"SELECT i.text, u.lexeme, (SELECT sum(CASE w WHEN 'B' THEN 0.5 ELSE 1.0 END) FROM unnest(u.weights) w), "
            f"cardinality(u.positions) FROM {store.schema}.items i, unnest(i.tsv) u").fetchall()
        stems = [row[0] for row in conn.execute("SELECT lexeme FROM unnest(to_tsvector('english', %s))", (query,))]
    lengths: dict[str, int] = {}
    for text, _, _, count in postings:
        lengths[text] = lengths.get(text, 0) + count
    average = sum(lengths.values()) / len(lengths)
    scores: dict[str, float] = {}
    for stem in stems:
        having = [(text, float(tf)) for text, lexeme, tf, _ in postings if lexeme == stem]
        idf = max(math.log((len(lengths) - len(having) + 0.5) / (len(having) + 0.5)), 1e-6)
        for text, tf in having:
            norm = K1 * (1 - B + B * lengths[text] / average)
            scores[text] = scores.get(text, 0.0) + idf * tf * (K1 + 1) / (tf + norm)
    return scores


def test_scores_are_bm25_over_the_stored_tsvector(store: Any) -> None:
    store.add_many([MemoryItem(text=t, tags=["network"] if "jitter" in t else []) for t in TEXTS])
    store.add(MemoryItem(text="Don't quote 'it''s' \\ back\\slash network words.", tags=["it's", "retry"]))
    for query in ("network retry timeout", "explicit time zone", "retry", "jitter network"):
        found = {row[4]: score for score, row in store.lexical_rows(query, limit=10)}
        expected = reference_bm25(store, query)
        assert found.keys() == expected.keys(), query
        for text, score in expected.items():
            assert found[text] == pytest.approx(score, rel=1e-9), (query, text)
    ranked = [s.item.text for s in store.search("network retry timeout", limit=2)]
    assert ranked == sorted(reference_bm25(store, "network retry timeout"), key=lambda t: -reference_bm25(
        store, "network retry timeout")[t])[:2]
    assert store.search("nothing matches this", limit=5) == []


def test_another_workers_writes_reach_the_ranking(two: tuple[Any, Any]) -> None:
    searcher, writer = two
    writer.add_many([MemoryItem(text=t, status=MemoryStatus.PROMOTED) for t in TEXTS])
    assert len(searcher.lexical_rows("network", limit=10)) == 3
    loaded = searcher.lexical_index().size
    added = writer.add(MemoryItem(text="Pool network connections per host.", status=MemoryStatus.PROMOTED))
    assert "Pool network connections per host." in [s.item.text for s in searcher.search("network", limit=10)]
    assert searcher.lexical_index().size == loaded + 1
    # new words: the old ones no longer find it, the new ones do
    writer.update(added.model_copy(update={"text": "Reuse HTTP sessions."}))
    assert "Reuse HTTP sessions." not in [s.item.text for s in searcher.search("network", limit=10)]
    assert [s.item.text for s in searcher.search("sessions", limit=10)] == ["Reuse HTTP sessions."]
    # a status or scope change moves it between filters without new words
    current = writer.get(added.id)
    writer.update(current.model_copy(update={"status": MemoryStatus.ARCHIVED, "status_reason": "old",
                                             "scope": Scope(level="agent", value="coder")}))
    assert searcher.search("sessions", limit=10, status=MemoryStatus.PROMOTED) == []
    assert searcher.search("sessions", limit=10, scopes=[("agent", "other")]) == []
    assert [s.item.text for s in searcher.search("sessions", limit=10, scopes=[("agent", "coder")])] == [
        "Reuse HTTP sessions."]
    # a rollback restores the old words
    writer.rollback(added.id, 1)
    assert "Pool network connections per host." in [s.item.text for s in searcher.search("network", limit=10)]
    assert searcher.lexical_index().size == loaded + 1


def test_replaced_texts_past_half_rebuild_the_statistics(two: tuple[Any, Any]) -> None:
    searcher, writer = two
    items = [writer.add(MemoryItem(text=f"note {n} about caching")) for n in range(6)]
    assert len(searcher.lexical_rows("caching", limit=10)) == 6
    for item in items:
        writer.update(item.model_copy(update={"text": f"note {item.text.split()[1]} about queues"}))
    assert len(searcher.lexical_rows("queues", limit=10)) == 6  # 12 slots, 6 live
    assert len(searcher.lexical_rows("caching", limit=10)) == 0
    index = searcher.lexical_index()
    assert index.size == 6 and index._count == 6, "the half-dead slots were rebuilt on the next search"


def test_ties_keep_insertion_order_and_the_limit_holds(store: Any) -> None:
    store.add_many([MemoryItem(text=f"identical words here {n % 1}") for n in range(30)])
    rows = store.lexical_rows("identical words", limit=7)
    assert len(rows) == 7 and [row[0] for _, row in rows] == sorted(row[0] for _, row in rows)
