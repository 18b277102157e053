"""``purpose-agent critics calibration [--json] [--path FILE] [--model M] [--family F]``.

Lists, per (critic model, task family) recorded by the ``calibrated`` critic: judgements, the
grounded success rate, agreement at the success threshold, Cohen's kappa, AUC, Brier scores (raw
score / 10 and calibrated) and the status (reliable, unreliable, insufficient) with the sentence
why. ``--json`` ends with one JSON line ``{"path": …, "rows": [{…}, …]}``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from purpose_agent.hookspecs import BaseCommand


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


class CriticsCommand(BaseCommand):
    """``purpose-agent critics``: what the calibrated critic has learned about the model critics."""

    help = "Critic calibration: agreement of model critics with grounded outcomes, per task family."

    def add_action_arguments(self, parsers: dict[str, argparse.ArgumentParser]) -> None:
        """Declare the options of ``calibration``."""
        cal = parsers["calibration"]
        cal.add_argument("--path", type=Path, default=None,
                         help="the calibration store (default: [plugins.critics] calibration_path, else the state directory's)")
        cal.add_argument("--model", default=None, help="only this critic model id")
        cal.add_argument("--family", default=None, help="only this task family")
        cal.add_argument("--json", action="store_true", help="end with one JSON line of the figures")

    def do_calibration(self, args: argparse.Namespace) -> int:
        """agreement with grounded outcomes per model and task family

        Print the table (and the JSON line); exit 2 with a sentence when the store cannot be read."""
        from .calibration import assess
        from .calibration_store import FILE_NAME, CalibrationStore
        from .judging import settings_of

        settings = settings_of(self.context)
        kernel = self.kernel_for(args)
        path = args.path or (Path(settings.calibration_path) if settings.calibration_path else None)
        path = path or kernel.state_dir() / FILE_NAME
        if not path.exists():
            print(f"purpose-agent critics calibration: no calibration recorded yet: {path} does not exist "
                  "(the 'calibrated' critic writes it when a grounded outcome is known)", file=sys.stderr)
            if args.json:
                print(json.dumps({"path": str(path), "rows": []}))
            return 0
        try:
            store = CalibrationStore(path)
            keys = store.keys()
        except Exception as exc:  # a file that is not a calibration store: one sentence, not a traceback
            print(f"purpose-agent critics calibration: error: cannot read {path} as a calibration store ({exc})",
                  file=sys.stderr)
            return 2
        rows: list[dict[str, Any]] = []
        for model, family, _count in keys:
            if (args.model and model != args.model) or (args.family and family != args.family):
                continue
            scores, outcomes = store.samples(model, family, limit=settings.max_samples)
            verdict = assess(model, family, scores, outcomes, threshold=settings.success_threshold,
                             min_samples=settings.min_samples, min_agreement=settings.min_agreement)
            rows.append({"model": model, "family": family, "status": verdict.status, "why": verdict.reason,
                         **verdict.figures.as_dict()})
        store.close()
        from purpose_agent.interfaces import printable

        header = ("model", "family", "n", "success", "agree", "kappa", "auc", "brier raw", "brier cal", "status")
        table = [header] + [
            (printable(r["model"]), printable(r["family"]), str(r["samples"]),
             _pct(r["successes"] / r["samples"] if r["samples"] else None), _pct(r["accuracy"]), _num(r["kappa"]),
             _num(r["auc"]), _num(r["brier_raw"]), _num(r["brier_calibrated"]), r["status"])
            for r in rows
        ]
        widths = [max(len(line[i]) for line in table) for i in range(len(header))]
        print(f"calibration store: {path}; threshold {settings.success_threshold:g}, "
              f"trusted from {settings.min_samples} judgements, unreliable below {100 * settings.min_agreement:.0f}% agreement")
        for line in table:
            print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())
        if not rows:
            print("(no judgements match)")
        for r in rows:
            if r["status"] != "reliable":
                print(f"- {printable(r['why'])}")
        if args.json:
            print(json.dumps({"path": str(path), "rows": rows}, sort_keys=True))
        return 0
