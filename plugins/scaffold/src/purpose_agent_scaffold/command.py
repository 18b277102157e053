"""``purpose-agent new-plugin NAME --role ROLE [--dir DIR]``; ``purpose-agent plugins new`` takes
the same arguments and runs this command."""

from __future__ import annotations

import argparse
from pathlib import Path

from purpose_agent.hookspecs import BaseCommand


class NewPluginCommand(BaseCommand):
    """``purpose-agent new-plugin``."""

    help = "Create a plugin package for a role: entry point, a working component, passing conformance tests."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Declare the plugin id, ``--role`` and ``--dir``."""
        from .templates import ROLES_WITH_TEMPLATES

        parser.add_argument("name", help="plugin id, e.g. my-scanner")
        parser.add_argument("--role", required=True, choices=sorted(ROLES_WITH_TEMPLATES))
        parser.add_argument("--dir", type=Path, default=Path.cwd(), help="where to create it (default: here)")

    def run(self, args: argparse.Namespace) -> int:
        """Write the package and say how to install and test it."""
        from purpose_agent.interfaces import printable

        from .templates import create_plugin_package

        root = create_plugin_package(args.name, args.role, args.dir)
        print(printable(f"created {root}", one_line=True))
        print(printable(f"next: pip install -e {root} && pytest {root}", one_line=True))
        return 0
