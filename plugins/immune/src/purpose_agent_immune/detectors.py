"""The detector engine every immune scanner shares: rules, hits, and the scan itself.

A scanner is a list of rules plus a few detector functions. A :class:`Rule` is a pattern with an
id, a category, a severity and a one-line explanation, plus optional structure around it: the
hit is dropped when its clause negates it (``negatable``), when another pattern occurs anywhere
in the text (``unless``) or inside the match (``unless_match``); it is raised to a higher
severity when a second pattern also occurs (``escalate_if``). The injection scanner's rules are
data (``rules/*.toml``, read by :mod:`.rulefiles`); the smaller scanners build theirs with
:func:`rule`. A detector function covers what a pattern cannot express (decoding a base64
payload, a Luhn checksum). :class:`Scanner` runs them, applies the plugin's settings and turns
hits into :class:`purpose_agent.models.Finding` objects.

Linear time: every rule pattern runs on RE2 (``google-re2``), whose matching time is linear in
the length of the text whatever the pattern. The rules a text can possibly match are chosen
first: :func:`.patterns.gate` gives, for each pattern, the literal strings a matching text must
contain (per top-level alternative, one of each of its two most selective required elements);
one RE2 set search finds which of all those strings occur in the text, and only the rules whose
gate holds run (:class:`RuleSet`).

Only the standard library is imported at module level: RE2 and the models (pydantic) are
imported on the first scan, so discovering and listing the plugins stays cheap.
"""

from __future__ import annotations

import itertools
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from .patterns import Fold, Gate, PatternError, gate, relaxed_re2, to_re2

#: Severity names in increasing order; the index is the rank.
SEVERITIES: tuple[str, ...] = ("low", "medium", "high", "critical")

#: Evidence longer than this is cut: a finding quotes the start of the match, not a whole page.
MAX_EVIDENCE = 200

#: RE2's memory budget per compiled pattern (its default, 8 MiB, is too small for the largest
#: vocabulary alternations inside bounded repetitions).
_RE2_MAX_MEM = 64 << 20
#: RE2's memory budget for the literal set search of a scanner's gates.
_RE2_SET_MAX_MEM = 512 << 20
#: From this length on, a rule whose pattern has long bounded repetitions first runs its relaxed
#: form (:meth:`Rule.prefilter`), which is cheap where the pattern itself is not: on a megabyte
#: dense in key words it saves 0.1-0.2 s per such rule whenever the relaxed form finds nothing,
#: and costs a few milliseconds when it does. Below it both are cheap and the rule runs alone.
PREFILTER_MIN = 32_768


#: Categories no ``categories`` switch turns off: they say the scan itself could not finish, and
#: switching them off would let an unread text through (the budget is the setting to change).
ALWAYS_REPORTED = frozenset({"decode_budget"})


def rank(severity: str) -> int:
    """0 for ``low`` … 3 for ``critical``; raises ``ValueError`` naming the valid values."""
    try:
        return SEVERITIES.index(severity)
    except ValueError:
        raise ValueError(f"unknown severity {severity!r}; use one of {', '.join(SEVERITIES)}") from None


@dataclass(frozen=True)
class Hit:
    """One piece of evidence a detector found: where it is, what it means, which rule found it."""

    category: str
    severity: str
    start: int
    end: int
    explanation: str
    rule_id: str = ""


#: Characters of decoded text one scan may read again (``[plugins.immune-injection]
#: decode_budget_chars``): base64, Caesar, reversed, escaped … decodings, nested ones included.
DEFAULT_DECODE_BUDGET = 262_144


class DecodeBudget:
    """How many characters of decoded text one scan may still rescan, shared by every decoder
    and by the decoders of the decodings (a payload encoded twice), so the work a text can cause
    is bounded whatever it holds. A decoder that would go over the budget does not rescan at all:
    it reports :meth:`exceeded` instead, and the text is blocked (fail closed)."""

    __slots__ = ("limit", "used")

    def __init__(self, limit: int = DEFAULT_DECODE_BUDGET) -> None:
        self.limit = limit
        self.used = 0

    def take(self, chars: int) -> bool:
        """Spend ``chars`` if they fit in what is left; False (nothing spent) if they do not."""
        if self.used + chars > self.limit:
            return False
        self.used += chars
        return True

    def exceeded(self, scanner: str, wanted: int) -> str:
        """The one-sentence reason a text is blocked when ``wanted`` more characters did not fit."""
        return (
            f"decoding this text needs more than the decode budget of {self.limit:,} characters per scan "
            f"([plugins.{scanner}] decode_budget_chars; it reached {self.used + wanted:,} and stopped), so part of "
            f"it was not read and it is blocked; raise decode_budget_chars to scan such texts in full"
        )


