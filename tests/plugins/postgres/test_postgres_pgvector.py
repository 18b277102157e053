"""Search by meaning through the pgvector extension: the server's HNSW index finds the nearest
items, filters included, with the same results as the in-process search on the same rows.

Skipped, with the reason, where the throwaway cluster's server has no pgvector (the Debian 12
archive has no package for it, so .ci/run does not install it).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from purpose_agent.models import MemoryItem, MemoryStatus, Scope
from purpose_agent.testing import HashingEmbedder
from purpose_agent_postgres import PostgresError

WORDS = "queue cache socket parser schema token worker index bucket ledger retry timeout".split()


@pytest.fixture
def open_store(kernel: Any, options: dict[str, Any]) -> Iterator[Any]:
    opened: list[Any] = []

    def build(**more: Any) -> Any:
        store = kernel.memory_store("postgres", **{**options, **more})
        opened.append(store)
        return store

    probe = build()
    if not probe.pgvector:
        pytest.skip("the PostgreSQL server here does not offer the pgvector extension (the Debian 12 archive has "
                    "no package; build it from its source to run these tests)")
    yield build
    for store in opened:
        store.close()


def items(count: int) -> list[MemoryItem]:
    return [MemoryItem(text=f"{WORDS[n % 12]} {WORDS[(n * 5) % 12]} {WORDS[(n * 7) % 11]} note {n}",
                       status=MemoryStatus.PROMOTED if n % 3 else MemoryStatus.QUARANTINED,
                       scope=Scope(level="agent", value="coder") if n % 4 == 0 else Scope())
            for n in range(count)]


def test_the_server_finds_what_the_in_process_search_finds(open_store: Any) -> None:
    embedder = HashingEmbedder()
    exact = open_store(embedder=embedder, pgvector=False, min_similarity=-1.0)
    exact.add_many(items(400))
    served = open_store(embedder=embedder, min_similarity=-1.0)
    assert served.retrieval()["pgvector"].startswith("in use (version ")
    assert "searched by the server through pgvector" in served.retrieval()["dense"]
    for query, filters in [("queue cache retry", {}), ("socket timeout", {"status": MemoryStatus.PROMOTED}),
                           ("ledger token parser", {"scopes": [("agent", "coder")]}),
                           ("bucket worker", {"status": MemoryStatus.QUARANTINED, "scopes": [("agent", "other")]})]:
        expected = exact.dense_rows(query, limit=10, **filters)
        got = served.dense_rows(query, limit=10, **filters)
        assert [round(c, 5) for _, c in got] == [round(c, 5) for _, c in expected], query
        assert got, query
        # the same items, up to the order of equal cosines and which of those fill the last places
        assert {seq for seq, c in got if c > got[-1][1] + 1e-6} == {
            seq for seq, c in expected if c > expected[-1][1] + 1e-6}, query
    with served._transaction() as conn:
        names = [row[0] for row in conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = %s "
                                                "AND indexname LIKE 'items_hnsw_%%'", (served.schema,))]
        assert len(names) == 1 and names[0].endswith(f"_{embedder.dimension}")
        conn.execute("SET LOCAL enable_seqscan = off")
        plan = "\n".join(row[0] for row in conn.execute(
            f"EXPLAIN SELECT seq FROM {served.schema}.items i WHERE i.vector_model = '{embedder.model_id}' "
            f"ORDER BY i.embedding::vector({embedder.dimension}) <=> %s::vector({embedder.dimension}) LIMIT 5",
            ("[" + ",".join(["0.0625"] * embedder.dimension) + "]",)))
        assert names[0] in plan, plan


def test_rows_embedded_before_get_their_embedding_without_the_embedder(open_store: Any) -> None:
    embedder = HashingEmbedder()
    before = open_store(embedder=embedder, pgvector=False)
    before.add_many(items(50))
    before.search("queue cache", limit=3)  # embeds every row (in-process path)
    calls = len(embedder.calls)
    served = open_store(embedder=embedder)
    hits = served.search("queue cache retry", limit=5)
    assert hits and len(embedder.calls) == calls + 1  # only the query was embedded
    with served._transaction() as conn:
        assert conn.execute(f"SELECT count(*) FROM {served.schema}.items WHERE embedding IS NULL").fetchone() == (0,)
    # a changed text leaves the index's rows (its model is cleared) until the next search embeds it
    item = served.get(hits[0].item.id)
    served.update(item.model_copy(update={"text": "an entirely different sentence about gardens"}))
    assert [h.item.text for h in served.search("gardens different sentence", limit=1)] == [
        "an entirely different sentence about gardens"]


def test_the_pgvector_setting_is_checked(open_store: Any, options: dict[str, Any], kernel: Any) -> None:
    assert open_store(embedder=HashingEmbedder(), pgvector=True).search("queue", limit=1) is not None
    off = open_store(embedder=HashingEmbedder(), pgvector=False)
    assert off.retrieval()["pgvector"].startswith("not used: pgvector = false")
    with pytest.raises(PostgresError, match="pgvector = 'maybe' for the postgres memory store is not one of"):
        kernel.memory_store("postgres", **options, pgvector="maybe")


@pytest.mark.slow
def test_a_paraphrase_is_found_through_pgvector(open_store: Any, tmp_path: Path) -> None:
    minilm = pytest.importorskip("purpose_agent_minilm")
    from purpose_agent.testing import make_kernel

    embedder = make_kernel({"minilm": minilm}, config={"runtime": {"embedding_cache": str(tmp_path / "v.sqlite")}}
                           ).embedder()
    store = open_store(embedder=embedder)
    pin = "Always pin dependency versions in the lockfile."
    store.add_many([MemoryItem(text=pin, status=MemoryStatus.PROMOTED),
                    *(MemoryItem(text=f"Keep the {w} small and give it one job.", status=MemoryStatus.PROMOTED)
                      for w in WORDS)])
    assert store.lexical_rows("How do I make installs reproducible?", limit=5) == []
    assert [s.item.text for s in store.search("How do I make installs reproducible?", limit=1)] == [pin]
    assert store.retrieval()["pgvector"].startswith("in use")
