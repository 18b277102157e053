"""The ``purpose-agent`` command line.

Every command is registered through the ``register_commands`` hook: the built-in ones by the
kernel's built-in plugin ``cli`` (:mod:`purpose_agent.builtins.commands`), the others by installed
plugins, and ``--help`` lists them alike, each with the plugin that provides it. :func:`main`
loads the kernel's ``command`` role, builds the command the first word names, lets it declare its
arguments, and runs it. Registering costs a name and a description; a command's own module is
imported only when that command runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import PluginError, PurposeAgentError
from ..terminal_text import printable
from ..version import __version__

#: ``PURPOSE_AGENT_DEBUG=1`` does what ``--debug`` does.
ENV_DEBUG = "PURPOSE_AGENT_DEBUG"
#: An unexpected exception (a bug), as ``EX_SOFTWARE`` in sysexits.h.
EXIT_INTERNAL_ERROR = 70


def build_parser(commands: Mapping[str, str] | None = None) -> argparse.ArgumentParser:
    """The top-level parser: global options, and ``commands`` (name -> one-line help) listed for
    ``--help``. A command's own arguments are declared by the command (see :func:`main`)."""
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
    sub = parser.add_subparsers(
        dest="command", metavar="COMMAND", title="commands",
        description="the plugin that provides each is in brackets ('cli' is the kernel's own)",
    )
    for name, text in (commands or {}).items():
        sub.add_parser(name, help=text, add_help=False)
    return parser


class Commands:
    """The command registry (name -> registration) and the kernel that holds it."""

    def __init__(self, kernel: Any, registry: dict[str, Any], problem: PurposeAgentError | None = None) -> None:
        self.kernel = kernel
        self.registry = registry
        #: Why only the built-in commands are offered (a configuration that cannot be read), or None.
        self.problem = problem


def load_commands(wanted: str | None = None) -> Commands:
    """The commands of the built-in plugin ``cli`` and of every enabled installed plugin.

    When ``wanted`` is a built-in command, only the built-in ones: it resolves to the built-in
    whatever else is installed (the built-ins register first and keep a clashing name), so no
    plugin that adds commands is imported to run it.

    A configuration that cannot be read, or a required plugin that is missing or broken, must not
    take the CLI's own commands with it (``--help`` and ``hooks`` still work; ``config`` and
    ``plugins`` name the broken file themselves): then only the built-in commands are offered,
    and ``problem`` keeps the error for any command that is not one of them.
    """
    from ..builtins.commands import COMMANDS, PLUGIN_ID
    from ..config import load_config
    from ..discovery import builtin_candidates
    from ..kernel import Kernel

    only = PLUGIN_ID if wanted in COMMANDS else None
    try:
        kernel = Kernel.load(strict=False)
        return Commands(kernel, kernel.components("command", plugin_id=only))
    except PurposeAgentError as exc:
        kernel = Kernel(load_config(isolated=True), builtin_candidates(__version__), strict=False)
        return Commands(kernel, kernel.components("command"), exc)


def command_help(commands: Commands) -> dict[str, str]:
    """Name -> one-line help ending in the providing plugin's id; the built-in commands first.

    The help is the registration's description; a command registered without one is built to
    read its ``help`` (a plugin's broken factory costs it its text, never the listing)."""
    from ..builtins.commands import PLUGIN_ID

    def order(pair: tuple[str, Any]) -> tuple[bool, str]:
        builtin = pair[1].plugin_id == PLUGIN_ID
        return not builtin, "" if builtin else pair[0]  # the built-ins keep their table's order

    listed: dict[str, str] = {}
    for name, registration in sorted(commands.registry.items(), key=order):
        text = registration.description
        if not text:
            try:
                text = str(getattr(commands.kernel.create("command", name), "help", "") or "")
            except Exception:  # a plugin's broken factory must not break --help
                text = ""
        listed[name] = f"{text} [{registration.plugin_id}]".lstrip()
    return listed


def _run_command(rest: Sequence[str], strict: bool | None) -> int:
    """Run the command ``rest[0]`` names, with the arguments after it."""
    name = rest[0]
    commands = load_commands(name)
    registration = commands.registry.get(name)
    if registration is None:
        if commands.problem is not None:
            raise commands.problem
        record = commands.kernel.records.get(name)
        if record is not None and "command" in record.roles and record.status != "ok":
            # Say why the plugin's command is missing instead of argparse's "invalid choice".
            raise PluginError(
                f"the command '{name}' is not available: plugin '{record.id}' is {record.status}: "
                f"{record.reason}. 'purpose-agent plugins info {record.id}' shows its configuration."
            )
        from ..builtins.commands import OPTIONAL_COMMANDS, optional_command_missing

        if name in OPTIONAL_COMMANDS:  # a feature the kernel does not ship: name its package
            raise optional_command_missing(commands.kernel, name, f"the command '{name}'")
        build_parser(dict.fromkeys(commands.registry, "")).parse_args(rest)  # "invalid choice": exits 2
        return 2
    kernel = commands.kernel
    if strict and kernel.records[registration.plugin_id].source != "built-in":
        # A plugin's command runs on a strict kernel: any plugin problem stops it. (The built-in
        # commands build their own kernels from args.strict: `plugins list --strict` still lists.)
        from ..kernel import Kernel

        kernel = Kernel.load(strict=True)
        kernel.components("command")
    command = kernel.create("command", name)
    parser = argparse.ArgumentParser(prog=f"purpose-agent {name}", description=command.help)
    command.add_arguments(parser)
    args = parser.parse_args(rest[1:])
    # The kernel the command was found with (a built-in command may use it instead of loading its
    # own); none when it holds only the built-ins because the configuration could not be read.
    args.kernel = kernel if commands.problem is None else None
    vars(args).setdefault("strict", strict)
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
        if rest and not rest[0].startswith("-"):
            return _run_command(rest, strict)
        if not rest and sys.stdin.isatty() and sys.stdout.isatty():
            from .run_cmd import wizard

            return wizard()
        # no command, --help, --version or a mistyped option: the top-level parser
        wants_help = not rest or "-h" in rest or "--help" in rest
        parser = build_parser(command_help(load_commands()) if wants_help else None)
        if not rest:
            parser.print_help()
            return 0
        parser.parse_args(rest)  # prints the help or the version, or a usage error; exits
        parser.print_usage(sys.stderr)
        return 2
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
