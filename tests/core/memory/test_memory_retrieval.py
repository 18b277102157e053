"""Retrieval, usefulness and lifecycle, against both the in-memory and the SQLite store."""

from __future__ import annotations

import time
from typing import Any

import pytest

from purpose_agent.memory.errors import InvalidTransition
from purpose_agent.memory.lifecycle import change_status, check_transition, rollback
from purpose_agent.memory.retrieval import RetrievalPolicy, RunScope, estimate_tokens, retrieve
from purpose_agent.memory.usefulness import DAY_S, UsefulnessPolicy, record_use
from purpose_agent.models import Counters, MemoryItem, MemoryStatus, Scope

P = MemoryStatus.PROMOTED

FILLER = [
    "Prefer pathlib over os.path when joining file system paths.",
    "Write docstrings for every public function and class.",
    "Pin dependency versions in lock files for reproducible builds.",
    "Use logging instead of print statements in library code.",
    "Close database connections in a finally block or a context manager.",
    "Validate user input at the boundary of the system.",
]


def add(store: Any, text: str, **fields: Any) -> MemoryItem:
    fields.setdefault("status", P)
    return store.add(MemoryItem(text=text, **fields))


def fill(store: Any) -> None:
    for text in FILLER:
        add(store, text)


def ids(results: list[Any]) -> list[str]:
    return [r.item.id for r in results]


def test_only_promoted_items_are_retrieved_by_default(any_store: Any) -> None:
    fill(any_store)
    promoted = add(any_store, "Retry flaky network calls with exponential backoff.")
    for status in (MemoryStatus.CANDIDATE, MemoryStatus.QUARANTINED, MemoryStatus.REJECTED, MemoryStatus.ARCHIVED):
        add(any_store, "Retry flaky network calls with exponential backoff.", status=status)
    assert ids(retrieve(any_store, "network retry backoff")) == [promoted.id]
    wider = RetrievalPolicy(statuses=("promoted", "quarantined"))
    assert len(retrieve(any_store, "network retry backoff", policy=wider)) == 2


def test_scope_admits_global_and_the_runs_own_scopes(any_store: Any) -> None:
    fill(any_store)
    text = "Parse TOML configuration with tomllib from the standard library."
    glob = add(any_store, text)
    mine = [add(any_store, text, scope=Scope(level=level, value=value))
            for level, value in (("purpose", "build"), ("agent", "coder"), ("task_family", "config"))]
    add(any_store, text, scope=Scope(level="agent", value="reviewer"))
    add(any_store, text, scope=Scope(level="purpose", value="chat"))
    run = RunScope(purpose="build", agent="coder", task_family="config")
    assert set(ids(retrieve(any_store, "parse toml configuration", scope=run))) == {glob.id, *(m.id for m in mine)}
    assert ids(retrieve(any_store, "parse toml configuration")) == [glob.id]  # no run scope: global only


def test_k_is_a_ceiling_not_a_target(any_store: Any) -> None:
    fill(any_store)
    for i in range(15):
        add(any_store, f"Cache expensive HTTP responses keyed by URL, variant {i}.")
    assert len(retrieve(any_store, "cache http responses")) == 10
    assert len(retrieve(any_store, "cache http responses", policy=RetrievalPolicy(k=3))) == 3
    # one relevant item: one result, not ten padded with weak matches
    only = add(any_store, "Decimal avoids binary rounding errors in money arithmetic.")
    assert ids(retrieve(any_store, "decimal rounding money")) == [only.id]


def test_nothing_relevant_means_nothing_retrieved(any_store: Any) -> None:
    fill(any_store)
    assert retrieve(any_store, "quantum chromodynamics lattice") == []
    assert retrieve(any_store, "   ") == []


def test_the_token_budget_is_respected_and_smaller_items_still_fit(any_store: Any) -> None:
    fill(any_store)
    long = add(any_store, "Timeouts: " + "always set an explicit network timeout on every request. " * 20)
    short = add(any_store, "Set network timeouts explicitly.")
    budget = estimate_tokens(short.text) + 10
    assert estimate_tokens(long.text) > budget
    chosen = retrieve(any_store, "network timeout", policy=RetrievalPolicy(token_budget=budget))
    assert ids(chosen) == [short.id]
    assert sum(r.tokens for r in chosen) <= budget
    both = retrieve(any_store, "network timeout", policy=RetrievalPolicy(token_budget=2000))
    assert set(ids(both)) == {long.id, short.id}


def test_the_minimum_relevance_drops_weak_matches(any_store: Any) -> None:
    fill(any_store)
    strong = add(any_store, "Unicode normalisation: compare strings after NFC normalisation of unicode text.")
    weak = add(any_store, "Strings in Python are immutable.")
    found = retrieve(any_store, "unicode normalisation compare strings")
    assert ids(found)[0] == strong.id
    strict = retrieve(any_store, "unicode normalisation compare strings", policy=RetrievalPolicy(min_relevance=0.9))
    assert ids(strict) == [strong.id] and weak.id not in ids(strict)


