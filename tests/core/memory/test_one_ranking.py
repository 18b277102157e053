"""The in-memory store ranks exactly as the SQLite file it stands in for in tests.

Before, ``memory`` had a BM25 of its own over unstemmed words: "installs" did not find "install",
and scores differed, so a retrieval test on it could pass while production ranked otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from purpose_agent.memory.errors import MemoryStoreError
from purpose_agent.models import MemoryItem, MemoryStatus

LESSONS = [
    "Install the package in editable mode before running the tests.",
    "Pip installs wheels faster than source distributions.",
    "Installing from a lock file keeps every machine on the same versions.",
    "Run the linter before committing; it catches unused imports.",
    "Format dates as ISO 8601 in every log line.",
    "Retry a failed request with backoff; never retry a POST without an idempotency key.",
    "Requests to the staging API need the VPN; retrying will not help without it.",
    "Tests that touch the network are marked slow and skipped in CI.",
]
QUERIES = ["installs", "install package", "RETRYING requests", "tests slow network", "linting commits", "iso dates"]


def _ranking(store: Any, query: str) -> list[tuple[str, float]]:
    return [(hit.item.text, round(hit.score, 9)) for hit in store.search(query, limit=10)]


def test_the_same_query_ranks_the_same_in_memory_and_in_a_file(kernel: Any, tmp_path: Path) -> None:
    in_memory = kernel.memory_store("memory")
    on_disk = kernel.memory_store("sqlite", path=str(tmp_path / "ranking.db"))
    try:
        for text in LESSONS:  # the same items in the same order: ids differ, texts do not
            for store in (in_memory, on_disk):
                store.add(MemoryItem(text=text, status=MemoryStatus.PROMOTED))
        for query in QUERIES:
            assert _ranking(in_memory, query) == _ranking(on_disk, query), query
        # the stemmer is shared: every inflection of "install" is found from "installs"
        found = {text for text, _ in _ranking(in_memory, "installs")}
        assert found == {LESSONS[0], LESSONS[1], LESSONS[2]}
    finally:
        in_memory.close()
        on_disk.close()


def test_each_in_memory_store_is_its_own_database(kernel: Any) -> None:
    first, second = kernel.memory_store("memory"), kernel.memory_store("memory")
    try:
        first.add(MemoryItem(text="only in the first store"))
        assert second.list() == [] and len(first.list()) == 1
    finally:
        first.close()
        second.close()


def test_the_in_memory_store_refuses_a_path(kernel: Any, tmp_path: Path) -> None:
    with pytest.raises(MemoryStoreError, match="unknown option.*path.*in-memory.*'sqlite' store"):
        kernel.memory_store("memory", path=str(tmp_path / "x.db"))


def test_with_an_embedder_installed_both_rank_by_meaning_and_words_alike(tmp_path: Path) -> None:
    from purpose_agent.testing import HashingEmbedder, make_kernel, plugin

    embedder = HashingEmbedder()
    installed = plugin("emb", register_embedders=lambda register: register("emb", lambda context: embedder))
    kernel = make_kernel(installed, builtins=True, config={"runtime": {"embedding_cache": False}})
    in_memory: Any = kernel.memory_store("memory")  # semantic = "auto", the default of both stores
    on_disk: Any = kernel.memory_store("sqlite", path=str(tmp_path / "ranking.db"))
    try:
        assert in_memory.embedder is not None and in_memory.embedder.model_id == on_disk.embedder.model_id
        for text in LESSONS:
            for store in (in_memory, on_disk):
                store.add(MemoryItem(text=text, status=MemoryStatus.PROMOTED))
        for query in [*QUERIES, "staging vpn", "editable package"]:
            ranked = _ranking(in_memory, query)
            assert ranked == _ranking(on_disk, query), query
            assert [hit for hit in in_memory.dense_rows(query)] == [hit for hit in on_disk.dense_rows(query)]
        # hybrid scores are fused reciprocal ranks, not BM25 values
        assert _ranking(in_memory, "installs")[0][1] != in_memory.lexical_rows("installs")[0][0]
        words_only: Any = kernel.memory_store("memory", semantic=False)
        assert words_only.embedder is None
        words_only.close()
    finally:
        in_memory.close()
        on_disk.close()