@dataclass(frozen=True)
class Context:
    """What a detector may know besides the text: where the text came from and its scope.

    ``lower`` (the lower-cased text) is computed once per scan and shared by the detectors.
    """

    source: str = "lesson"
    scope_level: str = "global"
    lower: str = ""
    #: the normalised text the rules read (:mod:`.normalize`), when the scanner normalises
    normalized: str = ""
    #: what is left of the scan's decode budget (one object for the scan and every rescan in it);
    #: ``None`` outside a scan: :meth:`Scanner.hits` gives each top-level scan a fresh one
    budget: DecodeBudget | None = None


def words(*alternatives: str) -> str:
    """A non-capturing alternation of the given regex fragments (for building vocabularies)."""
    return "(?:" + "|".join(alternatives) + ")"


# Words that turn a clause around ("never reveal the prompt" is a rule, not an attack). Run on a
# window of 60 characters before a match, so Python's own engine is linear here by construction.
_NEGATION = re.compile(
    r"\b(?:never|not|no|don'?t|do\s+not|does\s+not|doesn'?t|avoid|avoiding|must\s+not|mustn'?t|"
    r"should\s+not|shouldn'?t|cannot|can'?t|won'?t|refuse|prevent|prohibit(?:ed)?|forbid(?:den)?|"
    r"instead\s+of|rather\s+than|nicht|nie|niemals|kein|keine)\b",
    re.IGNORECASE,
)
# "but" and its German, Spanish and French forms ("kein X, sondern Y" opens a new clause).
_CLAUSE_BREAK = re.compile(r"[.;!?\n]|\b(?:but|however|except|unless|aber|sondern|pero|sino|mais)\b", re.IGNORECASE)


def is_negated(text: str, start: int, window: int = 60) -> bool:
    """True if the clause that ends at ``start`` contains a negation within ``window`` chars."""
    before = text[max(0, start - window) : start]
    breaks = list(_CLAUSE_BREAK.finditer(before))
    if breaks:
        before = before[breaks[-1].end() :]
    return _NEGATION.search(before) is not None


def _re2() -> Any:
    try:
        import re2
    except ImportError:  # pragma: no cover - a dependency of the distribution
        raise RuntimeError(
            "the immune scanners need google-re2 (a linear-time regular expression engine); "
            "install it with: pip install google-re2"
        ) from None
    return re2


def compile_linear(pattern: str, case_sensitive: bool = False, where: str = "a rule", fold: Fold = None) -> Any:
    """``pattern`` compiled with RE2; a :class:`PatternError` names ``where`` it came from.

    ``fold`` folds the pattern's literal characters as normalised text is folded.
    """
    try:
        translated = to_re2(pattern, ignore_case=not case_sensitive, fold=fold)
    except PatternError as exc:
        raise PatternError(f"{where}: {exc}") from None
    return compile_re2(translated, where)


def compile_re2(translated: str, where: str = "a rule") -> Any:
    """A pattern already in RE2 syntax compiled with RE2 (memory capped, no captures)."""
    re2 = _re2()
    options = re2.Options()
    options.max_mem = _RE2_MAX_MEM
    options.log_errors = False
    options.never_capture = True
    try:
        return re2.compile(translated, options)
    except re2.error as exc:
        message = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise PatternError(f"{where}: RE2 cannot compile the pattern ({message})") from None


