"""``purpose-agent demo``: the README's main job (see :mod:`purpose_agent.runtime.demo`)."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any, name: str) -> None:
    parser = sub.add_parser(name, help="the learning demo: a team solves coding tasks over rounds")
    parser.add_argument("--model", default=None, help="provider:model (default: see 'purpose-agent models')")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--memory", default=None, help="keep lessons in this SQLite file (default: in memory)")
    parser.add_argument("--max-steps", type=int, default=3, help="steps per team member (default 3)")
    parser.set_defaults(run=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    from ..runtime.demo import run_demo as demo

    results = demo(model=args.model, rounds=args.rounds, memory_path=args.memory, max_steps=args.max_steps)
    return 0 if results else 1
