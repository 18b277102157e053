"""Measure the active scanners on labelled JSON Lines: recall per attack family, false positives
per benign family.

Rows need ``text`` (str), ``label`` (1 attack, 0 benign) and ``family`` (str); ``id`` is used
for the held-out split when present. Every row is scanned through the kernel
(:meth:`purpose_agent.kernel.Kernel.scan`), so the figures include the kernel's dispatch and its
fail-closed handling; a row counts as *flagged* when any finding reaches the ``fail_at``
severity (default ``high``, the severity that blocks promotion).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .detectors import rank

#: One row in this many goes to the held-out split (decided by a hash of the row id).
HOLDOUT_EVERY = 5


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


def load_rows(path: Path) -> list[Row]:
    """Read and validate a JSONL file; raise :class:`EvalDataError` naming the first bad line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise EvalDataError(f"cannot read {path}: {exc.strerror or exc}") from exc
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


@dataclass
class Report:
    """The result of one evaluation."""

    families: dict[str, FamilyResult] = field(default_factory=dict)
    scanners: list[str] = field(default_factory=list)
    scanner_errors: int = 0
    flagged_by: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    missed: list[tuple[str, str]] = field(default_factory=list)
    false_positives: list[tuple[str, str, str]] = field(default_factory=list)

    def _total(self, label: int) -> tuple[int, int]:
        results = [r for r in self.families.values() if r.label == label]
        return sum(r.n for r in results), sum(r.flagged for r in results)

    @property
    def attack_recall(self) -> float | None:
        """Flagged attacks / attacks (``None`` when the file has no attacks)."""
        n, flagged = self._total(1)
        return flagged / n if n else None

    @property
    def benign_fpr(self) -> float | None:
        """Flagged benign rows / benign rows (``None`` when the file has none)."""
        n, flagged = self._total(0)
        return flagged / n if n else None

    def summary(self) -> dict[str, Any]:
        """The JSON object ``immune eval --json`` prints as its last line."""
        return {
            "attack_recall": _round(self.attack_recall),
            "benign_fpr": _round(self.benign_fpr),
            "families": {name: {"n": r.n, "flagged": r.flagged} for name, r in sorted(self.families.items())},
        }

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
) -> Report:
    """Scan every row through ``kernel`` and tally flagged rows per family."""
    from purpose_agent.models import ScanRequest

    threshold = rank(fail_at)
    report = Report(scanners=list(kernel.scanners()))
    started = time.perf_counter()
    for row in rows:
        findings = kernel.scan(ScanRequest(text=row.text, source=source))
        blocking = [f for f in findings if f.severity.rank >= threshold]
        report.scanner_errors += sum(1 for f in findings if f.category == "scanner_error")
        result = report.families.setdefault(row.family, FamilyResult(label=row.label))
        if result.label != row.label:
            raise EvalDataError(f"family {row.family!r} has rows labelled both 0 and 1; give each label its own family")
        result.n += 1
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


def select(rows: Sequence[Row], split: str) -> list[Row]:
    """Rows of one split: ``all``, ``tune`` or ``holdout``."""
    if split == "all":
        return list(rows)
    return [row for row in rows if split_of(row) == split]
