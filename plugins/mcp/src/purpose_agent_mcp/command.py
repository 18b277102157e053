"""``purpose-agent mcp``: list the configured servers' tools, or serve a team as an MCP server."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import Any

from purpose_agent.hookspecs import BaseCommand
from purpose_agent.interfaces import printable


class McpCommand(BaseCommand):
    """The ``mcp`` subcommand with ``tools`` and ``serve``."""

    help = "List the tools of the configured MCP servers, or serve a team as an MCP server."

    def add_action_arguments(self, parsers: dict[str, argparse.ArgumentParser]) -> None:
        import purpose_agent as pa

        parsers["tools"].add_argument("--json", action="store_true", help="print the listing as JSON")
        serve = parsers["serve"]
        serve.add_argument("--http", metavar="HOST:PORT", default=None,
                           help="serve streamable HTTP at http://HOST:PORT/mcp instead of stdio")
        serve.add_argument("--token-env", metavar="VAR", default=None,
                           help="require 'Authorization: Bearer $VAR' over HTTP (needed beyond loopback)")
        pa.add_team_arguments(serve)

    def _adapter(self) -> Any:
        from .client import McpAdapter

        return McpAdapter(self.context.settings)

    def do_tools(self, args: argparse.Namespace) -> int:
        """start each server in [plugins.mcp.servers] and list its tools"""
        from .client import tool_name

        adapter = self._adapter()
        if not adapter.connections:
            print("no MCP servers are configured; add [plugins.mcp.servers.NAME] with a command or a url "
                  "(docs/protocols.md)", file=sys.stderr)
            return 1
        try:
            listing = adapter.listing()
        finally:
            adapter.close()
        if args.json:
            print(json.dumps({name: found if isinstance(found, str) else
                              [{"name": tool_name(name, t.name), "mcp_name": t.name, "description": t.description,
                                "input_schema": t.input_schema} for t in found] for name, found in listing.items()}, indent=2))
        else:
            for name, found in listing.items():
                where = adapter.connections[name].describe()
                if isinstance(found, str):
                    print(f"{name} ({printable(where)}): unavailable: {printable(found)}")
                    continue
                print(f"{name} ({printable(where)}): {len(found)} tool(s)")
                for tool in found:
                    first_line = (tool.description.strip().splitlines() or [""])[0]
                    print(f"  {printable(tool_name(name, tool.name))}  {printable(first_line[:100])}")
        return 0 if all(not isinstance(found, str) for found in listing.values()) else 1

    def do_serve(self, args: argparse.Namespace) -> int:
        """serve a team as an MCP server (stdio unless --http)"""
        import purpose_agent as pa

        from .server import parse_http_address, serve

        options: dict[str, Any] = {"transport": "stdio"}
        if args.http is not None:
            try:
                host, port = parse_http_address(args.http)
            except ValueError as exc:
                print(f"purpose-agent mcp serve: {printable(exc, one_line=True)}", file=sys.stderr)
                return 2
            options.update(transport="http", host=host, port=port)
        if args.token_env:
            token = os.environ.get(args.token_env)
            if not token:
                print(f"purpose-agent mcp serve: the environment variable {printable(args.token_env, one_line=True)} (--token-env) is not set",
                      file=sys.stderr)
                return 2
            options["token"] = token
        team = pa.team_from_arguments(args, self.context.kernel)

        def ready(address: str) -> None:
            if address != "stdio":  # stdout is the protocol's channel over stdio: say nothing there
                print(f"serving team '{team.purpose}' over MCP at {address}", file=sys.stderr, flush=True)

        try:
            asyncio.run(serve(team, ready=ready, **options))
        except KeyboardInterrupt:
            return 0
        except (ValueError, OSError) as exc:
            print(f"purpose-agent mcp serve: {printable(exc, one_line=True)}", file=sys.stderr)
            return 2
        return 0
