"""``purpose-agent demo``: the README's main job (see :mod:`purpose_agent_demo.demo`)."""

from __future__ import annotations

import argparse

from purpose_agent.hookspecs import BaseCommand


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


class DemoCommand(BaseCommand):
    """``purpose-agent demo``."""

    help = "The learning demo: a model attempts small Python functions over rounds and learns between them."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Declare ``--model``, ``--rounds``, ``--tasks``, ``--seed``, ``--max-tokens``, ``--no-learning``
        and ``--memory``."""
        add_arguments(parser)

    def run(self, args: argparse.Namespace) -> int:
        """Run the demo; exit 1 when no round ran."""
        return run_demo(args)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from .suite import SUITE

    parser.add_argument("--model", default=None, help="provider:model (default: see 'purpose-agent models')")
    parser.add_argument("--rounds", type=_positive, default=3, help="rounds over the same tasks (default 3)")
    parser.add_argument("--tasks", type=_positive, default=None,
                        help=f"tasks per round, drawn from the {len(SUITE)}-task suite (default 5)")
    parser.add_argument("--seed", type=int, default=0, help="which tasks are drawn (default 0)")
    parser.add_argument("--max-tokens", type=_positive, default=192, help="reply budget per attempt (default 192)")
    parser.add_argument("--no-learning", action="store_true", help="attempt the tasks without memory (a baseline)")
    parser.add_argument("--memory", default=None, help="keep lessons in this SQLite file (default: in memory)")


def run_demo(args: argparse.Namespace) -> int:
    from .demo import DEFAULT_TASKS
    from .demo import run_demo as demo

    results = demo(model=args.model, rounds=args.rounds, memory_path=args.memory, task_count=args.tasks or DEFAULT_TASKS,
                   seed=args.seed, max_tokens=args.max_tokens, learn=not args.no_learning)
    return 0 if results else 1
