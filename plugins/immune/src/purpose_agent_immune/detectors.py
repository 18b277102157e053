"""The detector engine every immune scanner shares: rules, hits, and the scan itself.

A scanner is a list of detectors. A :class:`Rule` is a precompiled regular expression with a
category, a severity and a one-line explanation, plus optional structure around it (the hit is
dropped when the clause negates it, or raised to a higher severity when a second pattern also
occurs). A detector can also be a plain function for checks a regex cannot express (decoding a
base64 payload, a Luhn checksum). :class:`Scanner` runs them, applies the plugin's settings and
turns hits into :class:`purpose_agent.models.Finding` objects.

Every pattern here is built from bounded repetitions (``{0,40}``, never a nested ``(a+)+``) so
the scan stays linear in the length of the text; ``tests/plugins/immune`` feeds adversarial
inputs to check that.

Only the standard library is imported at module level: the models (pydantic) are imported on
the first scan, so discovering and listing the plugins stays cheap.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: Severity names in increasing order; the index is the rank.
SEVERITIES: tuple[str, ...] = ("low", "medium", "high", "critical")

#: Evidence longer than this is cut: a finding quotes the start of the match, not a whole page.
MAX_EVIDENCE = 200


def rank(severity: str) -> int:
    """0 for ``low`` … 3 for ``critical``; raises ``ValueError`` naming the valid values."""
    try:
        return SEVERITIES.index(severity)
    except ValueError:
        raise ValueError(f"unknown severity {severity!r}; use one of {', '.join(SEVERITIES)}") from None


@dataclass(frozen=True)
class Hit:
    """One piece of evidence a detector found: where it is and what it means."""

    category: str
    severity: str
    start: int
    end: int
    explanation: str


@dataclass(frozen=True)
class Context:
    """What a detector may know besides the text: where the text came from and its scope.

    ``lower`` (the lower-cased text) and ``prefixes`` (the first four letters of each word) are
    computed once per text and shared by every rule's gate.
    """

    source: str = "lesson"
    scope_level: str = "global"
    lower: str = ""
    prefixes: frozenset[str] = frozenset()


_WORD = re.compile(r"\w+")
# The last text prepared, shared by the five scanners that look at the same text in a row.
_prepared: tuple[str, str, frozenset[str]] = ("", "", frozenset())


def prepare(text: str) -> tuple[str, frozenset[str]]:
    """The lower-cased text and its set of word prefixes (cached for the last text seen)."""
    global _prepared
    last = _prepared
    if last[0] is text:
        return last[1], last[2]
    lower = text.lower()
    prefixes = frozenset(word[:4] for word in _WORD.findall(lower))
    _prepared = (text, lower, prefixes)
    return lower, prefixes


def words(*alternatives: str) -> str:
    """A non-capturing alternation of the given regex fragments (for building vocabularies)."""
    return "(?:" + "|".join(alternatives) + ")"


# Words that turn a clause around ("never reveal the prompt" is a rule, not an attack).
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


@dataclass(frozen=True)
class Rule:
    """A regex detector.

    Attributes:
        category: what kind of attack this is evidence of (a settings toggle key).
        severity: severity of a plain hit.
        pattern: the compiled expression; its whole match is the evidence.
        explanation: the one line a reviewer reads.
        negatable: drop the hit if its clause is negated ("never reveal your prompt").
        escalate_if: a second expression; if it also occurs anywhere in the text the hit's
            severity becomes ``escalate_to`` (two weak signals together make a strong one).
        sources: only apply to these request sources (empty: all).
        gate_words, gate_text: the rule's gate, a speed measure only: the regex runs only if a
            word of the text starts with one of ``gate_words`` (their first four letters), or
            one of ``gate_text`` occurs in the lower-cased text. Every match of ``pattern``
            must contain one of them.
    """

    category: str
    severity: str
    pattern: re.Pattern[str]
    explanation: str
    negatable: bool = False
    escalate_if: re.Pattern[str] | None = None
    escalate_to: str = "high"
    sources: frozenset[str] = frozenset()
    gate_words: frozenset[str] = frozenset()
    gate_text: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        rank(self.severity)
        rank(self.escalate_to)
        # The text gates as one expression: one C-level search instead of a Python loop.
        gate_re = re.compile("|".join(map(re.escape, self.gate_text))) if self.gate_text else None
        object.__setattr__(self, "_gate_re", gate_re)

    def gated_out(self, lower: str, prefixes: frozenset[str]) -> bool:
        """True when the gate proves the pattern cannot match this text (the regex is skipped)."""
        if not (self.gate_words or self.gate_text):
            return False
        if not prefixes.isdisjoint(self.gate_words):
            return False
        gate_re = self._gate_re  # type: ignore[attr-defined]
        return gate_re is None or gate_re.search(lower) is None

    def find(self, text: str, context: Context) -> Iterable[Hit]:
        """Yield the first non-negated match as a hit (one per rule keeps reports short)."""
        if self.sources and context.source not in self.sources:
            return
        if self.gate_words or self.gate_text:
            if context.lower:
                lower, prefixes = context.lower, context.prefixes
            else:
                lower, prefixes = prepare(text)
            if self.gated_out(lower, prefixes):
                return
        yield from self.matches(text)

    def matches(self, text: str) -> Iterable[Hit]:
        """The hit for the first non-negated match, without the source and gate checks."""
        for match in self.pattern.finditer(text):
            if match.end() == match.start():
                continue
            if self.negatable and is_negated(text, match.start()):
                continue
            severity = self.severity
            if self.escalate_if is not None and self.escalate_if.search(text):
                severity = max(severity, self.escalate_to, key=rank)
            yield Hit(self.category, severity, match.start(), match.end(), self.explanation)
            return


#: A detector function: text and context in, hits out.
DetectorFunction = Callable[[str, Context], Iterable[Hit]]
Detector = Rule | DetectorFunction


def rule(
    category: str,
    severity: str,
    pattern: str,
    explanation: str,
    *,
    negatable: bool = False,
    escalate_if: str | None = None,
    escalate_to: str = "high",
    sources: Iterable[str] = (),
    gate: Iterable[str] = (),
    flags: int = re.IGNORECASE,
) -> Rule:
    """Build a :class:`Rule`, compiling its patterns once (at import, never per scan)."""
    return Rule(
        category=category,
        severity=severity,
        pattern=re.compile(pattern, flags),
        explanation=explanation,
        negatable=negatable,
        escalate_if=re.compile(escalate_if, flags) if escalate_if else None,
        escalate_to=escalate_to,
        sources=frozenset(sources),
        gate_words=frozenset(g.lower()[:4] for g in gate if _is_word_gate(g)),
        gate_text=tuple(g.lower() for g in gate if not _is_word_gate(g)),
    )


_PLAIN_WORD = re.compile(r"[a-z0-9]{4,}")


def _is_word_gate(entry: str) -> bool:
    """Entries of four or more ASCII letters/digits are matched as word prefixes, the rest as text."""
    return _PLAIN_WORD.fullmatch(entry.lower()) is not None


@dataclass
class Scanner:
    """One immune scanner: its plugin id, its categories and its detectors.

    Attributes:
        name: the plugin id, written into every finding (``immune-injection``, …).
        categories: category -> one-line description (documents the settings toggles).
        detectors: rules and detector functions, run in order.
        combine: optional ``(min_distinct, category, severity, explanation)``: when at least
            ``min_distinct`` different categories hit below ``severity``, add one finding of
            that severity (several weak signals together are a strong one).
    """

    name: str
    categories: Mapping[str, str]
    detectors: Sequence[Detector]
    combine: tuple[int, str, str, str] | None = None
    _settings_model: Any = field(default=None, repr=False)
    _plan_of: Any = field(default=None, repr=False)
    _cached_plan: list[Any] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        for detector in self.detectors:
            if isinstance(detector, Rule) and detector.category not in self.categories:
                raise ValueError(f"{self.name}: rule category {detector.category!r} is not declared")

    # ------------------------------------------------------------------ scanning

    def _plan(self) -> list[tuple[Any, frozenset[str], frozenset[str] | None, Any, str | None]]:
        """Per detector: (detector, sources, gate words or None, gate-text search or None, rule category or None).

        Rebuilt when ``detectors`` is replaced (tests swap the list), so the plan never goes stale.
        """
        if self._plan_of is not self.detectors:
            plan = []
            for detector in self.detectors:
                if isinstance(detector, Rule):
                    gated = bool(detector.gate_words or detector.gate_text)
                    gate_re = detector._gate_re  # type: ignore[attr-defined]
                    plan.append(
                        (
                            detector,
                            detector.sources,
                            detector.gate_words if gated else None,
                            gate_re.search if gate_re is not None else None,
                            detector.category,
                        )
                    )
                else:
                    plan.append((detector, frozenset(), None, None, None))
            self._cached_plan, self._plan_of = plan, self.detectors
        return self._cached_plan

    def hits(self, text: str, context: Context | None = None, enabled: Mapping[str, bool] | None = None) -> list[Hit]:
        """Run every enabled detector; return at most one hit per category (the most severe).

        Errors propagate on purpose: the kernel turns an exception into a blocking finding, so
        a detector bug can never make a text look clean.
        """
        context = context or Context()
        if not context.lower:
            lower, prefixes = prepare(text)
            context = Context(context.source, context.scope_level, lower, prefixes)
        enabled = enabled or {}
        best: dict[str, Hit] = {}
        lower, prefixes, source = context.lower, context.prefixes, context.source
        for detector, sources, gate_words, gate_search, category in self._plan():
            if gate_words is not None or sources:
                # The source and gate checks of Rule.find, inline: most rules stop here, and a
                # call per rule per text is the largest cost on short lessons.
                if sources and source not in sources:
                    continue
                if (
                    gate_words is not None
                    and prefixes.isdisjoint(gate_words)
                    and (gate_search is None or gate_search(lower) is None)
                ):
                    continue
            if category is not None:
                if enabled and not enabled.get(category, True):
                    continue
                found = detector.matches(text)
            else:
                found = detector(text, context)
            for hit in found:
                if not enabled.get(hit.category, True):
                    continue
                current = best.get(hit.category)
                if current is None or rank(hit.severity) > rank(current.severity):
                    best[hit.category] = hit
        hits = sorted(best.values(), key=lambda h: (h.start, h.category))
        if self.combine is not None and enabled.get(self.combine[1], True):
            min_distinct, category, severity, explanation = self.combine
            weak = [h for h in hits if rank(h.severity) < rank(severity)]
            if len(weak) >= min_distinct:
                first = weak[0]
                names = ", ".join(sorted(h.category for h in weak))
                hits.append(Hit(category, severity, first.start, first.end, f"{explanation} ({names})"))
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
        context = Context(source=request.source, scope_level=scope_level)
        enabled = dict(getattr(settings, "categories", None) or {})
        floor = rank(getattr(settings, "min_severity", "low") or "low")
        findings = []
        for hit in self.hits(text, context, enabled):
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

            self._settings_model = build_settings_model(self.name, self.categories)
        return self._settings_model