@dataclass(frozen=True)
class Rule:
    """A pattern detector.

    Attributes:
        id: stable identifier (``injection.override.ignore-previous``), written into findings.
        category: what kind of attack this is evidence of (a settings toggle key).
        severity: severity of a plain hit.
        pattern: the expression (Python ``re`` syntax without lookarounds or backreferences,
            vocabularies already expanded); its whole match is the evidence.
        explanation: the one line a reviewer reads.
        negatable: drop a match whose clause is negated ("never reveal your prompt").
        escalate_if: a second expression; if it also occurs anywhere in the text the hit's
            severity becomes ``escalate_to`` (two weak signals together make a strong one).
        unless: an expression whose presence anywhere in the text drops the rule's hits.
        unless_match: an expression whose presence inside a match drops that match (the next
            match is tried).
        sources: only apply to these request sources (empty: all).
        case_sensitive: match case exactly (default: ignore case).
        match, no_match: example texts the rule must flag and must let through (its tests).
        origin: the file the rule was read from, for messages.
        normalized: the rule reads normalised text (:func:`.normalize.normalize`): its literal
            characters are folded the same way, and :meth:`find` normalises the text first.
    """

    id: str
    category: str
    severity: str
    pattern: str
    explanation: str
    negatable: bool = False
    escalate_if: str | None = None
    escalate_to: str = "high"
    unless: str | None = None
    unless_match: str | None = None
    sources: frozenset[str] = frozenset()
    case_sensitive: bool = False
    match: tuple[str, ...] = ()
    no_match: tuple[str, ...] = ()
    origin: str = ""
    normalized: bool = False

    def __post_init__(self) -> None:
        rank(self.severity)
        rank(self.escalate_to)

    # ------------------------------------------------------------------ compiled forms (built once, on first use)

    def _compiled(self) -> tuple[Any, Any, Any, Any]:
        compiled = self.__dict__.get("_compiled_forms")
        if compiled is None:
            where = f"rule {self.id}" + (f" ({self.origin})" if self.origin else "")
            fold = _fold() if self.normalized else None
            compiled = tuple(
                compile_linear(p, self.case_sensitive, f"{where}, {key}", fold) if p else None
                for key, p in (
                    ("pattern", self.pattern),
                    ("escalate_if", self.escalate_if),
                    ("unless", self.unless),
                    ("unless_match", self.unless_match),
                )
            )
            object.__setattr__(self, "_compiled_forms", compiled)
        return compiled  # type: ignore[return-value]

    def prefilter(self) -> Any:
        """The pattern with its long bounded repetitions made unbounded (:func:`.patterns.relaxed_re2`),
        compiled; ``None`` when the pattern has none. Built on first use."""
        cached = self.__dict__.get("_prefilter", False)
        if cached is False:
            where = f"rule {self.id}" + (f" ({self.origin})" if self.origin else "") + ", prefilter"
            fold = _fold() if self.normalized else None
            try:
                relaxed = relaxed_re2(self.pattern, ignore_case=not self.case_sensitive, fold=fold)
            except PatternError as exc:
                raise PatternError(f"{where}: {exc}") from None
            cached = None if relaxed is None else compile_re2(relaxed, where)
            object.__setattr__(self, "_prefilter", cached)
        return cached

    def gate(self) -> Gate | None:
        """The literals a text needs for this rule to match (:func:`.patterns.gate`; ``None``: always runs)."""
        cached = self.__dict__.get("_gate", False)
        if cached is False:
            try:
                cached = gate(
                    self.pattern, ignore_case=not self.case_sensitive, fold=_fold() if self.normalized else None
                )
            except PatternError as exc:
                raise PatternError(f"rule {self.id}: {exc}") from None
            object.__setattr__(self, "_gate", cached)
        return cached  # type: ignore[return-value]

    def literals(self) -> frozenset[str] | None:
        """Every literal of the rule's gate (``None``: the rule always runs)."""
        rule_gate = self.gate()
        if rule_gate is None:
            return None
        return frozenset(literal for alternative in rule_gate for clause in alternative for literal in clause)

    def compile(self) -> None:
        """Compile every pattern of the rule now (raises :class:`PatternError` naming the rule)."""
        self._compiled()
        self.gate()

    # ------------------------------------------------------------------ matching

    def find(self, text: str, context: Context) -> Iterable[Hit]:
        """The rule's hit on ``text`` when it applies to ``context.source`` (no gate: always runs).

        A normalised rule reads the normalised text; its hit's span points into ``text``.
        """
        if self.sources and context.source not in self.sources:
            return ()
        if not self.normalized:
            return self.matches(text)
        view = normalized_view(text)
        return [_moved(hit, view.span) for hit in self.matches(view.text)]

    def matches(self, text: str, memo: dict[Any, bool] | None = None, encoded: bytes | None = None) -> Iterable[Hit]:
        """The hit for the first match that survives negation and ``unless_match``.

        ``memo`` caches searches shared by several rules on one text (``unless``, ``escalate_if``).
        ``encoded``: ``text`` in UTF-8, when the caller runs many rules on one non-ASCII text (RE2's
        binding encodes a ``str`` on every call: about 1 ms per megabyte, per rule); the matches
        are then found in the bytes and their offsets counted back in characters.
        """
        pattern, escalate_if, unless, unless_match = self._compiled()
        subject: str | bytes = text if encoded is None or len(encoded) == len(text) else encoded
        if len(text) >= PREFILTER_MIN:
            prefilter = self.prefilter()
            if prefilter is not None and prefilter.search(subject) is None:
                return
        offsets = _CharOffsets(encoded) if subject is encoded else None
        for match in pattern.finditer(subject):
            start, end = match.span()
            if end == start:
                continue
            if offsets is not None:
                start, end = offsets.char(start), offsets.char(end)
            if self.negatable and is_negated(text, start):
                continue
            if unless_match is not None and unless_match.search(text[start:end]) is not None:
                continue
            if unless is not None and _occurs(unless, subject, memo):
                return
            severity = self.severity
            if escalate_if is not None and _occurs(escalate_if, subject, memo):
                severity = max(severity, self.escalate_to, key=rank)
            yield Hit(self.category, severity, start, end, self.explanation, self.id)
            return


