"""The ``purpose-agent`` command line.

Built-in commands are parsed with argparse (cheap to import). A first word that is not built in
is looked up among the subcommands plugins register through ``register_commands``; only then
are command plugins imported.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ..errors import PurposeAgentError
from ..version import __version__
from . import config_cmd, demo_cmd, doctor_cmd, hooks_cmd, memory_cmd, models_cmd, plugins_cmd, run_cmd

BUILTIN_COMMANDS = {
    "plugins": plugins_cmd,
    "config": config_cmd,
    "doctor": doctor_cmd,
    "hooks": hooks_cmd,
    "models": models_cmd,
    "run": run_cmd,
    "demo": demo_cmd,
    "memory": memory_cmd,
}


def build_parser() -> argparse.ArgumentParser:
    """The parser of the built-in commands."""
    parser = argparse.ArgumentParser(
        prog="purpose-agent",
        description="A self-improving agent framework built from plugins.",
        epilog="Plugins can add commands; 'purpose-agent plugins list' shows what is installed.",
    )
    parser.add_argument("--version", action="version", version=f"purpose-agent {__version__}")
    parser.add_argument(
        "--strict", action="store_true", default=None, help="treat every plugin problem as an error (for CI)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in BUILTIN_COMMANDS.items():
        module.add_parser(sub, name)
    return parser


def _plugin_command(argv: Sequence[str], strict: bool | None) -> int | None:
    """Run a plugin-provided subcommand if ``argv[0]`` names one; ``None`` if none does."""
    from ..kernel import Kernel

    kernel = Kernel.load(strict=strict)
    commands = kernel.components("command")
    registration = commands.get(argv[0])
    if registration is None:
        return None
    command = kernel.create("command", argv[0])
    parser = argparse.ArgumentParser(prog=f"purpose-agent {argv[0]}", description=command.help)
    command.add_arguments(parser)
    args = parser.parse_args(argv[1:])
    args.kernel = kernel
    return int(command.run(args) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``purpose-agent`` and ``python -m purpose_agent``; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    strict: bool | None = True if "--strict" in argv else None
    rest = [a for a in argv if a != "--strict"]
    try:
        if rest and not rest[0].startswith("-") and rest[0] not in BUILTIN_COMMANDS:
            code = _plugin_command(rest, strict)
            if code is not None:
                return code
        parser = build_parser()
        if not rest:
            if sys.stdin.isatty() and sys.stdout.isatty():
                return run_cmd.wizard()
            parser.print_help()
            return 0
        args = parser.parse_args(argv)
        if getattr(args, "run", None) is None:
            parser.parse_args([*rest, "--help"])
            return 2
        return int(args.run(args) or 0)
    except PurposeAgentError as exc:
        print(f"purpose-agent: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # the reader went away (e.g. `| head`); not an error worth a traceback
        sys.stderr.close()
        return 0
