"""Our A2A client (a remote agent as a tool) against a server built from a2a-sdk's own classes,
and its circuit breaker against peers that are down, slow, or answer garbage."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from a2a.helpers import new_task, new_text_artifact, new_text_message
from a2a.server.agent_execution import AgentExecutor
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes
from a2a.server.tasks import InMemoryTaskStore, TaskUpdater
from a2a.types import AgentCapabilities, AgentCard, AgentInterface, AgentSkill, TaskState
from loopback_http import loopback_server
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

import purpose_agent as pa
import purpose_agent_a2a
from purpose_agent.testing import ScriptedBackend, make_kernel
from purpose_agent_a2a.breaker import CircuitBreaker, CircuitOpen
from purpose_agent_a2a.client import RemoteAgentTool
from purpose_agent_a2a.settings import A2ASettings, RemoteAgentSettings


class ShoutingExecutor(AgentExecutor):
    """The SDK's own executor shape: a task with an upper-cased artifact, or a bare message."""

    def __init__(self, *, delay_s: float = 0.0, as_message: bool = False) -> None:
        self.delay_s = delay_s
        self.as_message = as_message
        self.calls = 0

    async def execute(self, context: Any, event_queue: Any) -> None:
        self.calls += 1
        await asyncio.sleep(self.delay_s)
        text = context.get_user_input()
        if self.as_message:
            await event_queue.enqueue_event(new_text_message(text.upper(), context_id=context.context_id))
            return
        await event_queue.enqueue_event(new_task(context.task_id, context.context_id, TaskState.TASK_STATE_SUBMITTED))
        updater = TaskUpdater(event_queue, context.task_id, context.context_id)
        await updater.start_work()
        artifact = new_text_artifact(name="reply", text=text.upper())
        await updater.add_artifact(list(artifact.parts), name="reply")
        await updater.complete()

    async def cancel(self, context: Any, event_queue: Any) -> None:
        await TaskUpdater(event_queue, context.task_id, context.context_id).cancel()


def sdk_server(executor: AgentExecutor, *, card_url: str | None = None) -> Any:
    def make(url: str) -> Any:
        card = AgentCard(
            name="shouter", description="upper-cases text", version="1.0",
            supported_interfaces=[AgentInterface(protocol_binding="JSONRPC", url=card_url or url, protocol_version="1.0")],
            capabilities=AgentCapabilities(streaming=True), default_input_modes=["text/plain"],
            default_output_modes=["text/plain"], skills=[AgentSkill(id="shout", name="shout", description="shout",
                                                                    tags=["text"])])
        handler = DefaultRequestHandler(agent_executor=executor, task_store=InMemoryTaskStore(), agent_card=card)
        return Starlette(routes=[*create_agent_card_routes(card), *create_jsonrpc_routes(handler, "/")])

    return make


def remote(url: str, **overrides: Any) -> RemoteAgentTool:
    events: list[tuple[str, dict[str, Any]]] = []
    tool = RemoteAgentTool("shouter", RemoteAgentSettings(url=url, **overrides),
                           on_event=lambda type_, data: events.append((type_, data)))
    tool.events = events  # type: ignore[attr-defined]
    return tool


def test_our_client_gets_the_sdk_servers_artifact_as_untrusted_remote_agent_text() -> None:
    with loopback_server(sdk_server(ShoutingExecutor())) as url:
        observation = remote(url).run({"message": "hello there"})
    assert observation.ok, observation.error
    assert observation.output == "HELLO THERE"
    assert observation.origin.label == "remote_agent:shouter" and observation.origin.untrusted
    assert observation.data["state"] == "TASK_STATE_COMPLETED" and observation.data["circuit"] == "closed"


def test_a_bare_message_reply_is_read_too() -> None:
    with loopback_server(sdk_server(ShoutingExecutor(as_message=True))) as url:
        observation = remote(url).run({"message": "quiet"})
    assert observation.ok and observation.output == "QUIET"


def test_a_long_reply_is_cut_to_max_reply_chars() -> None:
    with loopback_server(sdk_server(ShoutingExecutor())) as url:
        observation = remote(url, max_reply_chars=100).run({"message": "a" * 500})
    assert observation.output == "A" * 100 and observation.data["truncated"] is True


def test_a_card_pointing_elsewhere_is_refused_before_anything_is_sent() -> None:
    executor = ShoutingExecutor()
    with loopback_server(sdk_server(executor, card_url="http://127.0.0.2:9/")) as url:
        observation = remote(url).run({"message": "hi"})
    assert not observation.ok
    assert "outside the configured origin" in (observation.error or "")
    assert executor.calls == 0


def test_a_remote_agent_is_a_team_tool_inside_a_real_run() -> None:
    with loopback_server(sdk_server(ShoutingExecutor())) as url:
        kernel = make_kernel({"a2a": purpose_agent_a2a},
                             config={"plugins": {"a2a": {"agents": {"shouter": {"url": url}}}}})
        backend = ScriptedBackend([ScriptedBackend.tool_call("shouter", message="ping"),
                                   ScriptedBackend.answer("the shouter said PING")])
        team = pa.Team("relay", model=backend, kernel=kernel, roles=["relay"], critic=None, memory=False)
        result = team.run("ask the shouter")
    [step, _] = result.trajectory.steps
    assert step.observation is not None and step.observation.output == "PING"
    assert step.observation.origin.label == "remote_agent:shouter"
    assert result.answer == "the shouter said PING"


