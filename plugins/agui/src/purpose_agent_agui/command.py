"""``purpose-agent ui``: serve the AG-UI endpoint and the live web view for a team."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from purpose_agent.hookspecs import BaseCommand
from purpose_agent.interfaces import is_loopback, printable


class UiCommand(BaseCommand):
    """The ``ui`` subcommand."""

    help = "Serve an AG-UI event stream of a team's runs and a live web page (loopback by default)."

    def _settings(self) -> Any:
        from .settings import AguiSettings

        return self.context.settings if self.context.settings is not None else AguiSettings()

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        settings = self._settings()
        parser.add_argument("--host", default=settings.host, help=f"address to bind (default {settings.host})")
        parser.add_argument("--port", type=int, default=settings.port, help=f"port (default {settings.port})")
        import purpose_agent as pa

        pa.add_team_arguments(parser)

    def run(self, args: argparse.Namespace) -> int:
        import uvicorn

        import purpose_agent as pa

        from .server import build_app

        settings = self._settings()
        token = os.environ.get(settings.token_env) or None
        if not is_loopback(args.host) and token is None:
            print(f"purpose-agent: refusing to serve on {printable(args.host, one_line=True)} without authentication: "
                  f"set {settings.token_env} to a token (the page takes it as ?token=...), or bind 127.0.0.1",
                  file=sys.stderr)
            return 2
        if not 0 < args.port < 65536:
            print(f"purpose-agent: --port {args.port} is not a TCP port (1-65535)", file=sys.stderr)
            return 2
        team = pa.team_from_arguments(args, self.context.kernel)
        app = build_app(team, token=token, max_request_bytes=settings.max_request_bytes,
                        max_task_chars=settings.max_task_chars, queue_size=settings.queue_size,
                        kernel=self.context.kernel, trust_clients=settings.trust_clients)
        host = f"[{args.host}]" if ":" in args.host else args.host
        print(f"AG-UI: POST http://{host}:{args.port}/agent   live view: http://{host}:{args.port}/", flush=True)
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
        return 0
