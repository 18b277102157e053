"""Council quorum: agreement measured each round, and the council changes course on it."""

from __future__ import annotations

import json
from typing import Any

import pytest

import purpose_agent as pa
from purpose_agent.models import ChatRequest, Event
from purpose_agent.runtime.events import EventBus
from purpose_agent.runtime.flow import COUNCIL_FINISHED, COUNCIL_ROUND, exact_agreement, member_position
from purpose_agent.testing import FunctionBackend, HashingEmbedder, ScriptedBackend, make_kernel, plugin


def scripted(*positions: str) -> ScriptedBackend:
    """A member who argues, then states these positions round after round (the last one repeats)."""
    return ScriptedBackend([f"Having weighed it up.\nANSWER: {p}" for p in positions], repeat_last=True)


def chair(text: str = "Ship on Friday.\nDISAGREEMENT: none") -> FunctionBackend:
    return FunctionBackend(lambda request: text)


def council(members: dict[str, Any], **options: Any) -> tuple[pa.Council, list[Event]]:
    seen: list[Event] = []
    bus = EventBus()
    bus.listen(seen.append)
    return pa.Council(members=members, chair=options.pop("chair", chair()), bus=bus, **options), seen


def test_members_who_agree_stop_after_the_first_round() -> None:
    members = {"a": scripted("Yes, ship Friday"), "b": scripted("yes, ship friday."), "c": scripted("YES ship Friday")}
    run, seen = council(members, rounds=3)
    result = run.deliberate("Can we ship Friday?")
    assert result.agreement == [1.0] and result.outcome == "consensus" and len(result.rounds) == 1
    assert all(len(m.requests) == 1 for m in members.values())  # no member paid for rounds 2 and 3
    assert [e.data["decision"] for e in seen if e.type == COUNCIL_ROUND] == ["consensus: stop"]
    finished = [e for e in seen if e.type == COUNCIL_FINISHED]
    assert finished[0].data["agreement"] == [1.0] and finished[0].data["outcome"] == "consensus"


def test_members_who_converge_get_an_extra_round_and_reach_consensus() -> None:
    members = {"a": scripted("ship Friday"), "b": scripted("ship Monday", "ship Monday", "ship Friday"),
               "c": scripted("ship Tuesday", "ship Friday")}
    run, seen = council(members, rounds=2)
    result = run.deliberate("When do we ship?")
    # round 1: nobody agrees; round 2: a and c agree (1 pair of 3); round 3 (an extra round): all agree
    assert result.agreement == [0.0, pytest.approx(1 / 3, abs=1e-3), 1.0]
    assert result.decisions == ["below consensus: next round", "converging: extra round", "consensus: stop"]
    assert result.outcome == "converged" and len(result.rounds) == 3
    assert [e.data["agreement"] for e in seen if e.type == COUNCIL_ROUND] == result.agreement


def test_a_council_that_stays_split_goes_to_the_chair_with_its_trajectory() -> None:
    prompts: list[str] = []

    def chair_reply(request: ChatRequest) -> str:
        prompts.append(request.messages[-1].content)
        return "The chair chooses Friday.\nDISAGREEMENT: whether Friday is safe"

    run, _ = council({"a": scripted("ship Friday"), "b": scripted("ship Monday")}, rounds=2,
                     chair=FunctionBackend(chair_reply))
    result = run.deliberate("When do we ship?")
    assert result.agreement == [0.0, 0.0] and result.outcome == "chair" and len(result.rounds) == 2
    assert result.decisions[-1] == "split: to the chair"
    assert "did not converge (agreement by round: 0.00 -> 0.00)" in prompts[0]
    assert result.disagreement == ["whether Friday is safe"] and result.synthesis == "The chair chooses Friday."


