"""Write the semantic tier's written training data from the taxonomy (``kinds.py``), the carriers
(``carriers.py``), the benign texts (``benign.py``) and the hand-written attacks (``handwritten.py``).

Run: ``python plugins/immune-semantic/training/generate.py`` (no arguments; deterministic: the
same sources give byte-identical files). Writes next to this script:

* ``written_train.jsonl``: what ``train.py`` learns from;
* ``written_test.jsonl``: held-out templates, benign texts and hand-written attacks that the
  tests use; no test row's text (or payload) appears in the training file.

Each row: ``text``, ``label`` (1 attack, 0 benign), ``kind``, ``carrier``, ``source`` (always
"written for this project"), ``split``, and ``payload`` = ``[start, end)`` of the injected text
inside ``text`` (``null`` for benign rows), so training can tell which window holds the attack.
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import benign  # noqa: E402
import handwritten  # noqa: E402
import kinds  # noqa: E402
from carriers import CARRIERS  # noqa: E402

SEED = 20261202
SOURCE = "written for this project"
#: Filled variants per English template; each lands in a random carrier.
VARIANTS_PER_TEMPLATE = 14
#: Carriers per multilingual template.
CARRIERS_PER_MULTILINGUAL = 5
#: Benign documents per carrier (with and without a hard-negative sentence planted).
BENIGN_PER_CARRIER = 100
#: Share of attacks delivered directly (as the lesson text itself) rather than inside a carrier.
DIRECT_SHARE = 0.3


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _goal(rng: random.Random, kind: str) -> str:
    """A filled goal phrase from one of the vocabularies the kind draws on."""
    family = rng.choice(kinds.GOALS_FOR[kind])
    goal = rng.choice(kinds.GOALS[family])
    tool, tool_args = rng.choice(kinds.TOOLS)
    return goal.format(
        secret=rng.choice(kinds.SECRETS),
        email=rng.choice(kinds.EMAILS),
        url=rng.choice(kinds.URLS),
        iban=rng.choice(kinds.IBANS),
        product=rng.choice(kinds.PRODUCTS),
        language=rng.choice(kinds.LANGUAGES),
        tool=tool,
        tool_args=tool_args.format(url=rng.choice(kinds.URLS)),
    )


def render(rng: random.Random, kind: str, template: str) -> str:
    """Fill one template of ``kind`` with random vocabulary."""
    goal = _goal(rng, kind) if kind in kinds.GOALS_FOR else ""
    addressee = rng.choice(kinds.ADDRESSEES)
    reader = rng.choice(kinds.READERS)
    conclusion = rng.choice(kinds.CONCLUSIONS).format(product=rng.choice(kinds.PRODUCTS))
    return template.format(
        goal=goal,
        goal_cap=_cap(goal),
        addressee=addressee,
        addressee_cap=_cap(addressee),
        reader=reader,
        reader_cap=_cap(reader),
        conclusion=conclusion,
        conclusion_cap=_cap(conclusion),
        user_task=rng.choice(kinds.USER_TASKS),
        persona=rng.choice(kinds.PERSONAS),
        name=rng.choice(kinds.NAMES),
    )


# --------------------------------------------------------------------------- obfuscation


def _typo(rng: random.Random, word: str) -> str:
    """One edit a hurried or evasive writer makes: swap, drop, double or replace a letter."""
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    edit = rng.choice(["swap", "drop", "double", "vowel"])
    if edit == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if edit == "drop":
        return word[:i] + word[i + 1 :]
    if edit == "double":
        return word[:i] + word[i] + word[i:]
    vowels = "aeiou"
    return word[:i] + rng.choice(vowels) + word[i + 1 :]


LEET = str.maketrans({"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"})


def obfuscate(rng: random.Random, text: str) -> str:
    """Disguise the key words of an attack (misspelling, leetspeak, spaced or dotted letters)."""
    style = rng.choice(["typo", "typo", "leet", "spaced", "dotted", "mixed"])
    words = text.split(" ")
    out = []
    for word in words:
        bare = word.strip(".,:;!?'\"").lower()
        key = bare in kinds.KEY_WORDS or (style in ("typo", "mixed") and len(bare) > 5 and rng.random() < 0.25)
        if not key:
            out.append(word)
            continue
        if style == "typo" or (style == "mixed" and rng.random() < 0.5):
            out.append(word.replace(bare, _typo(rng, bare)) if bare in word else _typo(rng, word))
        elif style == "leet" or style == "mixed":
            out.append(word.translate(LEET))
        elif style == "spaced":
            out.append(" ".join(word))
        else:
            out.append(".".join(word))
    return " ".join(out)


# --------------------------------------------------------------------------- rows


def _row(text: str, label: int, kind: str, carrier: str, split: str, start: int = -1, length: int = 0) -> dict:
    return {
        "text": text,
        "label": label,
        "kind": kind,
        "carrier": carrier,
        "source": SOURCE,
        "split": split,
        "payload": [start, start + length] if start >= 0 else None,
    }


def _carry(rng: random.Random, payload: str, *, direct_share: float = DIRECT_SHARE) -> tuple[str, str, int, int]:
    """Plant ``payload`` into a random carrier; returns (carrier, text, start, length)."""
    if rng.random() < direct_share:
        return "direct", payload, 0, len(payload)
    name = rng.choice([c for c in CARRIERS if c != "direct"])
    text, start = CARRIERS[name](rng, payload)
    if name in ("tool_output",) or (name == "api_error" and text.startswith("{")):
        length = len(json.dumps(payload, ensure_ascii=False)) - 2  # escaped inside a JSON string
    else:
        length = len(payload)
    return name, text, start, length


def attacks(rng: random.Random) -> Iterator[dict]:
    """Template attacks in English (every kind × template × variants), obfuscated ones, other
    languages and the hand-written set."""
    for kind, templates in kinds.TEMPLATES.items():
        for index, template in enumerate(templates):
            split = "test" if index == len(templates) - 1 else "train"
            for _ in range(VARIANTS_PER_TEMPLATE):
                payload = render(rng, kind, template)
                carrier, text, start, length = _carry(rng, payload)
                yield _row(text, 1, kind, carrier, split, start, length)
                if kind in ("instruction_override", "polite_request_first", "goal_in_data", "exfiltration", "prompt_leaking") and rng.random() < 0.35:
                    disguised = obfuscate(rng, payload)
                    carrier, text, start, length = _carry(rng, disguised)
                    yield _row(text, 1, "obfuscation", carrier, split, start, length)
    for language, entries in kinds.MULTILINGUAL.items():
        for index, (_kind, template) in enumerate(entries):
            split = "test" if index == len(entries) - 1 else "train"
            for _ in range(CARRIERS_PER_MULTILINGUAL):
                payload = template.format(email=rng.choice(kinds.EMAILS), url=rng.choice(kinds.URLS), iban=rng.choice(kinds.IBANS))
                carrier, text, start, length = _carry(rng, payload)
                yield _row(text, 1, f"multilingual_{language}", carrier, split, start, length)
    for index, (kind, carrier, text) in enumerate(handwritten.ATTACKS):
        yield _row(text, 1, kind, carrier, "test" if index % 5 == 4 else "train", 0, len(text))


def _held_out(items: list[str]) -> set[int]:
    """Indices of the last fifth of a list (those go to the test split)."""
    return set(range(len(items) - max(1, len(items) // 5), len(items)))


def benign_rows(rng: random.Random) -> Iterator[dict]:
    """Benign documents in every carrier (some with a hard-negative sentence planted), and the
    written lessons, prompts, texts about AI and other-language texts on their own."""
    planted = benign.ABOUT_AI + benign.LESSONS + benign.USER_PROMPTS
    foreign = benign.MULTILINGUAL
    test_planted = {planted[i] for i in _held_out(planted)} | {foreign[i] for i in _held_out(foreign)}
    for name, carrier in CARRIERS.items():
        if name == "direct":
            continue
        for index in range(BENIGN_PER_CARRIER):
            split = "test" if index % 5 == 4 else "train"
            payload = None
            draw = rng.random()
            if draw < 0.6:
                # A third of the planted sentences are German, French or Spanish: attacks in those
                # languages are planted in English carriers too, and a language switch alone must
                # not read as an attack.
                source = foreign if draw < 0.2 else planted
                pool = [p for p in source if (p in test_planted) == (split == "test")]
                payload = rng.choice(pool)
            text, _start = carrier(rng, payload)
            yield _row(text, 0, "benign_document", name, split)
    for family, items in (
        ("benign_lesson", benign.LESSONS),
        ("benign_about_ai", benign.ABOUT_AI),
        ("benign_user_prompt", benign.USER_PROMPTS),
        ("benign_multilingual", benign.MULTILINGUAL),
        # Ordered by template, so the held-out fifth is whole templates the head never saw.
        ("benign_user_task", benign.user_tasks(random.Random(SEED + 1))),
    ):
        test = _held_out(items)
        for index, text in enumerate(items):
            yield _row(text, 0, family, "direct", "test" if index in test else "train")


def generate() -> tuple[list[dict], list[dict]]:
    """All written rows, deduplicated by text, split into (train, test)."""
    rng = random.Random(SEED)
    seen: set[str] = set()
    train: list[dict] = []
    test: list[dict] = []
    for row in [*attacks(rng), *benign_rows(rng)]:
        if row["text"] in seen:
            continue
        seen.add(row["text"])
        (test if row["split"] == "test" else train).append(row)
    return train, test


def write(rows: list[dict], path: Path) -> None:
    """One JSON object per line, keys in a fixed order, UTF-8, ``\\n`` line ends."""
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")


def main() -> None:
    """Write both files and print how many rows of each kind they hold."""
    train, test = generate()
    write(train, HERE / "written_train.jsonl")
    write(test, HERE / "written_test.jsonl")
    for name, rows in (("train", train), ("test", test)):
        counts: dict[str, int] = {}
        for row in rows:
            counts[row["kind"]] = counts.get(row["kind"], 0) + 1
        attacks_n = sum(r["label"] for r in rows)
        print(f"{name}: {len(rows)} rows ({attacks_n} attacks, {len(rows) - attacks_n} benign)")
        print("  " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


if __name__ == "__main__":
    main()
