"""Skill cards: what a valid card is, the one-sentence errors for bad ones, and the versioned store."""

from __future__ import annotations

import json

import pytest
from skill_kernels import SUM_CODE, SUM_INPUTS, steps_card, sum_card, sum_card_toml

from purpose_agent_skills.card import card_from_data, load_card
from purpose_agent_skills.errors import CardError, SkillError
from purpose_agent_skills.store import SkillStore

TOML_CARD = sum_card_toml(
    provenance='''
author = "model"
by = "groq:llama-3.3-70b"
run_id = "run-42"
''',
    tests='''
[[tests]]
arguments = {text = "a\\n1\\n2\\n", column = "a"}
expected = 3.0

[[tests]]
arguments = {text = "a\\n1\\n", column = "a"}
expected = 1.0
''',
)


def test_a_toml_card_loads_with_its_provenance_and_source(tmp_path):
    path = tmp_path / "sum.toml"
    path.write_text(TOML_CARD)
    card = load_card(path)
    assert card.kind == "code" and card.entry == "run" and len(card.tests) == 2
    assert (card.provenance.author, card.provenance.by, card.provenance.run_id) == ("model", "groq:llama-3.3-70b", "run-42")
    assert card.provenance.source == str(path) and not card.provenance.trusted


def test_a_json_card_loads_and_round_trips_through_to_data(tmp_path):
    card = sum_card(tests=[{"arguments": {"text": "a\n", "column": "a"}, "expected": None},
                           {"arguments": {"text": "a\n1\n", "column": "a"}, "check": "assert result == 1"}])
    path = tmp_path / "sum.json"
    path.write_text(json.dumps(card.to_data()))
    again = load_card(path)
    # ``expected = null`` is an expectation, and a check test has none: both survive the trip.
    assert again.tests[0].has_expected and again.tests[0].expected is None
    assert not again.tests[1].has_expected
    assert again.content_hash() == card.content_hash()


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({"purpose": "x", "steps": ["a"]}, "field 'name' is missing; use lower-case letters"),
        ({"name": "Bad Name", "purpose": "x", "steps": ["a"]}, "field 'name': String should match pattern"),
        ({"name": "ok", "purpose": "  ", "steps": ["a"]}, "field 'purpose': the purpose is blank"),
        ({"name": "ok", "purpose": "x"}, "exactly one of 'steps' (prose) or 'code'"),
        ({"name": "ok", "purpose": "x", "steps": ["a"], "code": "def run(): pass"}, "exactly one of 'steps'"),
        ({"name": "ok", "purpose": "x", "code": "def main(): pass"}, "defines no top-level function 'run'"),
        ({"name": "ok", "purpose": "x", "code": "def run(:"}, "'code' is not valid Python"),
        ({"name": "ok", "purpose": "x", "steps": ["a"], "inputs": {"type": "string"}},
         "field 'inputs': the input schema must have type \"object\""),
        ({"name": "ok", "purpose": "x", "steps": ["a"], "inputs": {"type": "object", "properties": 3}},
         "field 'inputs': not a valid JSON schema"),
        ({"name": "ok", "purpose": "x", "steps": ["a"], "colour": "red"}, "unknown field 'colour'; a card has name"),
        ({"name": "ok", "purpose": "x", "code": "def run(): pass", "tests": [{"arguments": {}}]},
         "field 'tests.0': a test needs exactly one of 'expected'"),
        ({"name": "ok", "purpose": "x", "code": "def run(): pass",
          "tests": [{"arguments": {}, "check": "assert ("}]}, "'check' is not valid Python"),
        ({"name": "ok", "purpose": "x", "code": "def run(text): pass", "inputs": SUM_INPUTS,
          "tests": [{"arguments": {"text": 1, "column": "a"}, "expected": 1}]},
         "test #1: its arguments do not fit 'inputs': 1 is not of type 'string'"),
        ({"name": "ok", "purpose": "x", "steps": ["a"], "tests": [{"arguments": {}, "expected": 1}]},
         "only a code skill can have tests"),
        ({"name": "ok", "purpose": "x", "steps": ["a"], "provenance": {"author": "stranger"}},
         "field 'provenance.author': Input should be 'user', 'operator', 'model' or 'imported'"),
    ],
)
def test_a_bad_card_is_one_sentence_naming_the_field(data, says):
    with pytest.raises(CardError) as caught:
        card_from_data(data, where="card.toml")
    message = str(caught.value)
    assert message.startswith("card.toml: ") and says in message, message
    assert "\n" not in message


def test_a_file_that_is_not_a_card_is_one_sentence(tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text("name = \n")
    with pytest.raises(CardError, match=r"broken.toml is not valid TOML: .*; fix the syntax"):
        load_card(broken)
    with pytest.raises(CardError, match="a skill card is a .toml or .json file"):
        load_card(tmp_path / "card.yaml")
    with pytest.raises(CardError, match="cannot read the skill card"):
        load_card(tmp_path / "missing.json")
    array = tmp_path / "array.json"
    array.write_text("[1, 2]")
    with pytest.raises(CardError, match="must be a table .* or an object .*, not list"):
        load_card(array)


def test_versions_are_appended_and_each_keeps_its_own_status(tmp_path):
    store = SkillStore(tmp_path / "skills.sqlite")
    first = store.add(sum_card())
    second = store.add(sum_card(code=SUM_CODE + "\n# v2\n"))
    assert (first.version, second.version) == (1, 2)
    store.set_status("csv-column-sum", 1, "promoted", "passed")
    store.set_status("csv-column-sum", 1, "retired", "superseded")
    assert [v.status for v in store.versions("csv-column-sum")] == ["retired", "candidate"]
    # the card of a version never changes; every status change is in the history with its reason
    assert store.get("csv-column-sum", 1).card == first.card
    assert [(h["version"], h["status"], h["reason"]) for h in store.history("csv-column-sum")] == [
        (1, "candidate", "added"), (2, "candidate", "added"), (1, "promoted", "passed"), (1, "retired", "superseded")]
    with pytest.raises(SkillError, match="version 1 already has this content; change the card"):
        store.add(sum_card())


def test_unknown_skills_and_versions_are_named(tmp_path):
    store = SkillStore(tmp_path / "skills.sqlite")
    store.add(steps_card(["Tag the release."]))
    with pytest.raises(SkillError, match=r"no skill named 'nope' \(stored: release-checklist\); add one with"):
        store.get("nope")
    with pytest.raises(SkillError, match=r"skill 'release-checklist' has no version 4 \(versions: 1\)"):
        store.get("release-checklist", 4)
