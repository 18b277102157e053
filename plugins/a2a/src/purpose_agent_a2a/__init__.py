"""Plugin ``a2a``: delegate to other agents and serve a team over A2A 1.0 (official ``a2a-sdk``).

One id, two roles (TOML key ``[plugins.a2a]``):

- protocol ``a2a`` (hook API 1.3): each ``[plugins.a2a.agents.NAME]`` becomes a tool ``NAME`` that
  sends the actor's request to that remote agent (timeouts, retries, a circuit breaker whose state
  changes are events, and whose open circuits are reported by ``problems()`` at the start of a
  run); replies are untrusted text of origin ``remote_agent:NAME``. The adapter also serves a team
  (``serve``, the kernel's ``ProtocolServer`` shape);
- command ``a2a``: ``purpose-agent a2a serve`` publishes a team (Agent Card, send-message,
  streaming over SSE, task get/cancel), and ``purpose-agent a2a call NAME "..."`` asks a peer.

This module imports only the hook markers, so discovery stays cheap; the SDK loads on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from purpose_agent.hookspecs import hookimpl, lazy_settings, register_lazily

PURPOSE_AGENT_HOOK_API = "1.3"

#: The plugin id (= entry-point name = TOML key).
plugin_id = "a2a"


settings_model = lazy_settings("purpose_agent_a2a.settings:A2ASettings")


def remote_agent_tools(context: Any) -> list[Any]:
    """One :class:`~purpose_agent_a2a.client.RemoteAgentTool` per configured remote agent."""
    from .client import RemoteAgentTool
    from .settings import A2ASettings

    settings = context.settings if context.settings is not None else A2ASettings()
    emit = _event_emitter(context)
    return [RemoteAgentTool(name, agent, on_event=emit) for name, agent in settings.agents.items()]


def _event_emitter(context: Any) -> Callable[[str, dict[str, Any]], None] | None:
    """Circuit changes go to the kernel's observers (``on_event``, through ``KernelServices.emit``)."""
    if context.kernel is None:
        return None
    emit = context.kernel.emit

    def send(type_: str, data: dict[str, Any]) -> None:
        from purpose_agent.models import Event

        emit(Event(type=type_, data=data))

    return send


class A2AProtocol:
    """The protocol adapter: the remote agents as tools, and a team served over A2A.

    Built once per kernel; nothing connects until a tool is called (each call opens and closes its
    own HTTP client), so :meth:`close` has nothing to release."""

    name = "a2a"

    def __init__(self, context: Any) -> None:
        self.context = context
        self._tools = remote_agent_tools(context)

    def tools(self) -> list[Any]:
        return list(self._tools)

    def problems(self) -> list[str]:
        """One sentence per remote agent whose circuit is open (the run goes on without it)."""
        sentences = []
        for tool in self._tools:
            if tool.breaker.state == "open":
                sentences.append(f"remote agent '{tool.name}' at {tool.settings.url} is skipped for "
                                 f"{tool.breaker.retry_in():.0f} s more: its circuit is open after "
                                 f"{tool.breaker.failures} consecutive failure(s)")
        return sentences

    def close(self) -> None:
        """Nothing stays open between calls."""

    async def serve(self, team: Any, *, ready: Callable[[str], None] | None = None, **options: Any) -> None:
        """Serve ``team`` over A2A until cancelled. Options: ``host``, ``port`` (0 for any),
        ``token``, ``public_url``, ``trust_clients``; the rest default to ``[plugins.a2a.server]``.
        Clients' tasks are screened with this kernel's immune scanners unless clients are trusted."""
        from purpose_agent import __version__

        from .server import serve
        from .settings import A2ASettings

        server = (self.context.settings or A2ASettings()).server
        await serve(team, ready=ready, host=options.get("host", server.host), port=options.get("port", server.port),
                    token=options.get("token"), public_url=options.get("public_url", server.public_url),
                    max_request_bytes=server.max_request_bytes, max_task_chars=server.max_task_chars,
                    version=__version__, kernel=self.context.kernel,
                    trust_clients=options.get("trust_clients", server.trust_clients))


@hookimpl
def register_protocols(register: Callable[..., None]) -> None:
    register("a2a", A2AProtocol, description="remote A2A agents as tools ([plugins.a2a.agents.NAME])")


register_commands = register_lazily("a2a", "purpose_agent_a2a.command:A2ACommand",
                                    description="serve this agent over A2A, or call a remote A2A agent")
