"""Rules as data: read the ``rules/*.toml`` files of a scanner into :class:`.detectors.Rule` objects.

A folder holds one ``vocabulary.toml`` (named word lists) and one file per attack family. A
vocabulary is either ``words = [...]`` (regex fragments, joined as one alternation) or
``pattern = "..."``; a pattern refers to it as ``{name}`` (vocabularies may refer to each other).
A family file is::

    family = "override"
    description = "what the family is"

    [[rules]]
    id = "injection.override.ignore-previous"      # stable: findings and reports carry it
    category = "instruction_override"              # the scanner's settings toggle
    severity = "critical"
    sources = []                                   # request sources it applies to (empty: all)
    pattern = '''\\b{override_verb}\\b …'''
    negatable = false                              # drop a match whose clause is negated
    escalate_if = '''…'''                          # and escalate_to = "high"
    unless = '''…'''                               # present anywhere in the text: no hit
    unless_match = '''…'''                         # present inside a match: that match does not count
    case_sensitive = false
    explanation = "the one line a reviewer reads"
    match = ["a sentence the rule must flag", …]
    no_match = ["a near miss it must let through", …]

Every error names the file, the rule and the key, and says what to write instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from .detectors import SEVERITIES, Rule

#: Where the rule folders live: ``rules/<scanner>/`` next to this module.
RULES_DIR = Path(__file__).resolve().parent / "rules"

_REFERENCE = re.compile(r"\{([a-z][a-z0-9_]*)\}")
_RULE_KEYS = {
    "id": str,
    "category": str,
    "severity": str,
    "sources": list,
    "pattern": str,
    "negatable": bool,
    "escalate_if": str,
    "escalate_to": str,
    "unless": str,
    "unless_match": str,
    "case_sensitive": bool,
    "explanation": str,
    "match": list,
    "no_match": list,
}
_REQUIRED = ("id", "category", "severity", "pattern", "explanation")
_SOURCES = {"lesson", "prompt", "document", "tool_output", "other"}
_ID = re.compile(r"[a-z][a-z0-9-]*(?:\.[a-z0-9][a-z0-9-]*){2,}")


class RuleFileError(ValueError):
    """A rule file is invalid; the message names the file, the rule and the key."""


def _read(path: Path) -> dict[str, Any]:
    import tomllib

    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise RuleFileError(f"{path}: not valid TOML ({exc})") from None


def load_vocabulary(path: Path) -> dict[str, str]:
    """Every vocabulary of ``path`` as a regex fragment, with references between them resolved."""
    raw: dict[str, str] = {}
    for name, entry in _read(path).items():
        if not _REFERENCE.fullmatch("{" + name + "}"):
            raise RuleFileError(f"{path}: vocabulary name {name!r} must be lower-case letters, digits and '_'")
        if not isinstance(entry, dict) or ("words" in entry) == ("pattern" in entry):
            raise RuleFileError(f"{path}: vocabulary {name!r} needs exactly one of 'words' (a list) or 'pattern'")
        if "words" in entry:
            words = entry["words"]
            if not isinstance(words, list) or not words or not all(isinstance(w, str) and w for w in words):
                raise RuleFileError(f"{path}: vocabulary {name!r}: 'words' must be a non-empty list of strings")
            raw[name] = "(?:" + "|".join(words) + ")"
        else:
            raw[name] = str(entry["pattern"])
    resolved: dict[str, str] = {}

    def resolve(name: str, trail: tuple[str, ...]) -> str:
        if name in resolved:
            return resolved[name]
        if name in trail:
            raise RuleFileError(f"{path}: vocabulary {name!r} refers to itself ({' -> '.join((*trail, name))})")

        def substitute(match: re.Match[str]) -> str:
            inner = match.group(1)
            if inner not in raw:
                raise RuleFileError(f"{path}: vocabulary {name!r} refers to {{{inner}}}, which is not defined")
            return resolve(inner, (*trail, name))

        resolved[name] = _REFERENCE.sub(substitute, raw[name])
        return resolved[name]

    for name in raw:
        resolve(name, ())
    return resolved


def expand(pattern: str, vocabulary: Mapping[str, str], where: str) -> str:
    """``pattern`` with every ``{name}`` replaced by its vocabulary (an unknown name is an error)."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in vocabulary:
            known = ", ".join(sorted(vocabulary))
            raise RuleFileError(
                f"{where}: {{{name}}} is not a vocabulary; define it in vocabulary.toml (known: {known})"
            )
        return vocabulary[name]

    return _REFERENCE.sub(substitute, pattern)


