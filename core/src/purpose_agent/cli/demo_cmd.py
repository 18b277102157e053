"""``purpose-agent demo``: the README's main job (see :mod:`purpose_agent.runtime.demo`)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=None, help="provider:model (default: see 'purpose-agent models')")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--memory", default=None, help="keep lessons in this SQLite file (default: in memory)")
    parser.add_argument("--max-steps", type=int, default=3, help="steps per team member (default 3)")
    parser.set_defaults(run=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    from ..runtime.demo import run_demo as demo

    results = demo(model=args.model, rounds=args.rounds, memory_path=args.memory, max_steps=args.max_steps)
    return 0 if results else 1