class _CharOffsets:
    """Byte offsets of a UTF-8 text turned into character offsets, for offsets that mostly grow:
    each is counted from the last one (a C-level decode of the bytes between), so a pass over
    the matches of a text decodes it about once."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.byte = self.at = 0

    def char(self, byte: int) -> int:
        if byte < self.byte:  # went back: count from the start again
            self.byte = self.at = 0
        self.at += len(self.data[self.byte : byte].decode("utf-8"))
        self.byte = byte
        return self.at


def _fold() -> Fold:
    from .normalize import fold

    return fold


# The last text normalised and its view: the scanners that normalise look at the same text in a row.
_last_view: tuple[str, Any] = ("", None)


def normalized_view(text: str) -> Any:
    """:func:`.normalize.normalize` of ``text`` with the default vocabulary (cached for the last text)."""
    global _last_view
    if _last_view[0] is not text or _last_view[1] is None:
        from .normalize import DEFAULT_VOCABULARY, normalize

        _last_view = (text, normalize(text, vocabulary=DEFAULT_VOCABULARY))
    return _last_view[1]


def _moved(hit: Hit, span: Callable[[int, int], tuple[int, int]]) -> Hit:
    """``hit`` with its span mapped through ``span`` (normalised text -> original text)."""
    start, end = span(hit.start, hit.end)
    return Hit(hit.category, hit.severity, start, end, hit.explanation, hit.rule_id)


def _occurs(pattern: Any, text: str | bytes, memo: dict[Any, bool] | None) -> bool:
    if memo is None:
        return pattern.search(text) is not None
    key = pattern.pattern
    found = memo.get(key)
    if found is None:
        found = memo[key] = pattern.search(text) is not None
    return found


def rule(
    id: str,
    category: str,
    severity: str,
    pattern: str,
    explanation: str,
    *,
    negatable: bool = False,
    escalate_if: str | None = None,
    escalate_to: str = "high",
    unless: str | None = None,
    unless_match: str | None = None,
    sources: Iterable[str] = (),
    case_sensitive: bool = False,
) -> Rule:
    """Build a :class:`Rule` in Python (the patterns are compiled on the first scan, not here)."""
    return Rule(
        id=id,
        category=category,
        severity=severity,
        pattern=pattern,
        explanation=explanation,
        negatable=negatable,
        escalate_if=escalate_if,
        escalate_to=escalate_to,
        unless=unless,
        unless_match=unless_match,
        sources=frozenset(sources),
        case_sensitive=case_sensitive,
    )


#: A detector function: text and context in, hits out.
DetectorFunction = Callable[[str, Context], Iterable[Hit]]
Detector = Rule | DetectorFunction


class RuleSet:
    """A tuple of rules, compiled, with the one-pass literal search that picks the rules to run.

    Each alternative of a rule's gate is filed under the literals of its most selective clause;
    its other clauses become bit masks over the literal numbers, checked only when one of those
    literals occurs (most texts touch a few alternatives, and each check is one AND of two ints).
    """

    def __init__(self, rules: Sequence[Rule]) -> None:
        re2 = _re2()
        self.rules = tuple(rules)
        for one in self.rules:
            one.compile()
        number: dict[str, int] = {}
        for one in self.rules:
            for literal in sorted(one.literals() or ()):
                number.setdefault(literal, len(number))
        self.literals = tuple(number)
        #: per literal number: (rule position, masks of the alternative's other clauses)
        self._alternatives: list[list[tuple[int, tuple[int, ...]]]] = [[] for _ in self.literals]
        self._always: list[int] = []
        for position, one in enumerate(self.rules):
            rule_gate = one.gate()
            if rule_gate is None:
                self._always.append(position)
                continue
            for key, *others in rule_gate:
                masks = tuple(sum(1 << number[literal] for literal in clause) for clause in others)
                for literal in key:
                    self._alternatives[number[literal]].append((position, masks))
        options = re2.Options()
        # RE2's set search has no fallback when its DFA runs out of memory (the binding then
        # reports no match): a literal set's DFA has at most one state per trie node (~15,000
        # here), which this budget holds many times over; tested on texts made of every literal.
        options.max_mem = _RE2_SET_MAX_MEM
        options.log_errors = False
        self._set = None
        if self.literals:
            self._set = re2.Set.SearchSet(options)
            for literal in self.literals:
                self._set.Add(re2.escape(literal))
            self._set.Compile()

    def found(self, folded: str) -> list[int]:
        """The numbers of the gate literals that occur in ``folded`` (one RE2 pass)."""
        if self._set is None or not folded:
            return []
        return self._set.Match(folded) or []

    def candidates(self, folded: str) -> list[Rule]:
        """The rules whose gate holds on a text whose ``str.casefold()`` is ``folded``, in rule order."""
        found = self.found(folded)
        present = 0
        for index in found:
            present |= 1 << index
        chosen = set(self._always)
        for index in found:
            for position, masks in self._alternatives[index]:
                if position not in chosen and all(mask & present for mask in masks):
                    chosen.add(position)
        return [self.rules[position] for position in sorted(chosen)]


# Compiled rule sets, keyed by the identity of the rule tuple they were built from.
_RULE_SETS: dict[int, tuple[tuple[Rule, ...], RuleSet]] = {}


def rule_set(rules: tuple[Rule, ...]) -> RuleSet:
    """The compiled :class:`RuleSet` of ``rules`` (built on first use, shared by every scanner using it)."""
    cached = _RULE_SETS.get(id(rules))
    if cached is None or cached[0] is not rules:
        cached = _RULE_SETS[id(rules)] = (rules, RuleSet(rules))
    return cached[1]


_SURROGATE = re.compile("[\ud800-\udfff]")


def _encodable(text: str) -> str:
    """``text`` with lone surrogates (which UTF-8 cannot carry) replaced by U+FFFD; offsets are unchanged."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text