def load_family(path: Path, vocabulary: Mapping[str, str], normalized: bool = False) -> list[Rule]:
    """The rules of one family file, checked and with their vocabularies expanded.

    ``normalized``: the rules will read normalised text (their literals are folded to match it).
    """
    data = _read(path)
    unknown_top = set(data) - {"family", "description", "rules"}
    if unknown_top:
        raise RuleFileError(
            f"{path}: unknown top-level key(s) {', '.join(sorted(unknown_top))}; use family, description, rules"
        )
    entries = data.get("rules", [])
    if not isinstance(entries, list) or not entries:
        raise RuleFileError(f"{path}: no [[rules]] tables; a family file holds at least one rule")
    rules = []
    for number, entry in enumerate(entries, start=1):
        where = f"{path.name}, rule {entry.get('id', f'#{number}')!s}"
        unknown = set(entry) - set(_RULE_KEYS)
        if unknown:
            raise RuleFileError(
                f"{where}: unknown key(s) {', '.join(sorted(unknown))}; allowed: {', '.join(_RULE_KEYS)}"
            )
        missing = [key for key in _REQUIRED if key not in entry]
        if missing:
            raise RuleFileError(f"{where}: missing {', '.join(missing)}")
        for key, kind in _RULE_KEYS.items():
            if key in entry and not isinstance(entry[key], kind):
                raise RuleFileError(f"{where}: {key} must be a {kind.__name__}, got {type(entry[key]).__name__}")
        if not _ID.fullmatch(entry["id"]):
            raise RuleFileError(f"{where}: id must look like 'scanner.family.name' (lower case, dots, dashes)")
        for key in ("severity", "escalate_to"):
            if key in entry and entry[key] not in SEVERITIES:
                raise RuleFileError(f"{where}: {key} must be one of {', '.join(SEVERITIES)}, got {entry[key]!r}")
        bad_sources = set(entry.get("sources", [])) - _SOURCES
        if bad_sources:
            raise RuleFileError(
                f"{where}: unknown source(s) {', '.join(sorted(bad_sources))}; use {', '.join(sorted(_SOURCES))}"
            )
        for key in ("match", "no_match"):
            if not all(isinstance(example, str) and example for example in entry.get(key, [])):
                raise RuleFileError(f"{where}: {key} must be a list of non-empty strings")
        patterns = {
            key: expand(entry[key], vocabulary, f"{where}, {key}") if key in entry else None
            for key in ("pattern", "escalate_if", "unless", "unless_match")
        }
        rules.append(
            Rule(
                id=entry["id"],
                category=entry["category"],
                severity=entry["severity"],
                pattern=patterns["pattern"] or "",
                explanation=entry["explanation"],
                negatable=entry.get("negatable", False),
                escalate_if=patterns["escalate_if"],
                escalate_to=entry.get("escalate_to", "high"),
                unless=patterns["unless"],
                unless_match=patterns["unless_match"],
                sources=frozenset(entry.get("sources", [])),
                case_sensitive=entry.get("case_sensitive", False),
                match=tuple(entry.get("match", [])),
                no_match=tuple(entry.get("no_match", [])),
                origin=f"rules/{path.parent.name}/{path.name}",
                normalized=normalized,
            )
        )
    return rules


@cache
def load_rules(scanner: str, normalized: bool = False) -> tuple[Rule, ...]:
    """Every rule of ``rules/<scanner>/`` (family files in name order); ids must be unique.

    ``normalized``: the scanner runs its rules on normalised text (see :class:`.detectors.Rule`).
    """
    folder = RULES_DIR / scanner
    vocabulary = load_vocabulary(folder / "vocabulary.toml") if (folder / "vocabulary.toml").exists() else {}
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for path in sorted(folder.glob("*.toml")):
        if path.name == "vocabulary.toml":
            continue
        for one in load_family(path, vocabulary, normalized):
            if one.id in seen:
                raise RuleFileError(
                    f"rule id {one.id} is used twice ({seen[one.id]} and {path.name}); ids must be unique"
                )
            seen[one.id] = path.name
            rules.append(one)
    if not rules:
        raise RuleFileError(f"{folder}: no rule files found; the package is incomplete, reinstall purpose-agent-immune")
    return tuple(rules)
