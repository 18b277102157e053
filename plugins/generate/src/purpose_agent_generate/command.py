"""``purpose-agent generate "USE CASE" --out DIR``: a runnable multi-agent system from a sentence,
and what ``purpose-agent run`` does in a directory that holds one (:meth:`GenerateCommand.run_system`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from purpose_agent.hookspecs import BaseCommand


class GenerateCommand(BaseCommand):
    """``purpose-agent generate``, and the runner of a generated project's ``[system]``."""

    help = "Write a runnable multi-agent system for a use case in a sentence, as a project directory."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Declare the use case, ``--out``, ``--model``, ``--budget`` and ``--force``."""
        add_arguments(parser)

    def run(self, args: argparse.Namespace) -> int:
        """Generate the system and write the project."""
        return generate(args)

    def run_system(self, args: argparse.Namespace, kernel: Any, table: dict[str, Any],
                   watch: Callable[[Any, Callable[[], Any], str | None], Any]) -> int:
        """``purpose-agent run TASK`` in a generated project (the kernel's ``run`` hands it over,
        with ``watch``, its progress printer)."""
        return run_system(args, kernel, table, watch)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("use_case", help="what the system should do, in a sentence")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="the directory to write the project to (purpose-agent.toml and system.py)")
    parser.add_argument("--model", default=None,
                        help="provider:model that designs the system, and the project's default model "
                             "(default: see 'purpose-agent models')")
    parser.add_argument("--budget", type=float, default=None, metavar="USD",
                        help="the routing budget per run, in US dollars (default: the model's proposal)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing project in DIR")


def generate(args: argparse.Namespace) -> int:
    import purpose_agent
    from purpose_agent.errors import PurposeAgentError

    from .system import check_project_directory, write_project
    from .system import generate as generate_spec

    if args.budget is not None and not 0 <= args.budget < float("inf"):
        raise PurposeAgentError(f"--budget must be a number of dollars at or above 0, not {args.budget}")
    check_project_directory(args.out, force=args.force)  # before the model is asked
    kernel = purpose_agent.Kernel.load(strict=args.strict)
    spec = generate_spec(args.use_case, model=args.model, kernel=kernel, budget_usd=args.budget)
    paths = write_project(spec, args.out, model=args.model, force=args.force)
    say = _printer()
    say(f"{spec.name}: {len(spec.agents)} agent(s): {', '.join(f'{a.name} ({a.role})' for a in spec.agents)}")
    for edge in spec.flow:
        say(f"  {edge.source} -> {edge.target}" + (f"  when the answer contains {edge.when!r}" if edge.when else ""))
    for agent in spec.agents:
        route = spec.routing.roles.get(agent.name)
        say(f"  {agent.name}: tools {', '.join(agent.tools) or 'none'}; model {route or 'the default'}")
    for missing in spec.missing_tools:
        where = f"install {missing.plugin}" if missing.plugin else "write it as a @pa.tool in system.py"
        say(f"missing tool {missing.name} (for {', '.join(missing.needed_by)}): {where}")
    for note in spec.repairs:
        say(f"repaired: {note}")
    say(f"evaluation: {len(spec.evaluation)} case(s)")
    say(f"wrote {', '.join(str(p) for p in paths)}")
    say(f'run it: cd {args.out} && purpose-agent run "TASK"   (python system.py --evaluate runs the evaluation)')
    return 0


def run_system(args: argparse.Namespace, kernel: Any, table: dict[str, Any],
               watch: Callable[[Any, Callable[[], Any], str | None], Any]) -> int:
    """``purpose-agent run TASK`` in a generated project: run its ``[system]`` on TASK, its progress
    shown by ``watch(bus, run, trace_path)``."""
    from purpose_agent.interfaces import printable

    from .system import GeneratedSystem, spec_from_table

    spec = spec_from_table(table, kernel.config.source_of("system"))
    system = GeneratedSystem(spec, kernel=kernel, model=args.model, max_steps=args.max_steps)
    say = _printer()
    say(f"system: {spec.name} ({', '.join(a.name for a in spec.agents)})")
    result = watch(system.bus, lambda: system.run(args.task), args.trace)
    for who, text in result.answers:
        say(f"[{who}] {text.strip().splitlines()[0][:200] if text.strip() else ''}")
    print("\nanswer:\n" + (printable(result.answer) if result.answer is not None else "(no answer)"))
    if result.answer is None:
        print(f"purpose-agent: {printable(result.no_answer_reason or 'no answer')}", file=sys.stderr)
        return 1
    return 0


def _printer() -> Any:
    from purpose_agent.interfaces import printable

    # The spec came from a model: no control sequences on the terminal.
    return lambda line: print(printable(line, one_line=True), flush=True)
