"""The ``purpose-agent`` command line.

Built-in commands are parsed with argparse (cheap to import). A first word that is not built in
is looked up among the subcommands plugins register through ``register_commands``; only then
are command plugins imported.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence

from ..errors import PluginError, PurposeAgentError
from ..terminal_text import printable
from ..version import __version__
from . import config_cmd, demo_cmd, doctor_cmd, hooks_cmd, memory_cmd, models_cmd, plugins_cmd, run_cmd

#: ``PURPOSE_AGENT_DEBUG=1`` does what ``--debug`` does.
ENV_DEBUG = "PURPOSE_AGENT_DEBUG"
#: An unexpected exception (a bug), as ``EX_SOFTWARE`` in sysexits.h.
EXIT_INTERNAL_ERROR = 70

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


def build_parser(plugin_commands: Mapping[str, str] | None = None) -> argparse.ArgumentParser:
    """The parser of the built-in commands; ``plugin_commands`` (name -> one-line help) are
    listed too, for the top-level help (they are run by :func:`_plugin_command`, not parsed here)."""
    parser = argparse.ArgumentParser(
        prog="purpose-agent",
        description="A self-improving agent framework built from plugins.",
        epilog="Plugins can add commands; 'purpose-agent plugins list' shows what is installed.",
    )
    parser.add_argument("--version", action="version", version=f"purpose-agent {__version__}")
    parser.add_argument(
        "--strict", action="store_true", default=None, help="treat every plugin problem as an error (for CI)"
    )
    parser.add_argument(
        "--debug", action="store_true", help=f"show the traceback of an error (also {ENV_DEBUG}=1)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in BUILTIN_COMMANDS.items():
        module.add_parser(sub, name)
    for name, text in (plugin_commands or {}).items():
        sub.add_parser(name, help=text, add_help=False)
    return parser


def _plugin_command_help() -> dict[str, str]:
    """Name -> one-line help of each command plugins add, for ``--help``.

    Loads the command plugins only (listing their commands needs them); never fails: help must
    print even when the configuration or a plugin is broken (the next real command says why).
    """
    from ..kernel import Kernel

    try:
        kernel = Kernel.load(strict=False)
        commands = kernel.components("command")
    except PurposeAgentError:
        return {}
    listed: dict[str, str] = {}
    for name, registration in sorted(commands.items()):
        if name in BUILTIN_COMMANDS:
            continue
        text = registration.description
        if not text:
            try:  # the command object's own `help`, when registration gave no description
                text = str(getattr(kernel.create("command", name), "help", "") or "")
            except Exception:  # a plugin's broken factory must not break --help
                text = ""
        origin = "" if registration.plugin_id == name else f"plugin '{registration.plugin_id}'"
        listed[name] = f"{text} ({origin})" if text and origin else text or origin
    return listed


def _plugin_command(argv: Sequence[str], strict: bool | None) -> int | None:
    """Run a plugin-provided subcommand if ``argv[0]`` names one; ``None`` if none does."""
    from ..kernel import Kernel

    kernel = Kernel.load(strict=strict)
    commands = kernel.components("command")
    registration = commands.get(argv[0])
    if registration is None:
        record = kernel.records.get(argv[0])
        if record is not None and "command" in record.roles and record.status != "ok":
            # Say why the plugin's command is missing instead of argparse's "invalid choice".
            raise PluginError(
                f"the command '{argv[0]}' is not available: plugin '{record.id}' is {record.status}: "
                f"{record.reason}. 'purpose-agent plugins info {record.id}' shows its configuration."
            )
        return None
    command = kernel.create("command", argv[0])
    parser = argparse.ArgumentParser(prog=f"purpose-agent {argv[0]}", description=command.help)
    command.add_arguments(parser)
    args = parser.parse_args(argv[1:])
    args.kernel = kernel
    return int(command.run(args) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``purpose-agent`` and ``python -m purpose_agent``; returns the exit code.

    Exit codes: 0 success; 1 an error the user can fix (one sentence on stderr); 2 a usage error
    (argparse); 70 an internal error, i.e. a bug (one sentence; ``--debug`` or
    ``PURPOSE_AGENT_DEBUG=1`` adds the traceback); 130 interrupted. Commands may add their own
    (``sandbox run`` exits 124 at its time limit).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    strict: bool | None = True if "--strict" in argv else None
    debug = "--debug" in argv or os.environ.get(ENV_DEBUG, "").lower() not in ("", "0", "false", "no")
    argv = [a for a in argv if a != "--debug"]
    rest = [a for a in argv if a != "--strict"]
    _tolerate_unencodable_output()
    try:
        _refuse_undecodable(argv)
        if rest and not rest[0].startswith("-") and rest[0] not in BUILTIN_COMMANDS:
            code = _plugin_command(rest, strict)
            if code is not None:
                return code
        if not rest:
            if sys.stdin.isatty() and sys.stdout.isatty():
                return run_cmd.wizard()
            build_parser(_plugin_command_help()).print_help()
            return 0
        parser = build_parser(_plugin_command_help() if rest[0] in ("-h", "--help") else None)
        # --strict is global wherever it was written ("doctor --strict" too): give it to the
        # top-level parser, before the subcommand.
        args = parser.parse_args(["--strict", *rest] if strict else rest)
        if getattr(args, "run", None) is None:
            parser.parse_args([*rest, "--help"])
            return 2
        return int(args.run(args) or 0)
    except PurposeAgentError as exc:
        if debug:
            _print_traceback()
        print(f"purpose-agent: error: {printable(str(exc), one_line=True)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # the reader went away (e.g. `| head`); not an error worth a traceback
        sys.stderr.close()
        return 0
    except OSError as exc:  # the system refused a file or resource the user named: not a bug
        if debug:
            _print_traceback()
        name = f" {_cut(repr(exc.filename))}" if exc.filename is not None else ""
        print(f"purpose-agent: error: cannot use{name}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug: one sentence, and the traceback only when asked for
        if debug:
            _print_traceback()
        where = "" if debug else " (run with --debug for the traceback)"
        print(
            f"purpose-agent: internal error: {type(exc).__name__}: {_cut(printable(str(exc), one_line=True))}{where}. "
            "This is a bug; please report it.",
            file=sys.stderr,
        )
        return EXIT_INTERNAL_ERROR


def _refuse_undecodable(argv: Sequence[str]) -> None:
    """Refuse an argument that is not UTF-8: Python hands such bytes over as lone surrogates,
    which no file, store or terminal downstream can encode."""
    for position, argument in enumerate(argv, start=1):
        if "\x00" in argument:  # only main() called from code can receive one; no file name holds it
            raise PurposeAgentError(f"argument {position} ({_cut(argument)}) contains a NUL character")
        for offset, char in enumerate(argument):
            if "\ud800" <= char <= "\udfff":
                byte = f"byte 0x{ord(char) - 0xDC00:02x}" if ord(char) >= 0xDC80 else "a lone surrogate"
                raise PurposeAgentError(
                    f"argument {position} ({printable(argument, one_line=True)}) is not UTF-8 text: {byte} at "
                    f"offset {len(argument[:offset].encode('utf-8', 'surrogateescape'))}. Pass UTF-8 text."
                )


def _cut(text: str, limit: int = 200) -> str:
    """Shorten quoted input in an error, so a 5000-character argument does not fill the screen."""
    return printable(text if len(text) <= limit else text[: limit - 1] + "…", one_line=True)


def _print_traceback() -> None:
    import traceback  # only when asked for: the CLI's start-up time matters

    traceback.print_exc()


def _tolerate_unencodable_output() -> None:
    """Print characters the terminal's encoding lacks (lone surrogates from non-UTF-8 arguments,
    say) as backslash escapes instead of ending the program with UnicodeEncodeError."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and getattr(stream, "errors", "strict") == "strict":
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):  # a closed or detached stream: nothing to protect
                pass
