"""What each rule catches and falsely flags: the figures behind ``purpose-agent immune eval --by-rule``.

A scan reports one finding per category (the most severe), so a rule whose category another rule
already covered never shows in the findings. To tell which rules earn their place, every rule
and detector of the active scanners of this distribution is run on each row on its own (behind
its gate, as in a scan); findings of other scanner plugins count by their ``rule_id``. Per rule:
attack rows it flags, benign rows it flags, and attack rows no other rule flagged (what would be
lost without it). A rule that flags no attack row is a candidate for retirement.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .detectors import Context, Hit, Scanner, rank, rule_set

#: The scanner modules of this distribution, by plugin id.
MODULES = {
    "immune-injection": "purpose_agent_immune.injection",
    "immune-score": "purpose_agent_immune.score",
    "immune-tools": "purpose_agent_immune.tools",
    "immune-privacy": "purpose_agent_immune.privacy",
    "immune-scope": "purpose_agent_immune.scope",
}


def scanners_of(plugin_ids: Iterable[str]) -> list[Scanner]:
    """The :class:`Scanner` objects of the active plugins that belong to this distribution."""
    import importlib

    return [importlib.import_module(MODULES[p]).SCANNER for p in plugin_ids if p in MODULES]


def known_ids(scanners: Iterable[Scanner]) -> list[str]:
    """Every rule id and detector-function id of ``scanners`` (so rules that never fire are listed too)."""
    ids = []
    for scanner in scanners:
        ids += [one.id for one in scanner.loaded_rules()]
        ids += [scanner.function_id(function) for function in scanner.functions]
    return ids


def rule_hits(text: str, source: str, fail_at: str, scanners: Iterable[Scanner]) -> set[str]:
    """Ids of every rule and detector of ``scanners`` that flags ``text`` at ``fail_at`` or above, each on its own."""
    threshold = rank(fail_at)
    context = Context(source=source, lower=text.lower())
    ids: set[str] = set()
    for scanner in scanners:
        rules = scanner.loaded_rules()
        for one in rule_set(rules).candidates(text.casefold()) if rules else ():
            if one.sources and source not in one.sources:
                continue
            ids.update(hit.rule_id for hit in one.matches(text) if rank(hit.severity) >= threshold)
        for function in scanner.functions:
            hits: Iterable[Hit] = function(text, context)
            if any(rank(hit.severity) >= threshold for hit in hits):
                ids.add(scanner.function_id(function))
    return ids


@dataclass
class RuleTally:
    """One rule's figures: attack rows it flags, benign rows it flags, attack rows only it flags."""

    caught: int = 0
    false_positives: int = 0
    only: int = 0


@dataclass
class RuleReport:
    """Per-rule tallies over an evaluation."""

    rules: dict[str, RuleTally] = field(default_factory=dict)
    attacks: int = 0
    benign: int = 0

    def add(self, label: int, ids: set[str]) -> None:
        """Count one row (``label`` 1 attack, 0 benign) flagged by the rules ``ids``."""
        if label:
            self.attacks += 1
        else:
            self.benign += 1
        for rule_id in ids:
            tally = self.rules.setdefault(rule_id, RuleTally())
            if label:
                tally.caught += 1
                tally.only += len(ids) == 1
            else:
                tally.false_positives += 1

    def table(self) -> str:
        """A Markdown table, rules that catch most first; rules that flag nothing come last."""
        lines = [
            f"| rule | attacks caught (of {self.attacks}) | only this rule | benign flagged (of {self.benign}) |",
            "| --- | ---: | ---: | ---: |",
        ]
        order = sorted(self.rules.items(), key=lambda item: (-item[1].caught, item[1].false_positives, item[0]))
        for rule_id, tally in order:
            lines.append(f"| {rule_id} | {tally.caught} | {tally.only} | {tally.false_positives} |")
        idle = sum(1 for tally in self.rules.values() if not tally.caught)
        lines.append(f"\n{idle} of {len(self.rules)} rules flag no attack row here (candidates for retirement).")
        return "\n".join(lines)

    def summary(self) -> dict[str, Any]:
        """``{rule id: {"caught": …, "only": …, "false_positives": …}}`` for the JSON line."""
        return {
            rule_id: {"caught": t.caught, "only": t.only, "false_positives": t.false_positives}
            for rule_id, t in sorted(self.rules.items())
        }
