"""Measure the active scanners on labelled JSON Lines: recall per attack family, false positives
per benign family.

Rows need ``text`` (str), ``label`` (1 attack, 0 benign) and ``family`` (str); ``id`` is used
for the held-out split when present. Every row is scanned through the kernel
(:meth:`purpose_agent.kernel.Kernel.scan`), so the figures include the kernel's dispatch and its
fail-closed handling; a row counts as *flagged* when any finding reaches the ``fail_at``
severity (default ``high``, the severity that blocks promotion).

The figures are given for all active scanners together, for each *tier* and for each scanner
plugin. A scanner plugin declares its tier with an attribute on the object its entry point names,
``IMMUNE_TIER = "rules"`` (the five scanners of this distribution) or ``"semantic"`` (the
embedding tier of ``purpose-agent-immune-semantic``); a scanner that declares none is in tier
``other``. A row counts for a tier when a scanner of that tier flagged it.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .detectors import rank

#: One row in this many goes to the held-out split (decided by a hash of the row id).
HOLDOUT_EVERY = 5

#: Rows handed to the kernel per ``scan_many`` call.
SCAN_BATCH = 256

#: The tier of a scanner plugin that declares no ``IMMUNE_TIER``.
UNDECLARED_TIER = "other"

#: Finding categories that block a text because it could not be scanned in full (fail closed): the
#: kernel's, when a scanner failed, and a scanner's own when a text needs more than its decode budget.
FAIL_CLOSED_CATEGORIES = frozenset({"scanner_error", "scanner_timeout", "scanner_unavailable", "decode_budget"})


class EvalDataError(ValueError):
    """An evaluation file cannot be read; the message names the file, line and key."""


@dataclass(frozen=True)
class Row:
    """One labelled example."""

    text: str
    label: int
    family: str
    id: str = ""


def split_of(row: Row) -> str:
    """``"holdout"`` for a deterministic fifth of the rows (hash of the id, else the text), else ``"tune"``."""
    key = (row.id or row.text).encode("utf-8")
    return "holdout" if int(hashlib.sha256(key).hexdigest()[:8], 16) % HOLDOUT_EVERY == 0 else "tune"


def jsonl_lines(text: str) -> list[str]:
    """The lines of a JSON Lines text: split at ``\n`` only, a trailing ``\r`` dropped.

    Not ``str.splitlines()``: it also splits at U+2028, U+2029, U+0085 and other separators,
    which a JSON string may contain unescaped, and would cut such a row in two.
    """
    return [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]


def load_rows(path: Path) -> list[Row]:
    """Read and validate a JSONL file; raise :class:`EvalDataError` naming the first bad line."""
    try:
        lines = jsonl_lines(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise EvalDataError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise EvalDataError(
            f"{str(path)!r} is not UTF-8 text (byte offset {exc.start}: {exc.reason}); save it as UTF-8"
        ) from exc
    rows: list[Row] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalDataError(
                f"{path}:{number}: not valid JSON ({exc.msg}); each line must be one JSON object"
            ) from exc
        if not isinstance(data, dict):
            raise EvalDataError(f"{path}:{number}: expected a JSON object with text, label and family")
        missing = [key for key in ("text", "label", "family") if key not in data]
        if missing:
            raise EvalDataError(
                f"{path}:{number}: missing key{'s' if len(missing) > 1 else ''} {', '.join(repr(k) for k in missing)}; "
                "every row needs 'text' (string), 'label' (1 = attack, 0 = benign) and 'family' (string)"
            )
        if not isinstance(data["text"], str):
            raise EvalDataError(f"{path}:{number}: 'text' must be a string, got {type(data['text']).__name__}")
        if data["label"] not in (0, 1) or isinstance(data["label"], bool):
            raise EvalDataError(f"{path}:{number}: 'label' must be 0 (benign) or 1 (attack), got {data['label']!r}")
        if not isinstance(data["family"], str) or not data["family"]:
            raise EvalDataError(f"{path}:{number}: 'family' must be a non-empty string, got {data['family']!r}")
        rows.append(Row(text=data["text"], label=int(data["label"]), family=data["family"], id=str(data.get("id", ""))))
    if not rows:
        raise EvalDataError(f"{path} has no rows; write one JSON object per line")
    return rows


@dataclass
class FamilyResult:
    """Tally of one family."""

    label: int
    n: int = 0
    flagged: int = 0

    @property
    def rate(self) -> float:
        """Recall for an attack family, false-positive rate for a benign one."""
        return self.flagged / self.n if self.n else 0.0


def _totals(families: dict[str, FamilyResult], label: int) -> tuple[int, int]:
    results = [r for r in families.values() if r.label == label]
    return sum(r.n for r in results), sum(r.flagged for r in results)


def _rate(families: dict[str, FamilyResult], label: int) -> float | None:
    n, flagged = _totals(families, label)
    return flagged / n if n else None


def _view_summary(families: dict[str, FamilyResult]) -> dict[str, Any]:
    return {
        "attack_recall": _round(_rate(families, 1)),
        "benign_fpr": _round(_rate(families, 0)),
        "families": {name: {"n": r.n, "flagged": r.flagged} for name, r in sorted(families.items())},
    }


def scanner_tiers(kernel: Any) -> dict[str, str]:
    """``{scanner plugin id: tier}`` for the active scanners, from each plugin's ``IMMUNE_TIER``."""
    objects = {record.id: record.obj for record in kernel.plugins()}
    return {
        plugin_id: str(getattr(objects.get(plugin_id), "IMMUNE_TIER", None) or UNDECLARED_TIER)
        for plugin_id in kernel.scanners()
    }


