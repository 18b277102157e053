"""Plugin ``immune`` (command): ``purpose-agent immune eval FILE.jsonl [--json]``.

Runs every active scanner through the kernel over a labelled JSONL file and prints recall per
attack family, the false-positive rate per benign family and the totals, then the totals per
tier and per scanner plugin (see :mod:`purpose_agent_immune.evaluation`). With ``--json`` the last
line is ``{"attack_recall": …, "benign_fpr": …, "families": {NAME: {"n": …, "flagged": …}},
"tiers": {TIER: {"scanners": […], "attack_recall": …, …}}, "scanners": {ID: {"tier": …, …}}}``.
It refuses (exit 2) while a scanner the configuration enables cannot run: figures without it
would describe a screen that is not the one configured. ``--by-rule`` adds a table of every rule
id with the attack rows it flags and the benign rows it flags (``"rules"`` in the JSON line).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from purpose_agent.hookspecs import BaseCommand, hookimpl

PURPOSE_AGENT_HOOK_API = "1.0"

#: The id ``purpose_agent.testing.make_kernel`` registers this module under (same as the entry point).
plugin_id = "immune"

_SEVERITIES = ("low", "medium", "high", "critical")


class ImmuneCommand(BaseCommand):
    """``purpose-agent immune``: tools for the immune scanners (``eval``, its one action, is :meth:`do_eval`)."""

    help = "Evaluate the active immune scanners on labelled data (recall per attack family, false positives)."

    def add_action_arguments(self, parsers: dict[str, argparse.ArgumentParser]) -> None:
        """Declare the options of ``eval``."""
        ev = parsers["eval"]
        ev.add_argument("file", type=Path, help="JSON Lines with 'text', 'label' (1 attack, 0 benign) and 'family'")
        ev.add_argument("--json", action="store_true", help="end with one JSON line of the results")
        ev.add_argument(
            "--source",
            default="lesson",
            choices=["lesson", "prompt", "document", "tool_output", "other"],
            help="what to tell the scanners each row is (default: lesson, a memory candidate)",
        )
        ev.add_argument(
            "--fail-at",
            default="high",
            choices=_SEVERITIES,
            help="a row counts as flagged when a finding reaches this severity (default: high, which blocks promotion)",
        )
        ev.add_argument(
            "--split",
            default="all",
            choices=["all", "tune", "holdout"],
            help="evaluate all rows, or one side of the deterministic 4:1 hash split on the row id",
        )
        ev.add_argument(
            "--examples", type=int, default=0, metavar="N", help="print up to N missed attacks and N false positives"
        )
        ev.add_argument(
            "--by-rule",
            action="store_true",
            help="also report, per rule id, the attack rows it flags and the benign rows it flags (each rule on its own)",
        )

    def do_eval(self, args: argparse.Namespace) -> int:
        """scan every row of a labelled JSONL file and report per family

        Exit 0 on success, 2 when the data file is unusable, no scanner is active, or an enabled
        scanner cannot run."""
        from .evaluation import EvalDataError, evaluate, load_rows, select

        kernel = self.kernel_for(args)
        try:
            rows = select(load_rows(args.file), args.split)
        except EvalDataError as exc:
            print(f"purpose-agent immune eval: error: {exc}", file=sys.stderr)
            return 2
        refusal = kernel.screening_refusal()
        if refusal:
            print(f"purpose-agent immune eval: error: {refusal}", file=sys.stderr)
            return 2
        if not kernel.scanners():
            print(
                "purpose-agent immune eval: error: no scanner plugin is active; install purpose-agent-immune "
                "or enable its plugins ('purpose-agent plugins list' shows their status)",
                file=sys.stderr,
            )
            return 2
        try:
            report = evaluate(
                kernel,
                rows,
                source=args.source,
                fail_at=args.fail_at,
                keep_examples=args.examples,
                by_rule=args.by_rule,
            )
        except EvalDataError as exc:
            print(f"purpose-agent immune eval: error: {exc}", file=sys.stderr)
            return 2
        rate = len(rows) / report.seconds if report.seconds else 0.0
        print(
            f"file: {args.file} ({args.split}, {len(rows)} rows, scanned as '{args.source}', flagged at >= {args.fail_at})"
        )
        print(f"scanners: {', '.join(report.scanners)}")
        print(f"time: {report.seconds:.2f} s ({rate:,.0f} rows/s)")
        if report.scanner_errors:
            print(f"scanner errors (counted as flagged, fail closed): {report.scanner_errors}")
        print()
        print(report.table())
        print()
        print(report.tier_table())
        print()
        print("rows flagged per scanner: " + ", ".join(f"{k} {v}" for k, v in sorted(report.flagged_by.items())))
        if report.by_rule is not None:
            print()
            print(report.by_rule.table())
        if report.missed:
            print("\nmissed attacks:")
            for family, text in report.missed:
                print(f"  [{family}] {text[:160]!r}")
        if report.false_positives:
            print("\nfalse positives:")
            for family, why, text in report.false_positives:
                print(f"  [{family}] {why}: {text[:160]!r}")
        if args.json:
            summary = report.summary()
            if report.by_rule is not None:
                summary["rules"] = report.by_rule.summary()
            print(json.dumps(summary))
        return 0


@hookimpl
def register_commands(register: Callable[..., None]) -> None:
    """Contribute the ``immune`` subcommand."""
    register("immune", ImmuneCommand, description="evaluate the immune scanners")