def free_port_url() -> str:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_circuit_opens_after_n_failures_fails_fast_then_half_open_probe_closes_it() -> None:
    down = free_port_url()  # nothing listens here: connection refused
    tool = remote(down, retries=0, failure_threshold=2, reset_after_s=0.5)
    first, second = tool.run({"message": "a"}), tool.run({"message": "b"})
    assert not first.ok and "unavailable" in (first.error or "") and first.data["circuit"] == "closed"
    assert not second.ok and second.data["circuit"] == "open"
    started = time.monotonic()
    fast = tool.run({"message": "c"})
    assert "circuit open" in (fast.error or "") and time.monotonic() - started < 0.05
    time.sleep(0.6)
    assert tool.breaker.state == "half_open"
    probe_failed = tool.run({"message": "d"})
    assert probe_failed.data["circuit"] == "open"
    transitions = [(e["from"], e["to"]) for t, e in tool.events if t == "a2a.circuit"]  # type: ignore[attr-defined]
    assert transitions == [("closed", "open"), ("open", "half_open"), ("half_open", "open")]


def test_half_open_probe_that_succeeds_closes_the_circuit() -> None:
    with loopback_server(sdk_server(ShoutingExecutor())) as url:
        tool = remote(url, retries=0, failure_threshold=1, reset_after_s=0.3)
        tool.settings = tool.settings.model_copy(update={"url": free_port_url()})
        assert not tool.run({"message": "x"}).ok
        assert tool.breaker.state == "open"
        tool.settings = tool.settings.model_copy(update={"url": url})  # the peer comes back
        time.sleep(0.35)
        probe = tool.run({"message": "back"})
    assert probe.ok and probe.output == "BACK" and probe.data["circuit"] == "closed"
    transitions = [(e["from"], e["to"]) for t, e in tool.events if t == "a2a.circuit"]  # type: ignore[attr-defined]
    assert transitions[-2:] == [("open", "half_open"), ("half_open", "closed")]


def test_a_slow_peer_times_out_and_is_retried() -> None:
    executor = ShoutingExecutor(delay_s=2.0)
    with loopback_server(sdk_server(executor)) as url:
        started = time.monotonic()
        observation = remote(url, timeout_s=0.3, retries=1).run({"message": "slow"})
        elapsed = time.monotonic() - started
    assert not observation.ok and "after 2 attempt(s)" in (observation.error or "")
    assert elapsed < 1.9  # two 0.3 s attempts and a backoff, not the peer's 2 s
    assert observation.data["retryable"] is False  # the tool retried already; the runner must not


@pytest.mark.parametrize("reply", [PlainTextResponse("<html>oops</html>"), JSONResponse({"no": "card"}),
                                   PlainTextResponse("boom", status_code=500)])
def test_a_peer_answering_garbage_is_a_clear_failure_that_counts(reply: Any) -> None:
    app = Starlette(routes=[Route("/{path:path}", lambda request: reply, methods=["GET", "POST"])])
    with loopback_server(lambda url: app) as url:
        tool = remote(url, retries=0, failure_threshold=1)
        observation = tool.run({"message": "hi"})
    assert not observation.ok
    assert observation.error and observation.error.startswith("remote agent 'shouter' unavailable:")
    assert "Traceback" not in observation.error
    assert tool.breaker.state == "open"


def test_missing_token_variable_is_reported_without_calling() -> None:
    tool = RemoteAgentTool("p", RemoteAgentSettings(url="http://127.0.0.1:9", token_env="NOT_SET_ANYWHERE_X"),
                           environ={})
    observation = tool.run({"message": "hi"})
    assert "NOT_SET_ANYWHERE_X is not set" in (observation.error or "")
    assert tool.breaker.failures == 0


def test_bearer_token_reaches_our_own_server() -> None:
    from purpose_agent_a2a.server import build_app

    team = pa.Team("echo", model=ScriptedBackend([ScriptedBackend.answer("authorised")]), kernel=make_kernel(),
                   roles=["echo"], critic=None, memory=False)
    with loopback_server(lambda url: build_app(team, url=url, token="tok")) as url:
        settings = RemoteAgentSettings(url=url, token_env="PEER_TOKEN", retries=0)
        refused = RemoteAgentTool("peer", settings, environ={"PEER_TOKEN": "wrong"}).run({"message": "hi"})
        allowed = RemoteAgentTool("peer", settings, environ={"PEER_TOKEN": "tok"}).run({"message": "hi"})
    assert not refused.ok and "401" in (refused.error or "")
    assert allowed.ok and allowed.output == "authorised"


def test_breaker_unit_single_probe_in_flight() -> None:
    now = [0.0]
    breaker = CircuitBreaker(failure_threshold=1, reset_after_s=10, clock=lambda: now[0])
    breaker.before_call()
    breaker.record_failure("down")
    with pytest.raises(CircuitOpen, match="next attempt allowed in 10.0 s"):
        breaker.before_call()
    now[0] = 10.0
    breaker.before_call()  # the probe
    with pytest.raises(CircuitOpen, match="probe call is already in flight"):
        breaker.before_call()


@pytest.mark.parametrize("section,message", [
    ({"agents": {"Bad Name": {"url": "http://x"}}}, "cannot be a tool name"),
    ({"agents": {"ok": {"url": "ftp://x"}}}, "is not an http(s) URL"),
    ({"agents": {"ok": {"url": "http://x", "token_env": "a b"}}}, "not an environment variable name"),
    ({"server": {"port": 70000}}, "less than or equal to 65535"),
])
def test_bad_settings_are_sentences(section: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        A2ASettings.model_validate(section)


def test_card_is_fetched_through_httpx_only_from_the_configured_url() -> None:
    with loopback_server(sdk_server(ShoutingExecutor())) as url:
        card = httpx.get(url + "/.well-known/agent-card.json").json()
    assert card["name"] == "shouter"
