"""``purpose-agent skills``: author, inspect, test, promote and roll back skill cards.

::

    purpose-agent skills add FILE.toml|FILE.json [--json]
    purpose-agent skills list [--json]
    purpose-agent skills show NAME [--version V] [--json]
    purpose-agent skills test NAME [--version V] [--json]
    purpose-agent skills promote NAME [--version V] [--json]
    purpose-agent skills rollback NAME [--json]

Exit status: 0 done (promoted, tests passed); 1 refused or not passed (held, rejected, failing
tests, no screening or no sandbox); 2 bad input (a malformed card, an unknown skill or version).
Card text is untrusted, so it is printed through ``printable``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from purpose_agent.hookspecs import BaseCommand
from purpose_agent.interfaces import printable, printable_json


def _version_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a version number (1, 2, …)") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a version number: versions start at 1")
    return value


class SkillsCommand(BaseCommand):
    """``purpose-agent skills``."""

    help = "Author skill cards, run their tests in the sandbox, promote them through skill CI, roll back."

    def add_action_arguments(self, parsers: dict[str, argparse.ArgumentParser]) -> None:
        """Declare the arguments of ``add``, ``list``, ``show``, ``test``, ``promote`` and ``rollback``."""
        add, listing, show, test, promote, rollback = parsers.values()
        add.add_argument("file", type=Path, metavar="FILE", help="the skill card, .toml or .json")
        for each in (show, test, promote, rollback):
            each.add_argument("name", help="the skill's name")
        for each in (show, test, promote):
            each.add_argument("--version", type=_version_number, default=None, metavar="V", help="the version")
        for each in (add, listing, show, test, promote, rollback):
            each.add_argument("--json", action="store_true", help="print one JSON document")

    def run(self, args: argparse.Namespace) -> int:
        """Run the action; errors are one sentence on stderr."""
        from . import skill_ci
        from .errors import CardError, SkillError, SkillRefused

        try:
            return self.dispatch(args, skill_ci(self.context.kernel, self.context.settings))
        except SkillRefused as exc:
            print(f"purpose-agent skills: {printable(str(exc), one_line=True)}", file=sys.stderr)
            return 1
        except (CardError, SkillError) as exc:
            print(f"purpose-agent skills: {printable(str(exc), one_line=True)}", file=sys.stderr)
            return 2

    @staticmethod
    def _print_json(data: Any) -> None:
        print(printable_json(json.dumps(data, indent=2, ensure_ascii=False)))

    def do_add(self, args: argparse.Namespace, ci: Any) -> int:
        """store a card (TOML or JSON) as a new candidate version, screened at once"""
        from .card import load_card

        stored = ci.add(load_card(args.file))
        if args.json:
            self._print_json(stored.summary())
        else:
            print(f"added {stored.name} v{stored.version}: {stored.status}"
                  + (f" ({printable(stored.reason, one_line=True)})" if stored.status != "candidate" else ""))
        return 0

    def do_list(self, args: argparse.Namespace, ci: Any) -> int:
        """every skill: versions, which are promoted, uses and successes"""
        rows = []
        for name in ci.store.names():
            versions = ci.store.versions(name)
            promoted = [v for v in versions if v.status == "promoted"]
            rows.append({"name": name, "versions": len(versions), "promoted": [v.version for v in promoted],
                         "newest_status": versions[-1].status, "uses": sum(v.uses for v in versions),
                         "successes": sum(v.successes for v in versions),
                         "purpose": versions[-1].card.purpose})
        if args.json:
            self._print_json(rows)
            return 0
        if not rows:
            print("no skills yet; add one with 'purpose-agent skills add FILE'")
            return 0
        print(f"{'NAME':<24} {'VERSIONS':>8}  {'PROMOTED':<10} {'NEWEST':<12} {'USES':>6} {'OK':>6}  PURPOSE")
        for row in rows:
            in_use = ",".join(f"v{v}" for v in row["promoted"]) or "-"
            print(f"{row['name']:<24} {row['versions']:>8}  {in_use:<10} {row['newest_status']:<12} "
                  f"{row['uses']:>6} {row['successes']:>6}  {printable(row['purpose'], one_line=True)[:60]}")
        return 0

    def do_show(self, args: argparse.Namespace, ci: Any) -> int:
        """a skill's card, its versions with their status, and the status history"""
        stored = ci.store.get(args.name, args.version)
        versions = ci.store.versions(args.name)
        data = {"card": stored.card.to_data(), "version": stored.version, "status": stored.status,
                "reason": stored.reason, "versions": [v.summary() for v in versions],
                "history": ci.store.history(args.name), "test_runs": ci.store.test_runs(args.name, stored.version)}
        if args.json:
            self._print_json(data)
            return 0
        card = stored.card
        print(f"{card.name} v{stored.version} ({card.kind}): {stored.status}"
              + (f" - {printable(stored.reason, one_line=True)}" if stored.reason else ""))
        print(f"purpose: {printable(card.purpose, one_line=True)}")
        print(f"written by: {card.provenance.author}" + (f" {printable(card.provenance.by, one_line=True)}"
                                                         if card.provenance.by else "")
              + (f" (run {printable(card.provenance.run_id, one_line=True)})" if card.provenance.run_id else ""))
        print(f"inputs: {printable(json.dumps(card.inputs), one_line=True)}")
        if card.tools:
            print(f"tools required: {', '.join(printable(t, one_line=True) for t in card.tools)}")
        if card.steps:
            for index, step in enumerate(card.steps, 1):
                print(f"  {index}. {printable(step, one_line=True)}")
        else:
            print(f"code: {len(card.code.splitlines())} line(s), entry {card.entry}(); {len(card.tests)} test(s)")
        print("versions:")
        for version in versions:
            print(f"  v{version.version}: {version.status:<12} uses {version.uses}, successes {version.successes}"
                  + (f" - {printable(version.reason, one_line=True)}" if version.reason else ""))
        return 0

    def do_test(self, args: argparse.Namespace, ci: Any) -> int:
        """run a version's tests in the sandbox (default: the newest version)"""
        report = ci.test(args.name, args.version)
        if args.json:
            self._print_json(report.as_data())
        else:
            for outcome in report.outcomes:
                mark = "pass" if outcome.passed else "FAIL"
                print(f"{mark} {printable(outcome.name, one_line=True)}"
                      + (f": {printable(outcome.detail, one_line=True)}" if outcome.detail else ""))
            print(f"{args.name} v{report.version}: {len(report.outcomes) - len(report.failed)} of "
                  f"{len(report.outcomes)} test(s) passed in the sandbox")
        return 0 if report.passed else 1

    def do_promote(self, args: argparse.Namespace, ci: Any) -> int:
        """screen, test and replay a version; promote it if all pass"""
        report = ci.promote(args.name, args.version)
        if args.json:
            self._print_json(report.as_data())
        else:
            print(f"{args.name} v{report.version}: {report.status} - {printable(report.reason, one_line=True)}")
            if report.retired:
                print(f"retired: {', '.join(f'v{v}' for v in report.retired)}")
        return 0 if report.promoted else 1

    def do_rollback(self, args: argparse.Namespace, ci: Any) -> int:
        """take the newest promoted version out of use, restoring the previous one if none is left"""
        rolled, restored = ci.rollback(args.name)
        promoted = [v.version for v in ci.store.promoted(args.name)]
        if args.json:
            self._print_json({"rolled_back": rolled.version, "restored": restored.version if restored else None,
                              "promoted": promoted})
        else:
            print(f"{args.name} v{rolled.version}: rolled back"
                  + (f"; v{restored.version} restored" if restored else "")
                  + (f"; in use: {', '.join(f'v{v}' for v in promoted)}" if promoted else "; no version is in use"))
        return 0