@dataclass
class Scanner:
    """One immune scanner: its plugin id, its categories, its rules and detector functions.

    Attributes:
        name: the plugin id, written into every finding (``immune-injection``, …).
        categories: category -> one-line description (documents the settings toggles).
        rules: the scanner's rules, or a function returning them (read on the first scan, so
            importing the plugin stays cheap).
        functions: detector functions, run after the rules, in order.
        combine: optional ``(min_distinct, category, severity, explanation)``: when at least
            ``min_distinct`` different categories hit below ``severity``, add one finding of
            that severity (several weak signals together are a strong one).
        decode_budget: characters of decoded text a scan may rescan (:class:`DecodeBudget`),
            unless the settings say otherwise.
        decodes: the scanner has decoders, so its settings take ``decode_budget_chars``.
        normalize: the rules read the normalised text (:mod:`.normalize`: invisible characters
            removed, look-alikes and marks folded, misspelt and leetspeak key words spelt out);
            their findings' spans point into the original text. Detector functions get the
            original text and the normalised one as ``context.normalized``.
    """

    name: str
    categories: Mapping[str, str]
    rules: Sequence[Rule] | Callable[[], Sequence[Rule]] = ()
    functions: Sequence[DetectorFunction] = ()
    combine: tuple[int, str, str, str] | None = None
    normalize: bool = False
    decode_budget: int = DEFAULT_DECODE_BUDGET
    decodes: bool = False
    _settings_model: Any = field(default=None, repr=False)
    _loaded: tuple[Rule, ...] | None = field(default=None, repr=False)

    @property
    def prefix(self) -> str:
        """The first part of this scanner's rule ids (``injection`` for ``immune-injection``)."""
        return self.name.removeprefix("immune-")

    def loaded_rules(self) -> tuple[Rule, ...]:
        """The rules, read (and checked) on first use."""
        if self._loaded is None:
            rules = tuple(self.rules() if callable(self.rules) else self.rules)
            for one in rules:
                if one.category not in self.categories:
                    raise ValueError(
                        f"{self.name}: rule {one.id} has category {one.category!r}, which the scanner does not declare"
                    )
            self._loaded = rules
        return self._loaded

    @property
    def detectors(self) -> list[Detector]:
        """Every rule, then every detector function, in the order a scan runs them."""
        return [*self.loaded_rules(), *self.functions]

    def function_id(self, function: Callable[..., Any]) -> str:
        """The rule id written for hits of a detector function (``injection.decoded-payloads``)."""
        return f"{self.prefix}.{function.__name__.strip('_').replace('_', '-')}"

    # ------------------------------------------------------------------ scanning

    def hits(self, text: str, context: Context | None = None, enabled: Mapping[str, bool] | None = None) -> list[Hit]:
        """Run every enabled detector; return at most one hit per category (the most severe).

        Errors propagate on purpose: the kernel turns an exception into a blocking finding, so
        a detector bug can never make a text look clean.
        """
        text = _encodable(text)
        context = context or Context()
        lower = context.lower or text.lower()
        view = normalized_view(text) if self.normalize else None
        rule_text = view.text if view is not None else text
        back = view.span if view is not None and view.changed else None
        budget = context.budget or DecodeBudget(self.decode_budget)
        context = Context(context.source, context.scope_level, lower, rule_text if view is not None else "", budget)
        enabled = enabled or {}
        best: dict[str, Hit] = {}

        def keep(hit: Hit) -> None:
            if hit.category not in ALWAYS_REPORTED and not enabled.get(hit.category, True):
                return
            current = best.get(hit.category)
            if current is None or rank(hit.severity) > rank(current.severity):
                best[hit.category] = hit

        rules = self.loaded_rules()
        if rules:
            for hit in _rule_hits(rules, rule_text, context.source, enabled):
                keep(_moved(hit, back) if back is not None else hit)
        for function in self.functions:
            for hit in function(text, context):
                keep(hit if hit.rule_id else _with_id(hit, self.function_id(function)))
        hits = sorted(best.values(), key=lambda h: (h.start, h.category))
        if self.combine is not None and enabled.get(self.combine[1], True):
            min_distinct, category, severity, explanation = self.combine
            weak = [h for h in hits if rank(h.severity) < rank(severity)]
            if len(weak) >= min_distinct:
                first = weak[0]
                names = ", ".join(sorted(h.category for h in weak))
                hits.append(
                    Hit(
                        category,
                        severity,
                        first.start,
                        first.end,
                        f"{explanation} ({names})",
                        f"{self.prefix}.{category.replace('_', '-')}",
                    )
                )
        return hits

    def scan(self, request: Any, settings: Any, context: Any = None) -> list[Any]:
        """The body of the plugin's ``scan`` hook: findings for ``request`` under ``settings``.

        ``context`` is the hook's :class:`purpose_agent.interfaces.ComponentContext`; the optional
        model check builds its backend from ``context.kernel``.
        """
        from purpose_agent.models import Finding, Severity

        kernel = getattr(context, "kernel", None)
        text = request.text
        scope_level = request.item.scope.level if request.item is not None else "global"
        limit = getattr(settings, "decode_budget_chars", None) or self.decode_budget
        scan_context = Context(source=request.source, scope_level=scope_level, budget=DecodeBudget(limit))
        enabled = dict(getattr(settings, "categories", None) or {})
        floor = rank(getattr(settings, "min_severity", "low") or "low")
        findings = []
        for hit in self.hits(text, scan_context, enabled):
            if rank(hit.severity) < floor:
                continue
            end = min(hit.end, hit.start + MAX_EVIDENCE)
            findings.append(
                Finding(
                    scanner=self.name,
                    category=hit.category,
                    severity=Severity(hit.severity),
                    explanation=hit.explanation,
                    span=(hit.start, end),
                    evidence=text[hit.start : end],
                    rule_id=hit.rule_id,
                )
            )
        if settings is not None and getattr(settings, "model_check", False):
            from .model_check import run_model_check

            findings.extend(run_model_check(self.name, request, settings, kernel))
        return findings

    def settings_model(self) -> Any:
        """The pydantic model for this scanner's ``[plugins.<id>]`` section (built once)."""
        if self._settings_model is None:
            from .settings import build_settings_model

            self._settings_model = build_settings_model(
                self.name, self.categories, decode_budget=self.decode_budget if self.decodes else None
            )
        return self._settings_model


