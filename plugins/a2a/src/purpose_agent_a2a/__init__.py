"""Plugin ``a2a``: delegate to other agents and serve a team over A2A 1.0 (official ``a2a-sdk``).

One id, three roles (TOML key ``[plugins.a2a]``):

- protocol ``a2a``: each ``[plugins.a2a.agents.NAME]`` becomes a tool ``NAME`` that sends the
  actor's request to that remote agent (timeouts, retries, a circuit breaker whose state changes
  are events); replies are untrusted text of origin ``remote_agent:NAME``;
- tool: the same tools, for kernels that build their tool list from the tool role;
- command ``a2a``: ``purpose-agent a2a serve`` publishes a team (Agent Card, send-message,
  streaming over SSE, task get/cancel), and ``purpose-agent a2a call NAME "..."`` asks a peer.

This module imports only the hook markers, so discovery stays cheap; the SDK loads on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from purpose_agent.hookspecs import hookimpl

PURPOSE_AGENT_HOOK_API = "1.0"

#: The plugin id (= entry-point name = TOML key).
plugin_id = "a2a"


@hookimpl
def settings_model() -> Any:
    from .settings import A2ASettings

    return A2ASettings


def remote_agent_tools(context: Any) -> list[Any]:
    """One :class:`~purpose_agent_a2a.client.RemoteAgentTool` per configured remote agent."""
    from .client import RemoteAgentTool
    from .settings import A2ASettings

    settings = context.settings if context.settings is not None else A2ASettings()
    emit = _event_emitter(context)
    return [RemoteAgentTool(name, agent, on_event=emit) for name, agent in settings.agents.items()]


def _event_emitter(context: Any) -> Callable[[str, dict[str, Any]], None] | None:
    """Circuit changes go to the kernel's observers (``on_event``), when the kernel offers that."""
    emit = getattr(context.kernel, "emit", None)
    if emit is None:
        return None

    def send(type_: str, data: dict[str, Any]) -> None:
        from purpose_agent.models import Event

        emit(Event(type=type_, data=data))

    return send


class A2AProtocol:
    """The protocol adapter: the remote agents as tools."""

    name = "a2a"

    def __init__(self, context: Any) -> None:
        self._tools = remote_agent_tools(context)

    def tools(self) -> list[Any]:
        return list(self._tools)


@hookimpl
def register_protocols(register: Callable[..., None]) -> None:
    register("a2a", A2AProtocol, description="remote A2A agents as tools ([plugins.a2a.agents.NAME])")


@hookimpl
def register_tools(register: Callable[..., None], settings: Any) -> None:
    # Each configured peer is one tool, registered under its own name.
    for name in getattr(settings, "agents", {}) or {}:
        register(name, _tool_factory(name), description=f"delegate to the remote A2A agent '{name}'")


def _tool_factory(name: str) -> Callable[[Any], Any]:
    def factory(context: Any) -> Any:
        from .client import RemoteAgentTool

        return RemoteAgentTool(name, context.settings.agents[name], on_event=_event_emitter(context))

    return factory


def _command_factory(context: Any) -> Any:
    from .command import A2ACommand

    return A2ACommand(context)


@hookimpl
def register_commands(register: Callable[..., None]) -> None:
    register("a2a", _command_factory, description="serve this agent over A2A, or call a remote A2A agent")