def test_a_split_council_can_escalate_to_a_debate_first() -> None:
    members = {"a": scripted("ship Friday"), "b": scripted("ship Monday")}
    run, seen = council(members, rounds=2, escalate="debate")
    result = run.deliberate("When do we ship?")
    assert result.outcome == "debate" and len(result.rounds) == 3
    assert result.decisions == ["below consensus: next round", "split: debate", "still split after the debate: to the chair"]
    debate_prompt = members["a"].requests[2].messages[-1].content
    assert "Debate: take the strongest position that differs from yours" in debate_prompt and "ship Monday" in debate_prompt
    assert [e.data["kind"] for e in seen if e.type == COUNCIL_ROUND] == ["initial", "deliberation", "debate"]


def test_a_debate_that_brings_agreement_ends_converged() -> None:
    members = {"a": scripted("ship Friday"), "b": scripted("ship Monday", "ship Monday", "ship Friday")}
    result = council(members, rounds=2, escalate="debate")[0].deliberate("When?")
    assert result.agreement == [0.0, 0.0, 1.0] and result.outcome == "converged"


def embedder_kernel() -> Any:
    return make_kernel(plugin("hashing", register_embedders=lambda register: register(
        "hashing", lambda context: HashingEmbedder())), config={"runtime": {"embedder": "hashing", "embedding_cache": False}})


def test_semantic_agreement_through_the_kernels_embedder() -> None:
    # Same words in another order and case: not exact, but close in the (bag-of-words) embedding.
    members = {"a": scripted("ship on friday after the release review"),
               "b": scripted("after the release review, ship on Friday")}
    run, _ = council(members, kernel=embedder_kernel(), consensus=0.6)
    result = run.deliberate("When?")
    assert result.measure == "semantic" and result.agreement[0] >= 0.6 and result.outcome == "consensus"
    assert exact_agreement([member_position(m) for m in result.rounds[0].values()]) == 0.0
    split, _ = council({"a": scripted("ship on friday"), "b": scripted("never release untested code")},
                       kernel=embedder_kernel(), consensus=0.6)
    assert split.deliberate("When?").agreement[0] < 0.3


def test_a_judge_measures_agreement_and_an_unreadable_verdict_falls_back_to_exact() -> None:
    verdicts = iter([json.dumps({"agreement": 0.4}), json.dumps({"agreement": 0.9})])
    judge = FunctionBackend(lambda request: next(verdicts))
    members = {"a": scripted("Friday"), "b": scripted("Monday")}
    run, seen = council(members, agreement="judge", judge=judge)
    result = run.deliberate("When?")
    assert result.agreement == [0.4, 0.9] and result.outcome == "consensus"  # 0.9 >= the judge's default 0.8
    assert "Friday" in judge.requests[0].messages[-1].content
    broken, seen = council(members, agreement="judge", judge=FunctionBackend(lambda request: "they mostly agree"))
    result = broken.deliberate("When?")
    assert result.agreement[0] == 0.0
    assert seen[0].data["measure"] == "exact (the judge's reply could not be read)"


def test_bad_options_are_refused_with_a_sentence() -> None:
    with pytest.raises(ValueError, match="agreement='vote' is not a measure"):
        pa.Council(members={"a": chair()}, chair=chair(), agreement="vote")
    with pytest.raises(ValueError, match="escalate='vote' is not a way to escalate"):
        pa.Council(members={"a": chair()}, chair=chair(), escalate="vote")


def test_an_embedder_that_fails_falls_back_to_exact_and_says_why() -> None:
    class Broken:
        model_id, dimension = "broken", 8

        def embed(self, texts: Any) -> Any:
            raise RuntimeError("model file missing")

    kernel = make_kernel(plugin("broken", register_embedders=lambda register: register("broken", lambda context: Broken())),
                         config={"runtime": {"embedder": "broken", "embedding_cache": False}})
    run, seen = council({"a": scripted("Friday"), "b": scripted("friday")}, kernel=kernel)
    result = run.deliberate("When?")
    assert result.agreement == [1.0] and result.outcome == "consensus"
    assert seen[0].data["measure"] == "exact (the embedder failed: RuntimeError: model file missing)"