#: After this many matches of a shape, :func:`near_matches` checks whether its windows cover most of the text.
_DENSE_AFTER = 64


def near_matches(shape: Any, pattern: re.Pattern[str], text: str, before: int, after: int) -> Iterator[re.Match[str]]:
    """``pattern.finditer(text)``, looked for only near the matches of the RE2 ``shape``.

    For a detector's Python pattern that tries a lookbehind, a class or an alternation at every
    position (0.1-0.3 s per megabyte of prose) when every match of it lies inside the window from
    ``before`` characters before to fewer than ``after`` characters after one of the matches of
    ``shape`` that RE2's left-to-right search finds: the pattern runs only in those windows
    (merged where they overlap), with the whole text as context for its lookbehinds and word
    boundaries.
    """
    windows: list[list[int]] = []
    covered = 0
    for count, found in enumerate(shape.finditer(text)):
        start, end = max(0, found.start() - before), found.end() + after
        if windows and start <= windows[-1][1]:
            covered += max(windows[-1][1], end) - windows[-1][1]
            windows[-1][1] = max(windows[-1][1], end)
        else:
            covered += end - start
            windows.append([start, end])
        if count >= _DENSE_AFTER and 2 * covered > found.end():
            # the windows cover most of the text so far: one pass over all of it is cheaper than
            # a Python step per match of the shape (a text made of the shape would take both)
            yield from pattern.finditer(text)
            return
    position = 0
    for start, end in windows:
        for match in pattern.finditer(text, max(start, position), min(end, len(text))):
            position = match.end()
            yield match


