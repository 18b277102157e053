"""``purpose-agent sandbox``: run a file in the sandbox, or list the isolation layers."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

#: Exit status when the code hit the wall-clock limit (as coreutils ``timeout`` does).
EXIT_TIMED_OUT = 124


class SandboxCommand:
    """The ``sandbox`` subcommand with ``run`` and ``layers``."""

    help = "Run a Python file in the sandbox, or show which isolation layers this machine provides."

    def __init__(self, context: Any) -> None:
        self.context = context

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        run = sub.add_parser("run", help="run FILE.py in the sandbox and report exit status, output and layers")
        run.add_argument("file", metavar="FILE.py", type=Path, help="the Python file to run")
        run.add_argument("--timeout", type=float, default=None, metavar="S", help="wall-clock limit in seconds")
        run.add_argument("--json", action="store_true", help="print the result as JSON")
        layers = sub.add_parser("layers", help="list each isolation layer and whether it is available here")
        layers.add_argument("--json", action="store_true", help="print the layers as JSON")

    def _sandbox(self) -> Any:
        from .sandbox import BwrapSandbox

        return BwrapSandbox.from_context(self.context)

    def run(self, args: argparse.Namespace) -> int:
        if args.action == "layers":
            return self._layers(args)
        return self._run(args)

    def _layers(self, args: argparse.Namespace) -> int:
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

    def _run(self, args: argparse.Namespace) -> int:
        try:
            code = args.file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            print(f"purpose-agent sandbox: cannot read {args.file}: {exc}", file=sys.stderr)
            return 2
        sandbox = self._sandbox()
        timeout = args.timeout if args.timeout is not None else sandbox.settings.timeout_s
        result = sandbox.run(code, timeout=timeout)  # SandboxUnavailable is reported by the CLI
        if args.json:
            print(json.dumps({"file": str(args.file), **result.model_dump()}, indent=2))
        else:
            active = [name for name, on in result.layers.items() if on]
            inactive = [name for name, on in result.layers.items() if not on]
            print(f"{args.file}: {result.reason} after {result.duration_s:.2f} s")
            print(f"layers active: {', '.join(active)}" + (f"; not active: {', '.join(inactive)}" if inactive else ""))
            if result.truncated:
                print("output was truncated at max_output_bytes")
            if result.stdout:
                print("--- stdout ---")
                print(result.stdout, end="" if result.stdout.endswith("\n") else "\n")
            if result.stderr:
                print("--- stderr ---")
                print(result.stderr, end="" if result.stderr.endswith("\n") else "\n")
        if result.timed_out:
            return EXIT_TIMED_OUT
        if result.exit_code is None or result.exit_code < 0:
            return 1
        return result.exit_code