@dataclass
class Report:
    """The result of one evaluation: ``families`` for all active scanners together, and the same
    tally per tier (``by_tier``) and per scanner plugin (``by_scanner``)."""

    families: dict[str, FamilyResult] = field(default_factory=dict)
    scanners: list[str] = field(default_factory=list)
    tiers: dict[str, str] = field(default_factory=dict)
    by_tier: dict[str, dict[str, FamilyResult]] = field(default_factory=dict)
    by_scanner: dict[str, dict[str, FamilyResult]] = field(default_factory=dict)
    scanner_errors: int = 0
    flagged_by: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    missed: list[tuple[str, str]] = field(default_factory=list)
    false_positives: list[tuple[str, str, str]] = field(default_factory=list)
    #: per-rule figures (``evaluate(..., by_rule=True)``; see :mod:`.rule_report`)
    by_rule: Any = None

    def _total(self, label: int) -> tuple[int, int]:
        return _totals(self.families, label)

    @property
    def attack_recall(self) -> float | None:
        """Flagged attacks / attacks (``None`` when the file has no attacks)."""
        return _rate(self.families, 1)

    @property
    def benign_fpr(self) -> float | None:
        """Flagged benign rows / benign rows (``None`` when the file has none)."""
        return _rate(self.families, 0)

    def summary(self) -> dict[str, Any]:
        """The JSON object ``immune eval --json`` prints as its last line: the figures of all
        active scanners at the top level, then ``tiers`` and ``scanners`` with the same figures each."""
        return {
            **_view_summary(self.families),
            "tiers": {
                tier: {"scanners": [s for s in self.scanners if self.tiers.get(s) == tier], **_view_summary(families)}
                for tier, families in sorted(self.by_tier.items())
            },
            "scanners": {
                scanner: {"tier": self.tiers.get(scanner, UNDECLARED_TIER), **_view_summary(families)}
                for scanner, families in sorted(self.by_scanner.items())
            },
        }

    def tier_table(self) -> str:
        """A Markdown table: attack recall and benign false-positive rate for all active scanners,
        each tier and each scanner plugin."""

        def cells(families: dict[str, FamilyResult]) -> str:
            out = []
            for label in (1, 0):
                n, flagged = _totals(families, label)
                out.append(f"{flagged}/{n} = {flagged / n:.1%}" if n else "–")
            return " | ".join(out)

        lines = ["| scanners | tier | attack recall | benign FPR |", "| --- | --- | ---: | ---: |"]
        lines.append(f"| **all active** ({len(self.scanners)}) | | {cells(self.families)} |")
        for tier, families in sorted(self.by_tier.items()):
            members = [s for s in self.scanners if self.tiers.get(s) == tier]
            lines.append(f"| tier **{tier}** ({len(members)}) | {tier} | {cells(families)} |")
        for scanner, families in sorted(self.by_scanner.items()):
            lines.append(f"| {scanner} | {self.tiers.get(scanner, UNDECLARED_TIER)} | {cells(families)} |")
        return "\n".join(lines)

    def table(self) -> str:
        """A Markdown table: every family with n, flagged and its rate, then the totals."""
        lines = ["| family | label | n | flagged | rate |", "| --- | --- | ---: | ---: | ---: |"]
        for label, what in ((1, "recall"), (0, "FPR")):
            for name, result in sorted(self.families.items()):
                if result.label == label:
                    lines.append(
                        f"| {name} | {'attack' if label else 'benign'} | {result.n} | {result.flagged} | {what} {result.rate:.1%} |"
                    )
        for label, what in ((1, "attack recall"), (0, "benign FPR")):
            n, flagged = self._total(label)
            if n:
                lines.append(
                    f"| **all {'attacks' if label else 'benign'}** | | {n} | {flagged} | **{what} {flagged / n:.1%}** |"
                )
        return "\n".join(lines)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def evaluate(
    kernel: Any,
    rows: Iterable[Row],
    *,
    source: str = "lesson",
    fail_at: str = "high",
    keep_examples: int = 0,
    by_rule: bool = False,
) -> Report:
    """Scan every row through ``kernel`` and tally flagged rows per family (and per rule, with ``by_rule``)."""
    threshold = rank(fail_at)
    tiers = scanner_tiers(kernel)
    report = Report(scanners=list(tiers), tiers=tiers)
    if by_rule:
        from .rule_report import RuleReport, RuleTally, known_ids, rule_hits, scanners_of

        own_scanners = scanners_of(tiers)
        report.by_rule = RuleReport()
        for rule_id in known_ids(own_scanners):
            report.by_rule.rules[rule_id] = RuleTally()
    started = time.perf_counter()
    for row, findings in _scanned(kernel, rows, source):
        blocking = [f for f in findings if f.severity.rank >= threshold]
        report.scanner_errors += sum(1 for f in findings if f.category in FAIL_CLOSED_CATEGORIES)
        result = report.families.setdefault(row.family, FamilyResult(label=row.label))
        if result.label != row.label:
            raise EvalDataError(f"family {row.family!r} has rows labelled both 0 and 1; give each label its own family")
        result.n += 1
        if by_rule:
            others = {f.rule_id for f in blocking if f.rule_id and f.category not in FAIL_CLOSED_CATEGORIES}
            report.by_rule.add(row.label, rule_hits(row.text, source, fail_at, own_scanners) | others)
        flagged_by = {f.scanner for f in blocking}
        for scanner in tiers:
            _count(report.by_scanner, scanner, row, scanner in flagged_by)
        for tier in set(tiers.values()):
            _count(report.by_tier, tier, row, any(tiers.get(s) == tier for s in flagged_by))
        if blocking:
            result.flagged += 1
            for scanner in {f.scanner for f in blocking}:
                report.flagged_by[scanner] = report.flagged_by.get(scanner, 0) + 1
            if row.label == 0 and len(report.false_positives) < keep_examples:
                worst = max(blocking, key=lambda f: f.severity.rank)
                report.false_positives.append((row.family, f"{worst.scanner}/{worst.category}", row.text))
        elif row.label == 1 and len(report.missed) < keep_examples:
            report.missed.append((row.family, row.text))
    report.seconds = time.perf_counter() - started
    return report


def _scanned(kernel: Any, rows: Iterable[Row], source: str) -> Iterator[tuple[Row, list[Any]]]:
    """Each row with its findings, scanned in batches: ``Kernel.scan_many`` hands a batch to the
    scanning thread once instead of once per row (each row still has its own deadline)."""
    from purpose_agent.models import ScanRequest

    rows = list(rows)
    for start in range(0, len(rows), SCAN_BATCH):
        batch = rows[start : start + SCAN_BATCH]
        yield from zip(batch, kernel.scan_many([ScanRequest(text=r.text, source=source) for r in batch]), strict=True)


def _count(views: dict[str, dict[str, FamilyResult]], key: str, row: Row, flagged: bool) -> None:
    tally = views.setdefault(key, {}).setdefault(row.family, FamilyResult(label=row.label))
    tally.n += 1
    tally.flagged += flagged


def select(rows: Sequence[Row], split: str) -> list[Row]:
    """Rows of one split: ``all``, ``tune`` or ``holdout``."""
    if split == "all":
        return list(rows)
    return [row for row in rows if split_of(row) == split]
