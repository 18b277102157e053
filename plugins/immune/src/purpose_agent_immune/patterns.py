"""Rule patterns for a linear-time engine: RE2 syntax, and the literals every match must contain.

Rules are written in the familiar Python ``re`` syntax minus the features a linear-time engine
cannot run (lookarounds, backreferences, possessive and atomic groups). :func:`to_re2` parses a
pattern with the standard library's own parser and writes it back in RE2 syntax, with the
differences made explicit:

* ``\\w``, ``\\W``, ``\\s``, ``\\S`` and ``\\d`` keep Python's Unicode meaning (RE2's are ASCII);
* ``\\b`` is RE2's ASCII word boundary, dropped next to a literal that may start or end with a
  non-ASCII letter (``\\bfür`` would never match in RE2, since ``ü`` is not an ASCII word
  character); the rule reads a little wider there;
* ``$`` without multi-line mode also matches before a final newline, as in Python;
* every group becomes non-capturing (a rule's evidence is its whole match).

:func:`required_literals` walks the same parse tree and returns strings one of which every match
must contain (case-folded): a sequence needs its most selective required element, an
alternation needs one of its branches' requirements, an optional element needs nothing.
:func:`gate` keeps the top-level alternatives apart and two required elements of each. The
engine finds all rules' literals in one pass and runs only the rules whose gate holds.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache, lru_cache

# The standard library's own parser: no second grammar to keep. typeshed has no stubs for these
# private modules, hence the ignores.
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

#: A function that folds one character the way the text is normalised (``normalize.fold``), or None.
Fold = Callable[[str], str] | None

#: Python's ``\\w`` for ``str`` patterns (letters, digits of any script, underscore), as an RE2 class body.
WORD = r"\p{L}\p{N}_"
#: Python's ``\\s`` for ``str`` patterns (what ``str.isspace`` accepts), as an RE2 class body.
SPACE = r"\t\n\x{0b}\f\r\x{1c}-\x{1f} \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}"
#: Python's ``\\d`` for ``str`` patterns, as an RE2 class body.
DIGIT = r"\p{Nd}"

_CATEGORY = {
    sre.CATEGORY_WORD: (WORD, False),
    sre.CATEGORY_NOT_WORD: (WORD, True),
    sre.CATEGORY_SPACE: (SPACE, False),
    sre.CATEGORY_NOT_SPACE: (SPACE, True),
    sre.CATEGORY_DIGIT: (DIGIT, False),
    sre.CATEGORY_NOT_DIGIT: (DIGIT, True),
}
_SPECIAL = set(r"\.^$|?*+()[]{}")
_CLASS_SPECIAL = set(r"\]^-[")


class PatternError(ValueError):
    """A pattern uses a feature a linear-time engine cannot run; the message says what to use instead."""


def parse(pattern: str, ignore_case: bool = True) -> Any:
    """The standard library's parse tree of ``pattern`` (raises :class:`PatternError` on bad syntax).

    Cached: a rule's pattern is parsed for its RE2 form, its gate and its prefilter, and nothing
    here changes a tree once parsed.
    """
    try:
        return _parsed(pattern, ignore_case)
    except re.error as exc:
        raise PatternError(f"not a valid regular expression ({exc})") from None


@lru_cache(maxsize=4096)
def _parsed(pattern: str, ignore_case: bool) -> Any:
    return sre_parse.parse(pattern, re.IGNORECASE if ignore_case else 0)


@cache
def _folded(fold: Callable[[str], str], char: str) -> str:
    """``fold(char)``, remembered: patterns repeat their letters, and folding one is a few µs."""
    return fold(char)


def to_re2(pattern: str, ignore_case: bool = True, fold: Fold = None) -> str:
    """``pattern`` (Python ``re`` syntax without lookarounds or backreferences) in RE2 syntax.

    With ``fold``, every literal character is folded as the text will be (a rule run on
    normalised text: "über" in a rule must match "uber", what the text becomes).
    """
    tree = parse(pattern, ignore_case)
    flags = tree.state.flags
    prefix = "".join(f for f, bit in (("i", re.IGNORECASE), ("m", re.MULTILINE), ("s", re.DOTALL)) if flags & bit)
    body = _seq(list(tree), bool(flags & re.MULTILINE), fold)
    return f"(?{prefix}){body}" if prefix else body


#: Bounded repetitions longer than this are made unbounded in a rule's prefilter (:func:`relaxed_re2`).
RELAX_ABOVE = 8


def relaxed_re2(pattern: str, ignore_case: bool = True, fold: Fold = None, longest: int = RELAX_ABOVE) -> str | None:
    """``pattern`` in RE2 syntax with every bounded repetition of more than ``longest`` made unbounded
    (``[^.\n]{0,80}`` becomes ``[^.\n]*``), or None when it has none.

    It matches wherever ``pattern`` matches (and more), so a text it does not match cannot match
    ``pattern`` either; and its automaton is small. Its classes are loose too (``\\w`` reads
    ``[A-Za-z0-9_]`` and every character outside ASCII): Unicode's letter and digit classes make
    most of RE2's compile time (98 prefilters: 0.57 s with them, 0.08 s without). A bounded gap after a common word makes RE2's
    DFA count the distance from every occurrence of the word at once: on text dense in such
    words every byte reaches a new state, which RE2 must build (0.1-0.2 s per megabyte for one
    rule); without the bound the states stay few (a few milliseconds per megabyte).
    """
    tree = parse(pattern, ignore_case)
    if not _has_long_repetition(tree, longest):
        return None
    flags = tree.state.flags
    prefix = "".join(f for f, bit in (("i", re.IGNORECASE), ("m", re.MULTILINE), ("s", re.DOTALL)) if flags & bit)
    body = _seq(list(tree), bool(flags & re.MULTILINE), fold, relax=longest)
    return f"(?{prefix}){body}" if prefix else body


def _has_long_repetition(sub: Any, longest: int) -> bool:
    """True when the parse tree ``sub`` holds a bounded repetition of more than ``longest``."""
    for op, av in sub:
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            _low, high, inner = av
            if (high is not sre.MAXREPEAT and high > longest) or _has_long_repetition(inner, longest):
                return True
        elif op is sre.BRANCH:
            if any(_has_long_repetition(branch, longest) for branch in av[1]):
                return True
        elif op is sre.SUBPATTERN and _has_long_repetition(av[3], longest):
            return True
    return False


def _seq(items: list[tuple[Any, Any]], multiline: bool, fold: Fold = None, relax: int | None = None) -> str:
    out = []
    for index, (op, av) in enumerate(items):
        if op is sre.AT and av is sre.AT_BOUNDARY:
            before = items[index - 1] if index else None
            after = items[index + 1] if index + 1 < len(items) else None
            if _non_ascii_edge(after, True, fold) or _non_ascii_edge(before, False, fold):
                continue
        out.append(_item(op, av, multiline, fold, relax))
    return "".join(out)


def _item(op: Any, av: Any, multiline: bool, fold: Fold = None, relax: int | None = None) -> str:
    """One parse-tree item in RE2 syntax. ``relax``: write :func:`relaxed_re2`'s superset (bounded
    repetitions longer than ``relax`` unbounded, loose classes)."""
    if op is sre.LITERAL:
        if fold is not None:
            return "".join(_escaped(ord(char)) for char in _folded(fold, chr(av)))
        return _escaped(av)
    if op is sre.NOT_LITERAL:
        return f"[^{_escaped(av, _CLASS_SPECIAL)}]"
    if op is sre.ANY:
        return "."
    if op is sre.IN:
        return _class(av, fold, relax is not None)
    if op is sre.BRANCH:
        return "(?:" + "|".join(_seq(list(branch), multiline, fold, relax) for branch in av[1]) + ")"
    if op is sre.SUBPATTERN:
        _group, add, remove, sub = av
        flags = "".join(f for f, bit in (("i", re.IGNORECASE), ("m", re.MULTILINE), ("s", re.DOTALL)) if add & bit)
        off = "".join(f for f, bit in (("i", re.IGNORECASE), ("m", re.MULTILINE), ("s", re.DOTALL)) if remove & bit)
        spec = flags + (f"-{off}" if off else "")
        return f"(?{spec}:{_seq(list(sub), multiline, fold, relax)})"
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
        low, high, sub = av
        if relax is not None and high is not sre.MAXREPEAT and high > relax:
            high = sre.MAXREPEAT
        if high is not sre.MAXREPEAT and high > 1000:
            raise PatternError(f"a repetition of at most {high} is longer than RE2 allows (1000); bound it by 1000")
        body = _seq(list(sub), multiline, fold, relax)
        if len(sub) != 1 or sub[0][0] not in (sre.LITERAL, sre.NOT_LITERAL, sre.ANY, sre.IN, sre.SUBPATTERN):
            body = f"(?:{body})"
        if (low, high) == (0, sre.MAXREPEAT):
            quantifier = "*"
        elif (low, high) == (1, sre.MAXREPEAT):
            quantifier = "+"
        elif (low, high) == (0, 1):
            quantifier = "?"
        elif high is sre.MAXREPEAT:
            quantifier = f"{{{low},}}"
        elif low == high:
            quantifier = f"{{{low}}}"
        else:
            quantifier = f"{{{low},{high}}}"
        return body + quantifier + ("?" if op is sre.MIN_REPEAT else "")
    if op is sre.AT:
        if av in (sre.AT_BEGINNING, sre.AT_BEGINNING_LINE):
            return "^"
        if av is sre.AT_BEGINNING_STRING:
            return r"\A"
        if av in (sre.AT_END, sre.AT_END_LINE):
            # Python's "$" also matches before a final newline; RE2's only at the very end
            return "$" if multiline else r"(?:\n?\z)"
        if av is sre.AT_END_STRING:
            return r"\z"
        if av is sre.AT_BOUNDARY:
            return r"\b"
        if av is sre.AT_NON_BOUNDARY:
            return r"\B"
    if op in (sre.ASSERT, sre.ASSERT_NOT):
        raise PatternError(
            "lookarounds ((?=…), (?!…), (?<=…), (?<!…)) cannot run in linear time; use the rule's "
            "'unless' / 'unless_match' keys, match the context instead of looking at it, or write a detector function"
        )
    if op in (sre.GROUPREF, sre.GROUPREF_EXISTS):
        raise PatternError("backreferences cannot run in linear time; write a detector function instead")
    raise PatternError(f"the construct {op} is not supported by the rule engine")


def _escaped(code: int, special: set[str] = _SPECIAL) -> str:
    """The character ``code`` as RE2 reads it literally: escaped when in ``special`` (the set
    outside a class, or :data:`_CLASS_SPECIAL` inside one), control characters as ``\\x{..}``."""
    char = chr(code)
    if char in special:
        return "\\" + char
    if code < 0x20 or code == 0x7F:
        return f"\\x{{{code:x}}}"
    return char


#: ``loose`` classes (:func:`relaxed_re2`): Unicode's letters and digits, whose UTF-8 automata make
#: most of a pattern's compile time, widened to every character outside ASCII.
_LOOSE_BODY = {WORD: "A-Za-z0-9_", DIGIT: "0-9"}
_NON_ASCII = r"\x{80}-\x{10ffff}"


def _class(items: list[tuple[Any, Any]], fold: Fold = None, loose: bool = False) -> str:
    """An RE2 class for the parsed class ``items``. ``loose``: a superset that compiles fast, every
    character outside ASCII in it (taken out of the characters a negated class excludes)."""
    negate = bool(items) and items[0][0] is sre.NEGATE
    categories = {av for op, av in items if op is sre.CATEGORY}
    if not negate and any(_CATEGORY[c][0] == _CATEGORY[d][0] and c is not d for c in categories for d in categories):
        return "(?s:.)"  # [\s\S] and the like: any character, newlines included
    parts = []
    for op, av in items[1:] if negate else items:
        if op is sre.LITERAL:
            folded = _folded(fold, chr(av)) if fold is not None else chr(av)
            parts.append(_escaped(ord(folded) if len(folded) == 1 else av, _CLASS_SPECIAL))
        elif op is sre.RANGE:
            parts.append(f"{_escaped(av[0], _CLASS_SPECIAL)}-{_escaped(av[1], _CLASS_SPECIAL)}")
        elif op is sre.CATEGORY:
            body, negated = _CATEGORY[av]
            if loose and body in _LOOSE_BODY:
                # excluded (a negated class or category): only the ASCII ones; included: all outside ASCII too
                body = _LOOSE_BODY[body] if negate or negated else _LOOSE_BODY[body] + _NON_ASCII
            if negated:
                if len(items) == 1:
                    return f"[^{body}]"
                raise PatternError(r"a character class may not mix \W, \S or \D with other items; spell the class out")
            parts.append(body)
        else:
            raise PatternError(f"the class item {op} is not supported by the rule engine")
    return ("[^" if negate else "[") + "".join(parts) + "]"


def _non_ascii_edge(item: tuple[Any, Any] | None, first: bool, fold: Fold = None) -> bool:
    """True if ``item`` may start (``first``) or end with a non-ASCII letter written as a literal."""
    if item is None:
        return False
    chars = _edge_chars(item, first)
    if fold is not None:
        chars = {folded[0 if first else -1] for folded in map(fold, chars) if folded}
    return any(ord(char) > 127 and char.isalnum() for char in chars)


def _edge_chars(item: tuple[Any, Any], first: bool) -> set[str]:
    op, av = item
    if op is sre.LITERAL:
        return {chr(av)}
    if op is sre.IN:
        return {chr(v) for o, v in av if o is sre.LITERAL}
    if op is sre.BRANCH:
        chars: set[str] = set()
        for branch in av[1]:
            if branch:
                chars |= _edge_chars(branch[0] if first else branch[-1], first)
        return chars
    if op is sre.SUBPATTERN and av[3]:
        sub = list(av[3])
        return _edge_chars(sub[0] if first else sub[-1], first)
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT) and av[2]:
        sub = list(av[2])
        return _edge_chars(sub[0] if first else sub[-1], first)
    return set()


# ------------------------------------------------------------------ required literals (gates)


def required_literals(pattern: str, ignore_case: bool = True, fold: Fold = None) -> frozenset[str] | None:
    """Case-folded strings one of which every match of ``pattern`` contains; ``None`` if there are none.

    A caller may skip the pattern on a text whose case-folded form contains none of them.
    """
    found = _best(_clauses(list(parse(pattern, ignore_case)), fold))
    return frozenset(found) if found else None


#: A gate: alternatives, each a conjunction of clauses, each clause a set of literals one of
#: which must occur. ``None`` means the pattern may match any text.
Gate = tuple[tuple[frozenset[str], ...], ...]

#: How many clauses of one alternative a gate keeps (the most selective ones).
CLAUSES_PER_ALTERNATIVE = 2


def gate(pattern: str, ignore_case: bool = True, fold: Fold = None) -> Gate | None:
    """The literals a text needs for ``pattern`` to match it, as alternatives of conjunctions.

    The top-level alternatives of the pattern are kept apart (``a…b|c…d`` needs a and b, or c
    and d), and within each the :data:`CLAUSES_PER_ALTERNATIVE` most selective required elements
    are kept: a rule then runs only on a text that holds a literal of every clause of one of its
    alternatives, which is far rarer than holding one literal of one clause.
    """
    items = [item for item in parse(pattern, ignore_case) if item[0] is not sre.AT]
    while len(items) == 1 and items[0][0] is sre.SUBPATTERN:
        items = [item for item in items[0][1][3] if item[0] is not sre.AT]
    branches = items[0][1][1] if len(items) == 1 and items[0][0] is sre.BRANCH else [items]
    alternatives = []
    for branch in branches:
        clauses = _clauses(list(branch), fold)
        if not clauses:
            return None
        ranked = sorted(clauses, key=_selectivity, reverse=True)[:CLAUSES_PER_ALTERNATIVE]
        alternatives.append(tuple(frozenset(clause) for clause in ranked))
    return tuple(alternatives)


def _selectivity(strings: set[str]) -> tuple[int, int]:
    """Longer shortest string first, then fewer strings."""
    return (min(len(s.strip()) for s in strings), -len(strings))


def _best(clauses: list[set[str]]) -> set[str] | None:
    return max(clauses, key=_selectivity) if clauses else None


def _clauses(items: list[tuple[Any, Any]], fold: Fold = None) -> list[set[str]]:
    """Every required element of a sequence, as a set of literals one of which a match contains."""
    candidates: list[set[str]] = []
    run: list[str] = []
    for op, av in items:
        if op is sre.LITERAL:
            run.append(fold(chr(av)) if fold is not None else chr(av))
            continue
        if op is sre.AT:
            continue  # zero-width: the literal run goes on across it
        if "".join(run):
            candidates.append({"".join(run).casefold()})
        run = []
        needed: set[str] | None = None
        if op is sre.SUBPATTERN:
            needed = _best(_clauses(list(av[3]), fold))
        elif op is sre.BRANCH:
            union: set[str] = set()
            for branch in av[1]:
                one = _best(_clauses(list(branch), fold))
                if one is None:
                    union = set()
                    break
                union |= one
            needed = union or None
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT) and av[0] >= 1:
            needed = _best(_clauses(list(av[2]), fold))
        elif op is sre.IN and len(av) == 1 and av[0][0] is sre.LITERAL:
            char = chr(av[0][1])
            needed = {(fold(char) if fold is not None else char).casefold()} - {""}
        if needed:
            candidates.append(needed)
    if "".join(run):
        candidates.append({"".join(run).casefold()})
    return candidates
