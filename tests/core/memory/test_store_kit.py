"""The contract module every memory store shares (purpose_agent.store_kit)."""

from __future__ import annotations

from purpose_agent import store_kit
from purpose_agent.memory import transfer
from purpose_agent_sqlite import store as sqlite_store


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


def test_a_stored_hit_reads_columns_on_demand_and_builds_the_item_once() -> None:
    built = []

    class Hit(store_kit.StoredHit):
        __slots__ = ()
        columns = {"id": 0, "text": 1, "status": 2, "scope": 3, "usefulness": 4, "uses": 5, "updated_at": 6}

    row = ("m1", "pin versions", "promoted", '{"level": "purpose", "value": "code"}', 0.5, 3, 12.0)
    hit = Hit(1.5, row, lambda r: built.append(r) or {"id": r[0]})
    assert (hit.id, hit.text, hit.status, hit.scope, hit.usefulness, hit.uses, hit.updated_at) == (
        "m1", "pin versions", "promoted", ("purpose", "code"), 0.5, 3, 12.0)
    assert built == []  # nothing built until the item is asked for
    assert hit.item == {"id": "m1"} and hit.item == {"id": "m1"} and len(built) == 1
    assert hit.column("scope") == row[3]
