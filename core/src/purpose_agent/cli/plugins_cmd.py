"""``purpose-agent plugins list|info|enable|disable|new``.

These commands must work while a broken plugin is installed, so they never run in strict mode
while collecting; ``--strict`` only changes the exit code of ``list``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..config import set_value
from ..errors import PurposeAgentError
from ..scaffold import ROLES_WITH_TEMPLATES
from ..terminal_text import printable
from .config_cmd import add_target_arguments, target_file


def add_parser(sub: Any, name: str) -> None:
    parser = sub.add_parser(name, help="list, inspect, enable, disable or create plugins")
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    lister = actions.add_parser("list", help="every plugin, its roles and status")
    lister.add_argument("--json", action="store_true", help="print a JSON list")
    lister.add_argument("--check", action="store_true",
                        help="also scan one harmless sentence with every scanner, so one that cannot scan shows as "
                             "failed with the reason (imports every scanner: slower)")
    lister.set_defaults(run=run_list)
    info = actions.add_parser("info", help="everything known about one plugin")
    info.add_argument("id")
    info.add_argument("--json", action="store_true")
    info.set_defaults(run=run_info)
    for verb in ("enable", "disable"):
        p = actions.add_parser(verb, help=f"{verb} a plugin in a config file")
        p.add_argument("id")
        add_target_arguments(p)
        p.set_defaults(run=run_toggle, enabled=verb == "enable")
    new = actions.add_parser("new", help="create a plugin package from the template")
    new.add_argument("name", help="plugin id, e.g. my-scanner")
    new.add_argument("--role", required=True, choices=sorted(ROLES_WITH_TEMPLATES))
    new.add_argument("--dir", type=Path, default=Path.cwd(), help="where to create it (default: here)")
    new.set_defaults(run=run_new)



def _kernel() -> Any:
    from ..kernel import Kernel

    kernel = Kernel.load(strict=False)
    kernel.load_all()
    return kernel


def run_list(args: argparse.Namespace) -> int:
    kernel = _kernel()
    if args.check:
        kernel.check_scanners()
    records = kernel.plugins()
    if args.json:
        print(json.dumps([r.as_dict() for r in records], indent=2))
    else:
        rows = [("ID", "STATUS", "ROLES", "DISTRIBUTION", "VERSION", "REASON")]
        rows += [(r.id, r.status, ",".join(r.roles), r.distribution, r.version, r.reason) for r in records]
        widths = [max(len(row[i]) for row in rows) for i in range(5)]
        for row in rows:
            # the reason quotes exception messages and settings: untrusted text
            print(printable("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:5])) + "  " + row[5],
                            one_line=True))
        for record in records:
            for warning in record.warnings:
                print(printable(f"warning: {record.id}: {warning}", one_line=True))
    failed = [r for r in records if r.status in ("failed", "missing")]
    return 1 if args.strict and (failed or any(r.warnings for r in records)) else 0


def run_info(args: argparse.Namespace) -> int:
    kernel = _kernel()
    record = kernel.records.get(args.id)
    if record is None:
        known = ", ".join(sorted(kernel.records)) or "none"
        raise PurposeAgentError(f"no plugin with id '{args.id}' (installed: {known})")
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
    # Deliberately no plugin import: this must work when the plugin is broken.
    path = target_file(args)
    set_value(path, f"plugins.{args.id}.enabled", args.enabled)
    print(f"{'enabled' if args.enabled else 'disabled'} plugin '{args.id}' in {path}")
    return 0


def run_new(args: argparse.Namespace) -> int:
    from ..scaffold import create_plugin_package

    root = create_plugin_package(args.name, args.role, args.dir)
    print(f"created {root}")
    print(f"next: pip install -e {root} && pytest {root}")
    return 0
