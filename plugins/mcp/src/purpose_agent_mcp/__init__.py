"""purpose-agent-mcp: the Model Context Protocol, on the official ``mcp`` SDK.

* **Client**: the servers declared in ``[plugins.mcp.servers.NAME]`` (stdio ``command`` or
  streamable HTTP ``url``) lend their tools to every team run, named ``NAME__tool``, with the
  servers' JSON schemas; their output is untrusted text (``TextOrigin(kind="mcp")``), screened
  and spotlighted like any tool output.
* **Server**: ``purpose-agent mcp serve`` (stdio, or ``--http HOST:PORT``) offers a team to MCP
  clients: run a task (with progress), ask, teach, search memory, status.
* ``purpose-agent mcp tools`` lists what each configured server offers.

The SDK is imported on first use, not when the plugin loads (settings: ``settings.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from purpose_agent.hookspecs import hookimpl, lazy_settings, register_lazily

PURPOSE_AGENT_HOOK_API = "1.3"

#: The plugin id (= entry-point name = TOML key); ``purpose_agent.testing.make_kernel`` reads it.
plugin_id = "mcp"

#: The protocol and command name.
PROTOCOL_NAME = "mcp"


settings_model = lazy_settings("purpose_agent_mcp.settings:McpSettings")


def _adapter_factory(context: Any) -> Any:
    from .client import McpAdapter

    return McpAdapter(context.settings)


@hookimpl
def register_protocols(register: Callable[..., None]) -> None:
    register(PROTOCOL_NAME, _adapter_factory, description="MCP servers' tools as agent tools; a team as an MCP server")


register_commands = register_lazily(PROTOCOL_NAME, "purpose_agent_mcp.command:McpCommand",
                                    description="list MCP servers' tools; serve a team over MCP")
