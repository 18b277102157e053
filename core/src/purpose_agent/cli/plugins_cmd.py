"""``purpose-agent plugins list|info|enable|disable|new``.

These commands must work while a broken plugin is installed, so they never run in strict mode
while collecting; strict mode (``--strict``, ``PURPOSE_AGENT_STRICT=1`` or ``[kernel] strict``)
only changes the exit code of ``list``.

``enable``, ``disable`` and ``info`` accept only installed plugin ids (``--force`` configures an id
that will be installed later), and never an id of invalid form: a typo must not be written to a
config file as if it had switched something.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..config import read_toml, set_value
from ..discovery import ALWAYS_ENABLED, builtin_candidates, entry_point_candidates, plugin_id_problem
from ..errors import PurposeAgentError
from ..terminal_text import printable
from ..version import __version__
from .config_cmd import add_target_arguments, target_file
from .tables import GREEN, RED, YELLOW, Styled, colour_wanted, render_table

#: ``plugins new`` runs this command of purpose-agent-scaffold (``OPTIONAL_COMMANDS`` in
#: :mod:`purpose_agent.builtins.commands`).
SCAFFOLD_COMMAND = "new-plugin"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    lister = actions.add_parser("list", help="every plugin, its roles and status")
    lister.add_argument("--json", action="store_true", help="print a JSON list")
    lister.add_argument("--check", action="store_true",
                        help="import every plugin anew (by default one that loaded before and whose files and "
                             "installed distributions have not changed since is shown from that load), and scan "
                             "one harmless sentence with every scanner, so one that cannot scan shows as failed "
                             "with the reason (slower)")
    lister.set_defaults(run=run_list)
    info = actions.add_parser("info", help="everything known about one plugin")
    info.add_argument("id")
    info.add_argument("--json", action="store_true")
    info.set_defaults(run=run_info)
    for verb in ("enable", "disable"):
        p = actions.add_parser(verb, help=f"{verb} a plugin in a config file")
        p.add_argument("id")
        p.add_argument("--force", action="store_true",
                       help="accept an id that is not installed (to configure a plugin before installing it)")
        add_target_arguments(p)
        p.set_defaults(run=run_toggle, enabled=verb == "enable")
    new = actions.add_parser("new", help="create a plugin package from the template (needs purpose-agent-scaffold)")
    new.add_argument("name", help="plugin id, e.g. my-scanner")
    new.add_argument("--role", required=True,
                     help="the plugin's role (scanner, critic, tool, …; 'purpose-agent new-plugin --help' lists those "
                          "with a template)")
    new.add_argument("--dir", type=Path, default=Path.cwd(), help="where to create it (default: here)")
    new.set_defaults(run=run_new)


def _unloaded_kernel(args: argparse.Namespace) -> Any:
    """The kernel the CLI loaded to find this command (not strict: every plugin is listed, broken
    or not), else a new one."""
    kernel = getattr(args, "kernel", None)
    if kernel is None:
        from ..kernel import Kernel

        kernel = Kernel.load(strict=False)
    return kernel


def _kernel(args: argparse.Namespace) -> Any:
    """:func:`_unloaded_kernel` with every enabled plugin loaded."""
    kernel = _unloaded_kernel(args)
    kernel.load_all()
    return kernel


_STATUS_COLOURS = {"ok": GREEN, "available": GREEN, "disabled": YELLOW, "failed": RED, "missing": RED}


def run_list(args: argparse.Namespace) -> int:
    """Print every plugin; in strict mode, exit 1 with the problems on stderr if there are any."""
    remembered = 0
    if args.check:
        kernel = _kernel(args)
        kernel.check_scanners()
        records = kernel.plugins()
    else:
        from .last_load import listed_records

        kernel = _unloaded_kernel(args)
        records, remembered = listed_records(kernel)
    if args.json:
        print(json.dumps([r.as_dict() for r in records], indent=2))
    else:
        rows = [[r.id, Styled(r.status, _STATUS_COLOURS.get(r.status, "")), ",".join(r.roles), r.distribution,
                 r.version, r.reason] for r in records]
        header = ("ID", "STATUS", "ROLES", "DISTRIBUTION", "VERSION", "REASON")
        for line in render_table(header, rows, colour=colour_wanted(sys.stdout)):
            print(line)
        for record in records:
            for warning in record.warnings:
                print(printable(f"warning: {record.id}: {warning}", one_line=True))
        if remembered:
            print(f"({remembered} plugin(s) not imported: shown as their last load found them, as nothing they "
                  "depend on has changed since; --check imports every plugin anew)")
    # --strict on the command line wins; otherwise the configured mode (environment or TOML).
    strict = kernel.config.strict if args.strict is None else args.strict
    problems = kernel.problems(records)
    if not (strict and problems):
        return 0
    where = "--strict" if args.strict else kernel.config.source_of("kernel.strict")
    print(f"purpose-agent: error: strict mode (set by {where}) makes these {len(problems)} plugin problem(s) "
          "errors:", file=sys.stderr)
    for problem in problems:
        print(f"  {printable(problem, one_line=True)}", file=sys.stderr)
    return 1


def installed_ids() -> set[str]:
    """The ids of every installed plugin (built in or by entry point), read without imports."""
    return {c.id for c in builtin_candidates(__version__)} | {c.id for c in entry_point_candidates()}


def _nearest(plugin_id: str, known: set[str]) -> str:
    """`` (did you mean 'x'?)`` for the installed id closest to ``plugin_id``, or ``""``."""
    import difflib  # only a refused id needs it

    # Compare in the id's own form, so 'Bad_Name' finds 'bad-name' as readily as a typo does.
    folded = {k.lower().replace("_", "-"): k for k in known}
    matches = difflib.get_close_matches(plugin_id.lower().replace("_", "-"), list(folded), n=1, cutoff=0.6)
    return f" (did you mean '{folded[matches[0]]}'?)" if matches else ""


def id_refusal(plugin_id: str, known: set[str], *, force: bool = False, offer_force: bool = True) -> str:
    """Why a command must not act on ``plugin_id`` (one sentence), or ``""`` if it may.

    An id in ``known`` is accepted as it is, so even a plugin installed under a badly formed id
    can be disabled. Any other id must have the valid form, and be forced (``force``) if it is
    not installed.
    """
    if plugin_id in known:
        return ""
    problem = plugin_id_problem(plugin_id)
    if problem:
        return f"{problem}{_nearest(plugin_id, known)}"
    if force:
        return ""
    later = ", and --force configures one you will install later" if offer_force else ""
    return (f"no plugin with id '{plugin_id}' is installed{_nearest(plugin_id, known)}; "
            f"'purpose-agent plugins list' shows the installed ids{later}")


def run_info(args: argparse.Namespace) -> int:
    """Print everything known about one plugin (installed, or named in configuration)."""
    kernel = _kernel(args)
    record = kernel.records.get(args.id)
    if record is None:
        raise PurposeAgentError(id_refusal(args.id, set(kernel.records), offer_force=False))
    data = record.as_dict()
    data["config_section"] = kernel.config.plugin_table(args.id)
    data["config_source"] = kernel.config.source_of(f"plugins.{args.id}")
    data["hooks"] = sorted(kernel.hook_names_of(record.obj)) if record.obj is not None else []
    data["components"] = {
        role: sorted(n for n, reg in kernel.components(role).items() if reg.plugin_id == args.id)
        for role in record.roles
        if role not in ("scanner", "observer")
    }
    if args.json:
        print(json.dumps(data, indent=2, default=str))
        return 0
    for key, value in data.items():
        print(printable(f"{key:15} {value}", one_line=True))
    return 0


def run_toggle(args: argparse.Namespace) -> int:
    """Write ``[plugins.<id>] enabled`` to the target file, for an installed (or --force) id."""
    # Deliberately no plugin import: this must work when the plugin is broken.
    path = target_file(args)
    if path.is_file():
        read_toml(path, what="config file")  # a broken file is the first thing to report
    refusal = id_refusal(args.id, installed_ids(), force=args.force)
    if refusal:
        raise PurposeAgentError(refusal)
    if not args.enabled and args.id in ALWAYS_ENABLED:
        raise PurposeAgentError(
            f"plugin '{args.id}' cannot be disabled: it provides purpose-agent's own commands, including "
            "'plugins enable'. Disable the plugins you do not want instead."
        )
    set_value(path, f"plugins.{args.id}.enabled", args.enabled)
    print(f"{'enabled' if args.enabled else 'disabled'} plugin '{args.id}' in {path}")
    return 0


def run_new(args: argparse.Namespace) -> int:
    """Run the scaffold plugin's ``new-plugin`` command with these arguments (the templates live in
    purpose-agent-scaffold; the kernel asks the registry for the command, it imports no plugin)."""
    from ..builtins.commands import OPTIONAL_COMMANDS, optional_command_missing

    kernel = _unloaded_kernel(args)
    plugin_id, _package = OPTIONAL_COMMANDS[SCAFFOLD_COMMAND]
    if SCAFFOLD_COMMAND not in kernel.components("command", plugin_id=plugin_id):
        raise optional_command_missing(kernel, SCAFFOLD_COMMAND, "creating a plugin package")
    command = kernel.create("command", SCAFFOLD_COMMAND)
    return int(command.run(argparse.Namespace(name=args.name, role=args.role, dir=args.dir)) or 0)
