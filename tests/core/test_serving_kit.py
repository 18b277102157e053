"""What the protocol servers (a2a, mcp) share through ``purpose_agent.interfaces``: the progress line
a client reads for a loop event, and the bearer-token check. How each protocol answers (a JSON-RPC
error, an MCP progress notification) stays in its plugin."""

from __future__ import annotations

import pytest

import purpose_agent.interfaces as interfaces
from purpose_agent.models import Event


@pytest.mark.parametrize("header", ["Bearer s3cret", "bearer s3cret", "BEARER  s3cret ", b"Bearer s3cret",
                                    "  Bearer s3cret"])
def test_the_token_is_accepted_in_any_scheme_case_and_spacing(header: str | bytes) -> None:
    assert interfaces.bearer_token_matches(header, "s3cret")


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer ", "Bearer nope", "Bearer s3cre", "Bearer s3cret2",
                                    "Basic s3cret", "s3cret", "Token s3cret", b"Bearer \xff"])
def test_anything_else_is_refused(header: str | bytes) -> None:
    assert not interfaces.bearer_token_matches(header, "s3cret")


@pytest.mark.parametrize("event,line", [
    (Event(type="run.started"), "member started"),
    (Event(type="protocol.unavailable", data={"reason": "server down"}), "unavailable: server down"),
    (Event(type="model.finished", step=0, data={"action": "tool", "tool": "add"}), "step 0: calling tool add"),
    (Event(type="model.finished", step=2, data={"action": "answer"}), "step 2: answer"),
    (Event(type="tool.finished", data={"tool": "add", "ok": True}), "tool add: ok"),
    (Event(type="tool.finished", data={"tool": "add", "ok": False}), "tool add: failed"),
    (Event(type="tool.flagged", data={"tool": "fetch"}), "tool fetch output flagged by the immune scanners"),
    (Event(type="critic.scored", data={"score": 7.5, "critic": "standard"}), "scored 7.5/10 by standard"),
    (Event(type="run.finished", data={"stopped": "answered"}), "member finished: answered"),
])
def test_each_event_worth_telling_has_one_line(event: Event, line: str) -> None:
    assert interfaces.describe_event(event) == line


@pytest.mark.parametrize("kind", ["step.started", "model.called", "tool.called", "memory.retrieved", "bus.dropped",
                                  "something.a.plugin.emits"])
def test_other_events_have_none(kind: str) -> None:
    assert interfaces.describe_event(Event(type=kind)) is None


def test_both_protocol_servers_use_these_ones() -> None:
    from purpose_agent_a2a import server as a2a_server
    from purpose_agent_mcp import server as mcp_server

    assert a2a_server.describe_event is mcp_server.describe_event is interfaces.describe_event
    assert a2a_server.bearer_token_matches is mcp_server.bearer_token_matches is interfaces.bearer_token_matches