# The rule hits of the last few texts scanned: a detector that scans the normalised text again
# with the same rules (the look-alike check) gets them without a second pass over a long text,
# also after the decoders have scanned their decodings in between.
_RECENT_RULE_HITS: list[tuple[tuple[Rule, ...], str, str, frozenset[str], list[Hit]]] = []
_RECENT = 4


#: From this length on, a non-ASCII text's rules run on its UTF-8 bytes (:meth:`Rule.matches`).
_ENCODE_ONCE_MIN = 16_384

#: From this length on, a text's rules are shared by two threads when the process may use two
#: cores (:func:`_rule_hits`): RE2 lets go of the interpreter lock while it matches. Below it one
#: thread is as fast (handing work to a thread and back costs about 50 µs; the rules of a 32 KB
#: text take a few milliseconds in all), so lessons and other short texts never touch the helper.
#:
#: Only rules are shared, not the detector functions: those are Python (``re``, loops) and hold
#: the lock, and a rule pass beside them waited for the lock after every RE2 call (measured on a
#: megabyte of documentation: the pass took 0.61-0.69 s beside a Python loop instead of 0.21 s
#: alone, and the scan was no faster); two threads that both run rules take 0.10-0.11 s.
PARALLEL_MIN = 262_144


def _rule_hits(rules: tuple[Rule, ...], text: str, source: str, enabled: Mapping[str, bool]) -> list[Hit]:
    """The hits of ``rules`` on ``text`` for a request from ``source``, the rules of disabled
    categories left out (cached for the last few texts, by identity).

    A long text's rules are shared with the helper thread when it is free: both take the rules
    one at a time, each rule's hits go in its own slot, and the slots are read in rule order, so
    the list is the one a single thread gives.
    """
    disabled = frozenset(category for category, on in enabled.items() if not on)
    for cached in _RECENT_RULE_HITS:
        if cached[0] is rules and cached[1] is text and cached[2] == source and cached[3] == disabled:
            return cached[4]
    return _run_rules(rules, text, source, disabled, share=len(text) >= PARALLEL_MIN)


