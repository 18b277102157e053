"""``purpose-agent postgres status [--json]``: is the configured PostgreSQL memory reachable, and
what does it hold and use? The server, the schema and its version, counts by status, the
retrieval in use and whether the server offers pgvector."""

from __future__ import annotations

import argparse
import json

from purpose_agent.hookspecs import BaseCommand
from purpose_agent.interfaces import printable


class PostgresCommand(BaseCommand):
    """``purpose-agent postgres``."""

    help = "Check the PostgreSQL memory store: server, schema version, counts, retrieval in use, pgvector."

    def add_action_arguments(self, parsers: dict[str, argparse.ArgumentParser]) -> None:
        parsers["status"].add_argument("--json", action="store_true", help="print the report as JSON")

    def do_status(self, args: argparse.Namespace) -> int:
        """connect (migrating the schema if needed) and report"""
        kernel = self.kernel_for(args)
        store = kernel.memory_store("postgres")
        try:
            report = store.stats()
            report["integrity"] = store.integrity_check()
        finally:
            store.close()
        if args.json:
            print(json.dumps(report, indent=2))
            return 0 if report["integrity"] == "ok" else 1
        print(printable(f"server          {report['server']}", one_line=True))
        print(f"schema          {report['schema']} (version {report['schema_version']})")
        counts = ", ".join(f"{status} {count}" for status, count in report["by_status"].items()) or "none"
        print(f"items           {report['items']} ({counts}); {report['versions']} versions")
        for key, value in report["retrieval"].items():
            print(f"{key:15} {value}")
        print(printable(f"integrity       {report['integrity']}", one_line=True))
        return 0 if report["integrity"] == "ok" else 1