def test_usefulness_reorders_equally_relevant_items_and_sinks_harmful_ones(any_store: Any) -> None:
    fill(any_store)
    text = "Lock the shared file before writing from several processes."
    helpful, neutral, harmful = (add(any_store, text) for _ in range(3))
    for _ in range(4):
        record_use(any_store, helpful.id, True)
        record_use(any_store, harmful.id, False)
    got = retrieve(any_store, "lock shared file processes")
    assert ids(got) == [helpful.id, neutral.id, harmful.id]
    assert got[0].usefulness > got[1].usefulness > got[2].usefulness
    # strongly harmful evidence pushes an item under the minimum score
    for _ in range(10):
        record_use(any_store, harmful.id, False)
    assert harmful.id not in ids(retrieve(any_store, "lock shared file processes", policy=RetrievalPolicy(min_score=0.95)))


def test_usefulness_cannot_lift_an_irrelevant_item_over_a_relevant_one(any_store: Any) -> None:
    fill(any_store)
    relevant = add(any_store, "Use a virtual environment per project for Python dependencies.")
    marginal = add(any_store, "Python is popular.", counters=Counters(uses=50, helpful=50), usefulness=1.0)
    got = retrieve(any_store, "virtual environment python dependencies project")
    assert ids(got)[0] == relevant.id
    assert marginal.id not in ids(got) or ids(got).index(marginal.id) > 0


def test_new_items_get_an_exploration_bonus_that_shrinks_with_use() -> None:
    policy = UsefulnessPolicy()
    fresh = policy.score(0.0, 0, 0.0)
    assert fresh == pytest.approx(0.25)
    assert policy.score(0.0, 3, 0.0) == pytest.approx(0.125)
    assert policy.score(0.0, 99, 0.0) < fresh


def test_q_values_decay_with_age_and_learn_from_verdicts() -> None:
    policy = UsefulnessPolicy(learning_rate=0.5, half_life_days=10)
    assert policy.decayed(0.8, 10 * DAY_S) == pytest.approx(0.4)
    assert policy.updated(0.0, 0, True) == pytest.approx(0.5)
    assert policy.updated(0.5, 0, True) == pytest.approx(0.75)
    assert policy.updated(0.5, 0, False) == pytest.approx(-0.25)
    assert policy.updated(0.8, 10 * DAY_S, None) == pytest.approx(0.4)  # no verdict: decay only
    q = 0.0
    for _ in range(100):
        q = policy.updated(q, 0, True)
    assert q <= 1.0


def test_record_use_updates_only_the_used_item(any_store: Any) -> None:
    a = add(any_store, "item a")
    b = add(any_store, "item b")
    updated = record_use(any_store, a.id, True)
    assert updated.counters.uses == 1 and updated.counters.helpful == 1 and updated.usefulness > 0
    assert any_store.get(a.id).usefulness == pytest.approx(updated.usefulness)
    untouched = any_store.get(b.id)
    assert untouched.counters.uses == 0 and untouched.usefulness == 0.0


def test_old_evidence_fades(any_store: Any) -> None:
    fill(any_store)
    text = "Profile before optimising slow code paths."
    old = add(any_store, text, usefulness=0.9, counters=Counters(uses=5, helpful=5))
    recent = add(any_store, text, usefulness=0.5, counters=Counters(uses=5, helpful=5))
    later = time.time() + 120 * DAY_S  # four half-lives since both were written
    got = retrieve(any_store, "profile optimising slow code", now=later)
    assert {r.item.id for r in got} == {old.id, recent.id}
    assert all(r.usefulness < 0.2 for r in got)


# --------------------------------------------------------------------------- lifecycle


def test_the_pipeline_must_follow_the_transitions() -> None:
    check_transition("candidate", "quarantined")
    check_transition("quarantined", "promoted")
    with pytest.raises(InvalidTransition, match="cannot become promoted automatically"):
        check_transition("candidate", "promoted")
    with pytest.raises(InvalidTransition, match="final"):
        check_transition("archived", "promoted")
    check_transition("archived", "promoted", operator=True)
    with pytest.raises(InvalidTransition, match="already"):
        check_transition("promoted", "promoted", operator=True)
    with pytest.raises(InvalidTransition, match="not a memory status"):
        check_transition("promoted", "deleted", operator=True)


def test_change_status_writes_a_version_with_the_reason(any_store: Any) -> None:
    item = add(any_store, "a lesson", status=MemoryStatus.CANDIDATE)
    change_status(any_store, item.id, "quarantined", reason="new; scanning")
    with pytest.raises(InvalidTransition, match="needs a reason"):
        change_status(any_store, item.id, "promoted", reason=" ")
    done = change_status(any_store, item.id, "promoted", reason="passed replay")
    assert done.status is P and done.status_reason == "passed replay" and done.version == 3
    assert [v.status.value for v in any_store.history(item.id)] == ["candidate", "quarantined", "promoted"]


def test_rollback_never_rewrites_history(any_store: Any) -> None:
    item = add(any_store, "first text", tags=["a"])
    any_store.update(item.model_copy(update={"text": "second text", "tags": ["b"]}))
    any_store.update(any_store.get(item.id).model_copy(update={"text": "third text", "status": MemoryStatus.ARCHIVED}))
    back = rollback(any_store, item.id, 1, reason="regression")
    assert (back.text, back.tags, back.status, back.version) == ("first text", ["a"], P, 4)
    assert [v.text for v in any_store.history(item.id)] == ["first text", "second text", "third text", "first text"]
    with pytest.raises(InvalidTransition):
        rollback(any_store, item.id, 4)
