"""``purpose-agent sandbox``: run a file in the sandbox, or list the isolation layers."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from purpose_agent.hookspecs import BaseCommand
from purpose_agent.interfaces import printable

#: Exit status when the code hit the wall-clock limit (as coreutils ``timeout`` does).
EXIT_TIMED_OUT = 124


def seconds(text: str) -> float:
    """``--timeout``: a positive, finite number of seconds (``nan``, ``inf`` and ``-1`` are refused)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive, finite number of seconds")
    return value


class SandboxCommand(BaseCommand):
    """The ``sandbox`` subcommand with ``run`` and ``layers``."""

    help = "Run a Python file in the sandbox, or show which isolation layers this machine provides."

    def add_action_arguments(self, parsers: dict[str, argparse.ArgumentParser]) -> None:
        run = parsers["run"]
        run.add_argument("file", metavar="FILE.py", type=Path, help="the Python file to run")
        run.add_argument("--timeout", type=seconds, default=None, metavar="S", help="wall-clock limit in seconds")
        run.add_argument("--json", action="store_true", help="print the result as JSON")
        parsers["layers"].add_argument("--json", action="store_true", help="print the layers as JSON")

    def _sandbox(self) -> Any:
        from .sandbox import BwrapSandbox

        return BwrapSandbox.from_context(self.context)

    def do_run(self, args: argparse.Namespace) -> int:
        """run FILE.py in the sandbox and report exit status, output and layers"""
        try:
            code = args.file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError, ValueError) as exc:  # ValueError: a NUL in the name
            print(f"purpose-agent sandbox: cannot read {printable(repr(str(args.file)))}: {exc}", file=sys.stderr)
            return 2
        sandbox = self._sandbox()
        timeout = args.timeout if args.timeout is not None else sandbox.settings.timeout_s
        result = sandbox.run(code, timeout=timeout)  # SandboxUnavailable is reported by the CLI
        if args.json:
            print(json.dumps({"file": str(args.file), **result.model_dump()}, indent=2))
        else:
            active = [name for name, on in result.layers.items() if on]
            inactive = [name for name, on in result.layers.items() if not on]
            print(f"{printable(str(args.file), one_line=True)}: {result.reason} after {result.duration_s:.2f} s")
            print(f"layers active: {', '.join(active)}" + (f"; not active: {', '.join(inactive)}" if inactive else ""))
            print(f"jail bound: {sandbox.jail_bound_detail()}")
            if result.truncated:
                print("output was truncated at max_output_bytes")
            if result.stdout:
                print("--- stdout ---")
                # the jail's output is untrusted: its control sequences must not reach the terminal
                print(printable(result.stdout), end="" if result.stdout.endswith("\n") else "\n")
            if result.stderr:
                print("--- stderr ---")
                print(printable(result.stderr), end="" if result.stderr.endswith("\n") else "\n")
        if result.timed_out:
            return EXIT_TIMED_OUT
        if result.exit_code is None or result.exit_code < 0:
            return 1
        return result.exit_code

    def do_layers(self, args: argparse.Namespace) -> int:
        """list each isolation layer and whether it is available here"""
        from .sandbox import describe_layers

        sandbox = self._sandbox()
        layers = list(sandbox.layers())
        required = sandbox.settings.required()
        missing = [layer.name for layer in layers if layer.name in required and not layer.available]
        if args.json:
            print(
                json.dumps(
                    {
                        "policy": sandbox.settings.policy,
                        "layers": [layer.model_dump() for layer in layers],
                        "missing_required": missing,
                    },
                    indent=2,
                )
            )
        else:
            print(f"policy: {sandbox.settings.policy}")
            print(describe_layers(layers))
            if missing:
                print(f"the sandbox will refuse to run: missing required layer(s) {', '.join(missing)}")
        return 1 if missing else 0
