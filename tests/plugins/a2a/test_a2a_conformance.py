"""The kernel's protocol conformance suites (hook API 1.3), client and server side, on real HTTP:
the client against a server built from a2a-sdk's classes; the server driven by a2a-sdk's client."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from a2a.client import A2ACardResolver, ClientConfig, ClientFactory
from a2a.helpers import get_artifact_text
from a2a.types import Message, Part, Role, SendMessageRequest
from loopback_http import loopback_server
from test_a2a_client import ShoutingExecutor, sdk_server

import purpose_agent_a2a
from purpose_agent.testing import make_kernel
from purpose_agent_conformance import ProtocolAdapterConformance, ProtocolServerConformance


@pytest.fixture(scope="module")
def peer_url() -> Iterator[str]:
    with loopback_server(sdk_server(ShoutingExecutor())) as url:
        yield url


class TestClientConformance(ProtocolAdapterConformance):
    plugin = purpose_agent_a2a
    plugin_id = "a2a"
    protocol_name = "a2a"
    tool_name = "shouter"
    tool_arguments = {"message": "conformance"}

    @pytest.fixture
    def kernel(self, peer_url: str) -> Any:
        config = {"plugins": {"a2a": {"agents": {"shouter": {"url": peer_url}}}}}
        return make_kernel({"a2a": purpose_agent_a2a}, config=config, strict=True)


class TestServerConformance(ProtocolServerConformance):
    plugin = purpose_agent_a2a
    plugin_id = "a2a"
    protocol_name = "a2a"
    serve_options = {"host": "127.0.0.1", "port": 0}

    async def call_run(self, address: str, task: str) -> str:
        async with httpx.AsyncClient(timeout=30) as http:
            card = await A2ACardResolver(http, address).get_agent_card()
            client = ClientFactory(ClientConfig(streaming=True, httpx_client=http)).create(card)
            request = SendMessageRequest(message=Message(role=Role.ROLE_USER, parts=[Part(text=task)],
                                                         message_id=uuid.uuid4().hex))
            texts = [get_artifact_text(reply.artifact_update.artifact)
                     async for reply in client.send_message(request) if reply.HasField("artifact_update")]
        return "\n".join(texts)


def test_an_open_circuit_is_a_problem_sentence() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = {"plugins": {"a2a": {"agents": {"gone": {"url": down, "retries": 0, "failure_threshold": 1}}}}}
    adapter = make_kernel({"a2a": purpose_agent_a2a}, config=config).create("protocol", "a2a")
    [tool] = adapter.tools()
    assert adapter.problems() == []
    assert not tool.run({"message": "hi"}).ok
    [sentence] = adapter.problems()
    assert sentence.startswith(f"remote agent 'gone' at {down} is skipped for ")
    assert "circuit is open after 1 consecutive failure(s)" in sentence


def test_serve_refuses_a_public_bind_without_a_token() -> None:
    import asyncio

    adapter = make_kernel({"a2a": purpose_agent_a2a}).create("protocol", "a2a")
    with pytest.raises(PermissionError, match="without a bearer token"):
        asyncio.run(adapter.serve(object(), host="0.0.0.0", port=0))


def test_circuit_changes_reach_observer_plugins_and_an_open_circuit_is_reported_at_run_start() -> None:
    import socket

    import purpose_agent as pa
    from purpose_agent.testing import ScriptedBackend, plugin

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{sock.getsockname()[1]}"
    seen: list[Any] = []
    observer = plugin("watcher", on_event=lambda event: seen.append(event))
    config = {"plugins": {"a2a": {"agents": {"gone": {"url": down, "retries": 0, "failure_threshold": 1}}}}}
    kernel = make_kernel({"a2a": purpose_agent_a2a}, observer, config=config)
    backend = ScriptedBackend([ScriptedBackend.tool_call("gone", message="hi"), ScriptedBackend.answer("a"),
                               ScriptedBackend.answer("b")])
    team = pa.Team("relay", model=backend, kernel=kernel, roles=["relay"], critic=None, memory=False)
    team.run("first")  # the call fails and opens the circuit
    team.run("second")  # the open circuit is reported when the run starts
    circuit = [e.data for e in seen if e.type == "a2a.circuit"]
    assert [(c["from"], c["to"]) for c in circuit] == [("closed", "open")]
    unavailable = [e.data for e in seen if e.type == "protocol.unavailable"]
    assert unavailable and unavailable[-1]["protocol"] == "a2a" and "'gone'" in unavailable[-1]["reason"]
