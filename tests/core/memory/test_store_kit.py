"""The contract module every memory store shares (purpose_agent.store_kit)."""

from __future__ import annotations

from purpose_agent import store_kit
from purpose_agent.builtins import sqlite_store
from purpose_agent.memory import transfer


def test_query_words_drop_stopwords_unless_nothing_else_is_left() -> None:
    assert store_kit.query_terms("How do I pin the versions of my dependencies?") == [
        "pin", "versions", "dependencies"]
    assert store_kit.query_terms("how to") == ["how", "to"]
    assert store_kit.query_terms("parse_date parse_date Parse") == ["parse", "date"]
    assert len(store_kit.query_terms(" ".join(f"w{i}" for i in range(100)))) == store_kit.MAX_QUERY_TERMS


def test_fusion_scores_by_reciprocal_rank_and_keeps_first_appearance_on_ties() -> None:
    fused = store_kit.reciprocal_rank_fusion([["a", "b", "c"], ["c", "a"]], k=60)
    assert [key for key, _, _ in fused] == ["a", "c", "b"]
    assert fused[0][1] == 1 / 61 + 1 / 62 and fused[0][2] == [1, 2]
    tie = store_kit.reciprocal_rank_fusion([["x"], ["y"]])
    assert [key for key, _, _ in tie] == ["x", "y"] and tie[0][2] == [1, None]
    # a key twice in one ranking counts once, at its best rank
    assert store_kit.reciprocal_rank_fusion([["a", "a"]])[0][1] == 1 / 61


def test_the_kernels_store_and_exports_use_the_shared_rules() -> None:
    assert sqlite_store.query_terms is store_kit.query_terms
    assert sqlite_store.MIN_SIMILARITY == store_kit.MIN_SIMILARITY
    assert transfer.canonical_json is store_kit.canonical_json
    assert store_kit.canonical_json({"b": 1, "a": "é"}) == '{"a":"é","b":1}'
