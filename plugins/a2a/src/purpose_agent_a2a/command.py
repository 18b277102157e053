"""``purpose-agent a2a``: ``serve`` a team as an A2A agent, ``call`` a configured remote agent."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from purpose_agent.hookspecs import BaseCommand
from purpose_agent.interfaces import printable


class A2ACommand(BaseCommand):
    """The ``a2a`` subcommand with ``serve`` and ``call``."""

    help = "Serve this agent over A2A (Agent Card, send/stream, get/cancel), or call a configured remote agent."

    def _settings(self) -> Any:
        from .settings import A2ASettings

        return self.context.settings if self.context.settings is not None else A2ASettings()

    def add_action_arguments(self, parsers: dict[str, argparse.ArgumentParser]) -> None:
        import purpose_agent as pa

        server = self._settings().server
        serve, call = parsers["serve"], parsers["call"]
        serve.add_argument("--host", default=server.host, help=f"address to bind (default {server.host})")
        serve.add_argument("--port", type=int, default=server.port, help=f"port (default {server.port})")
        pa.add_team_arguments(serve)
        call.add_argument("name", help="the remote agent's name in the configuration")
        call.add_argument("message", help="what to ask it")

    def do_serve(self, args: argparse.Namespace) -> int:
        """publish a team over A2A on HOST:PORT (loopback by default)"""
        import asyncio

        import purpose_agent as pa
        from purpose_agent.interfaces import is_loopback

        from . import A2AProtocol

        server = self._settings().server
        token = os.environ.get(server.token_env) or None
        if not is_loopback(args.host) and token is None:
            print(f"purpose-agent: refusing to serve on {printable(args.host, one_line=True)} without authentication: "
                  f"set {server.token_env} to a bearer token (clients send 'Authorization: Bearer <token>'), "
                  "or bind 127.0.0.1", file=sys.stderr)
            return 2
        if not 0 <= args.port < 65536:
            print(f"purpose-agent: --port {args.port} is not a TCP port (0-65535)", file=sys.stderr)
            return 2
        team = pa.team_from_arguments(args, self.context.kernel)
        auth = "bearer token required" if token else "no authentication (loopback only)"

        def ready(url: str) -> None:
            print(f"A2A agent card: {url}/.well-known/agent-card.json  ({auth})", flush=True)

        try:
            asyncio.run(A2AProtocol(self.context).serve(team, ready=ready, host=args.host, port=args.port, token=token))
        except KeyboardInterrupt:
            pass
        except OSError as exc:
            print(f"purpose-agent: cannot listen on {printable(args.host, one_line=True)}:{args.port}: "
                  f"{printable(exc.strerror or str(exc), one_line=True)}", file=sys.stderr)
            return 1
        return 0

    def do_call(self, args: argparse.Namespace) -> int:
        """send one message to a remote agent from [plugins.a2a.agents.NAME]"""
        from .client import RemoteAgentTool

        agents = self._settings().agents
        if args.name not in agents:
            known = ", ".join(sorted(agents)) or "none configured"
            print(f"purpose-agent: no remote agent '{printable(args.name, one_line=True)}' in [plugins.a2a.agents] "
                  f"(known: {known}); add [plugins.a2a.agents.{printable(args.name, one_line=True)}] url = \"...\"",
                  file=sys.stderr)
            return 2
        observation = RemoteAgentTool(args.name, agents[args.name]).run({"message": args.message})
        if not observation.ok:
            print(f"purpose-agent: {printable(observation.error or 'failed')}", file=sys.stderr)
            return 1
        print(printable(observation.output))  # another agent's words: no control sequences on the terminal
        return 0