def _run_rules(rules: tuple[Rule, ...], text: str, source: str, disabled: frozenset[str], share: bool) -> list[Hit]:
    memo: dict[Any, bool] = {}
    # a long non-ASCII text is encoded once for all the rules, not once per rule by RE2's binding
    encoded = text.encode("utf-8") if len(text) >= _ENCODE_ONCE_MIN and not text.isascii() else None
    chosen = [
        one
        for one in rule_set(rules).candidates(text.casefold())
        if not (one.sources and source not in one.sources) and one.category not in disabled
    ]
    helper = None
    if share and len(chosen) > 1:
        per_rule: list[list[Hit]] = [[] for _ in chosen]
        turn = itertools.count()  # next() on a count is atomic: each rule is taken by one thread
        helper = _claim_helper(_take_rules, turn, chosen, per_rule, text, memo, encoded)
    if helper is not None:
        try:
            _take_rules(turn, chosen, per_rule, text, memo, encoded)
        finally:
            helper.result()  # waits even when this thread raised; raises what the helper raised
        hits = [hit for found in per_rule for hit in found]
    else:
        hits = []
        for one in chosen:
            hits.extend(one.matches(text, memo, encoded))
    _RECENT_RULE_HITS.insert(0, (rules, text, source, disabled, hits))
    del _RECENT_RULE_HITS[_RECENT:]
    return hits


def _take_rules(
    turn: Iterator[int],
    chosen: Sequence[Rule],
    per_rule: list[list[Hit]],
    text: str,
    memo: dict[Any, bool],
    encoded: bytes | None,
) -> None:
    """Run the rules of ``chosen`` whose numbers ``turn`` hands out, each rule's hits into its
    slot of ``per_rule``, until every rule is taken."""
    for position in turn:
        if position >= len(chosen):
            return
        per_rule[position] = list(chosen[position].matches(text, memo, encoded))


#: Held while the helper thread works for a scan: a caller that cannot take it at once does the
#: work itself, so no caller ever waits for the helper to become free (and the helper's own work
#: never asks for the helper: no deadlock).
_HELPER_BUSY = threading.Lock()
_HELPER_THREAD: Any = None


def _claim_helper(function: Callable[..., Any], *args: Any) -> Future[Any] | None:
    """``function(*args)`` started on the helper thread, or None when the process may use only
    one core or the helper is busy."""
    global _HELPER_THREAD
    if _cores() < 2 or not _HELPER_BUSY.acquire(blocking=False):
        return None
    try:
        if _HELPER_THREAD is None:
            from concurrent.futures import ThreadPoolExecutor

            _HELPER_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="immune-rules")
        return _HELPER_THREAD.submit(_released_after, function, *args)  # type: ignore[no-any-return]
    except BaseException:
        _HELPER_BUSY.release()
        raise


def _released_after(function: Callable[..., Any], *args: Any) -> Any:
    try:
        return function(*args)
    finally:
        _HELPER_BUSY.release()


def _forget_helper() -> None:
    # a forked child has no copy of the helper thread: it starts its own when it needs one
    global _HELPER_THREAD, _HELPER_BUSY
    _HELPER_THREAD = None
    _HELPER_BUSY = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_helper)


def _cores() -> int:
    """How many cores this process may run on (its affinity, where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def _with_id(hit: Hit, rule_id: str) -> Hit:
    return Hit(hit.category, hit.severity, hit.start, hit.end, hit.explanation, rule_id)
