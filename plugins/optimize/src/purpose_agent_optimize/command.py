"""``purpose-agent optimize``: fingerprints, dataset export, prompt packs, shadow evaluation, policy.

::

    purpose-agent optimize fingerprint [--role R] [--family F] [--json]
    purpose-agent optimize export --out FILE [--min-score 0.8] [--role R] [--json]
    purpose-agent optimize export --plan [--min-score 0.8] [--epochs 3] [--usd-per-mtok 3] [--tokens-per-second 2500]
    purpose-agent optimize propose --role R [--model M] [--failures 8] [--candidates 1] [--force]
    purpose-agent optimize shadow --role R --candidate V --tasks FILE --purpose TEXT [--roles a,b] [--model M]
                                  [--critic NAME] [--alpha 0.05]
    purpose-agent optimize status [--role R] [--act] [--json]
    purpose-agent optimize rollback --role R

Recorded text (tasks, answers, critic reasons, pack texts) is untrusted and printed through
``printable``; ``--json`` output through ``printable_json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from purpose_agent.hookspecs import BaseCommand
from purpose_agent.interfaces import printable, printable_json

PROG = "purpose-agent optimize"


def _print_json(data: Any) -> None:
    """The ``--json`` line: recorded text in it is untrusted, so terminal controls are escaped."""
    print(printable_json(json.dumps(data, ensure_ascii=False)))


def _fail(message: str) -> int:
    # the message may quote a path, a role or a file's text: one line, no terminal controls
    print(f"{PROG}: {printable(message, one_line=True)}", file=sys.stderr)
    return 2


class OptimizeCommand(BaseCommand):
    """``purpose-agent optimize``."""

    help = "Fingerprints, dataset export, prompt packs adopted by shadow evaluation, rollback."

    def add_action_arguments(self, parsers: dict[str, argparse.ArgumentParser]) -> None:
        """Declare the arguments of the six actions."""
        fingerprint, export, propose, shadow, status, rollback = parsers.values()
        fingerprint.add_argument("--family", default=None, help="only this task family (a team's purpose)")
        export.add_argument("--out", type=Path, default=None, metavar="FILE", help="the JSONL file to write")
        export.add_argument("--min-score", type=float, default=0.8,
                            help="keep runs scored at least this, on 0..1 (the critic's score / 10; default 0.8)")
        export.add_argument("--plan", action="store_true",
                            help="print a LoRA/distillation plan for the rows (sizes, cost, time); trains nothing")
        export.add_argument("--epochs", type=int, default=3, help="plan: passes over the data (default 3)")
        export.add_argument("--usd-per-mtok", type=float, default=3.0,
                            help="plan: training price per million tokens, USD (default 3.0; set your provider's)")
        export.add_argument("--tokens-per-second", type=float, default=2500.0,
                            help="plan: training throughput (default 2500: a LoRA on a 7-8B model, one 24 GB GPU)")
        propose.add_argument("--model", default=None, help="provider:model that proposes (default: the configured chain)")
        propose.add_argument("--failures", type=int, default=8, help="how many recent failed runs it reads (default 8)")
        propose.add_argument("--candidates", type=int, default=1, help="how many candidates to ask for (default 1)")
        propose.add_argument("--force", action="store_true", help="propose even when the policy says stop (plateau)")
        shadow.add_argument("--candidate", type=int, required=True, metavar="VERSION", help="the pack version to try")
        shadow.add_argument("--tasks", type=Path, required=True, metavar="FILE",
                            help="held-out tasks: one per line, or JSONL with a 'task' field")
        shadow.add_argument("--purpose", required=True, help="the team's purpose (its task family)")
        shadow.add_argument("--roles", default=None, help="comma-separated member roles (default: --role alone)")
        shadow.add_argument("--model", default=None, help="provider:model for the team (default: the configured chain)")
        shadow.add_argument("--critic", default=None, help="the critic that scores each run (default: [runtime] critic)")
        shadow.add_argument("--alpha", type=float, default=0.05, help="significance level of the sign test (default 0.05)")
        shadow.add_argument("--no-adopt", action="store_true", help="record the verdict but do not adopt")
        status.add_argument("--act", action="store_true", help="carry out the actions (a degrading role is rolled back)")
        for each in (fingerprint, export, status):
            each.add_argument("--role", default=None, help="only this role")
        for each in (propose, shadow, rollback):
            each.add_argument("--role", required=True, help="the role (coder, researcher, assistant, ...)")
        for each in (fingerprint, export, propose, shadow, status, rollback):
            each.add_argument("--json", action="store_true", help="end with one JSON line")

    def run(self, args: argparse.Namespace) -> int:
        """Run the action; 2 for unusable input, 1 when the action could not be done."""
        from . import open_store

        kernel = self.kernel_for(args)
        settings = self.context.settings
        if getattr(args, "role", None) is not None and not args.role.strip():
            return _fail("--role needs a role name, like coder or assistant")
        try:
            return self.dispatch(args, kernel, open_store(kernel, settings), settings)
        except ValueError as exc:
            return _fail(str(exc))

    # ------------------------------------------------------------------ actions

    def do_fingerprint(self, args: argparse.Namespace, kernel: Any, store: Any, settings: Any) -> int:
        """success, steps, tokens and failure kinds per role and task family"""
        from .fingerprints import fingerprints

        prints = fingerprints(store.runs(role=args.role, family=args.family))
        if not prints:
            print("no recorded runs yet: runs of teams are recorded once purpose-agent-optimize is installed "
                  "([plugins.optimize] record = true)")
        for fp in prints:
            low, high = fp.success_ci
            print(f"{printable(fp.role)} on {printable(fp.task_family)!r}: {fp.successes}/{fp.runs} succeeded "
                  f"({fp.success_rate:.0%}, 95% CI {low:.0%}-{high:.0%}); steps {fp.steps_mean:.1f} mean, "
                  f"tool calls {fp.tool_calls_mean:.1f}, tokens {fp.tokens_mean:.0f} mean")
            for kind, figures in fp.failure_kinds.items():
                k_low, k_high = figures["ci"]
                print(f"    {kind}: {figures['count']} ({figures['share']:.0%}, 95% CI {k_low:.0%}-{k_high:.0%})")
        if args.json:
            _print_json({"fingerprints": [fp.as_dict() for fp in prints]})
        return 0

    def do_export(self, args: argparse.Namespace, kernel: Any, store: Any, settings: Any) -> int:
        """recorded runs as a chat fine-tuning JSONL (or --plan: a dry-run training plan)"""
        from .dataset import PlanAssumptions, export_dataset, plan

        if not 0.0 <= args.min_score <= 1.0:
            return _fail(f"--min-score is on 0..1 (the critic's score / 10), got {args.min_score}")
        if args.out is None and not args.plan:
            return _fail("export needs --out FILE (or --plan for a dry-run training plan)")
        if args.epochs < 1 or args.usd_per_mtok < 0 or args.tokens_per_second <= 0:
            return _fail("--epochs must be at least 1, --usd-per-mtok at least 0 and --tokens-per-second above 0")
        refusal = kernel.screening_refusal()
        if refusal:
            return _fail(f"the rows cannot be screened, so nothing is exported: {refusal}")
        if not kernel.scanners():
            return _fail("no immune scanner is active, so the rows cannot be screened and nothing is exported; "
                         "install purpose-agent-immune (or enable its scanners)")

        def screen(texts: list[tuple[str, str]]) -> list[str]:
            from purpose_agent.models import ScanRequest, Severity

            results = kernel.scan_many([ScanRequest(text=text, source=source) for text, source in texts])
            return ["; ".join(f"{f.scanner}/{f.category}" for f in findings if f.severity.rank >= Severity.HIGH.rank)
                    for findings in results]

        def pack_text(role: str, version: int) -> str | None:
            pack = store.pack(role, version)
            return pack.text if pack is not None else None

        report = export_dataset(store.runs(role=args.role), args.out, min_score=args.min_score, screen=screen,
                                pack_text=pack_text)
        where = f" to {args.out}" if args.out is not None else ""
        print(f"wrote {report.written} row(s){where} from {report.considered} recorded run(s): "
              f"{report.below_score} below --min-score {args.min_score}, {report.duplicates} duplicate(s), "
              f"{report.flagged_in_run} flagged during the run, {report.flagged_by_scanners} flagged by the scanners now")
        payload: dict[str, Any] = {"export": report.as_dict()}
        if args.plan:
            training = plan(report, PlanAssumptions(epochs=args.epochs, usd_per_million_tokens=args.usd_per_mtok,
                                                    tokens_per_second=args.tokens_per_second))
            print(f"plan (dry run, nothing trained): {training['train_rows']} training + {training['eval_rows']} "
                  f"evaluation rows, ~{training['dataset_tokens']} tokens, {training['epochs']} epochs = "
                  f"~{training['trained_tokens']} tokens trained; ~${training['estimated_cost_usd']:.2f}, "
                  f"~{training['estimated_hours']:.2f} h at the stated assumptions")
            for warning in training["warnings"]:
                print(f"warning: {warning}")
            payload["plan"] = training
        if args.json:
            _print_json(payload)
        return 0

    def do_propose(self, args: argparse.Namespace, kernel: Any, store: Any, settings: Any) -> int:
        """ask a model for better instructions for a role, from its failures"""
        from .packs import propose
        from .policy import STOP, verdict_for

        if args.failures < 1 or args.candidates < 1:
            return _fail("--failures and --candidates must be at least 1")
        verdict = verdict_for(store, args.role)
        if verdict.action == STOP and not args.force:
            return _fail(f"the policy says stop for role '{args.role}' ({verdict.label}: {verdict.reason}); "
                         "pass --force to propose anyway")
        if not kernel.scanners() or kernel.screening_refusal():
            return _fail("a prompt pack becomes part of a system prompt and must be screened, but screening is not "
                         "available: " + (kernel.screening_refusal() or "no immune scanner is active; "
                                          "install purpose-agent-immune"))
        import purpose_agent as pa

        recorded = store.runs(role=args.role)
        failures = [r for r in recorded if not r["success"]][-args.failures:]
        successes = [r for r in recorded if r["success"]][-3:]
        backend = pa.resolve_backend(args.model, kernel).backend
        packs, blocked = propose(store, backend, args.role, failures, candidates=args.candidates,
                                 successes=successes, screen=lambda text: kernel.blocking_reasons(text, "prompt"))
        for pack in packs:
            print(f"candidate pack {printable(args.role, one_line=True)} v{pack.version}: {printable(pack.text)}")
        for reason in blocked:
            print(f"a candidate was blocked by the immune scanners and not stored: {printable(reason)}")
        if packs:
            print(f"next: purpose-agent optimize shadow --role {printable(args.role, one_line=True)} --candidate {packs[0].version} "
                  "--tasks HELD_OUT_TASKS --purpose PURPOSE")
        if args.json:
            _print_json({"candidates": [{"version": p.version, "text": p.text, "rationale": p.rationale}
                                        for p in packs], "blocked": blocked})
        return 0 if packs else 1

    def do_shadow(self, args: argparse.Namespace, kernel: Any, store: Any, settings: Any) -> int:
        """run baseline and a candidate pack on held-out tasks; adopt on a significant gain"""
        from .packs import shadow_evaluate
        from .traces import wait_for_recordings

        tasks = read_tasks(args.tasks)
        if not 0.0 < args.alpha < 1.0:
            return _fail(f"--alpha is a probability between 0 and 1, got {args.alpha}")
        import purpose_agent as pa

        roles = [r.strip() for r in args.roles.split(",") if r.strip()] if args.roles else [args.role]
        if args.role not in roles:
            return _fail(f"--roles ({', '.join(roles)}) must include --role {args.role}")
        team = pa.purpose(args.purpose, model=args.model, roles=roles, critic=args.critic, kernel=kernel,
                          memory=False, learn=False)
        if team.critic is None:
            return _fail("a shadow evaluation scores every run, but the team has no critic; "
                         "pass --critic NAME or set [runtime] critic")
        from . import success_score_of

        result = shadow_evaluate(store, kernel, args.role, args.candidate, tasks, team.run,
                                 success_score=success_score_of(settings), alpha=args.alpha, adopt=not args.no_adopt)
        wait_for_recordings()
        low, high = result.gain_ci
        baseline = f"v{result.baseline}" if result.baseline is not None else "no pack"
        print(f"baseline ({baseline}): {result.baseline_successes}/{result.tasks} succeeded; "
              f"candidate (v{result.candidate}): {result.candidate_successes}/{result.tasks}; gain {result.gain:+.0%} "
              f"(paired bootstrap 95% CI {low:+.0%} to {high:+.0%})")
        print(result.reason)
        if args.json:
            _print_json(result.as_dict())
        return 0

    def do_status(self, args: argparse.Namespace, kernel: Any, store: Any, settings: Any) -> int:
        """each role's adopted pack, label (improving/plateau/degrading) and action"""
        from .policy import act, verdict_for

        roles = [args.role] if args.role else store.roles()
        if not roles:
            print("nothing recorded yet: no runs and no prompt packs")
        report = []
        for role in roles:
            verdict = verdict_for(store, role)
            adopted = f"pack v{verdict.adopted_version}" if verdict.adopted_version is not None else "no pack"
            print(f"{printable(role)}: {verdict.label} -> {verdict.action} ({adopted}; {printable(verdict.reason)}); "
                  f"{len(store.packs(role))} pack version(s), {len(store.decisions(role))} shadow evaluation(s)")
            entry = verdict.as_dict()
            if args.act:
                entry["done"] = act(store, verdict)
                print(f"    {entry['done']}")
            report.append(entry)
        if args.json:
            _print_json({"roles": report})
        return 0

    def do_rollback(self, args: argparse.Namespace, kernel: Any, store: Any, settings: Any) -> int:
        """return a role to the pack it ran with before the current one"""
        adoption = store.rollback(args.role, reason="on request (purpose-agent optimize rollback)")
        now = f"pack v{adoption.version}" if adoption.version is not None else "no pack (its brief alone)"
        print(f"role '{printable(args.role)}' now runs with {now}")
        if args.json:
            _print_json({"role": args.role, "version": adoption.version})
        return 0


def read_tasks(path: Path) -> list[str]:
    """Held-out tasks from a file: one per line, or JSON lines with a ``task`` field."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ValueError(f"cannot read the tasks file {path}: {exc.strerror or exc}") from exc
    tasks = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if line.lstrip().startswith("{"):
            try:
                task = json.loads(line).get("task")
            except (json.JSONDecodeError, AttributeError):
                task = None
            if not isinstance(task, str) or not task.strip():
                raise ValueError(f"{path}:{number}: a JSON line needs a non-empty 'task' string")
            tasks.append(task)
        else:
            tasks.append(line.strip())
    return tasks
