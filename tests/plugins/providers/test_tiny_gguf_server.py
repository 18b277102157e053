"""llama-cpp-python's OpenAI-compatible server with a tiny deterministic GGUF written at test time.

The model (``tiny_gguf.py``) answers every chat prompt with ``pong``, fills every JSON string
with ``x`` and every integer with ``0``, so these tests assert exact protocol facts through the
path users take (the ``openai`` provider plugin built by the kernel from ``[plugins.openai]
base_url``): content, finish reasons, usage counts, streamed chunk counts, streamed tool-call
assembly, structured output and determinism. They say nothing about model quality; the SmolLM2
tier (``test_llamacpp_backend.py``) runs a real model through the same server.

Skipped, with the reason, when llama-cpp-python (or its ``[server]`` extra) or ``gguf`` is missing.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from loopback_http import free_port

from purpose_agent.errors import ProviderUnavailableError
from purpose_agent.models import ChatRequest, Message, ToolCall, ToolSpec
from purpose_agent.testing import make_kernel

pytest.importorskip("gguf", reason="the gguf package is not installed (pip install gguf)")
llama_cpp = pytest.importorskip(
    "llama_cpp", reason="llama-cpp-python is not installed (CMAKE_ARGS=-DGGML_NATIVE=OFF pip install 'llama-cpp-python[server]')"
)
for _extra in ("fastapi", "uvicorn", "sse_starlette", "starlette_context", "pydantic_settings"):
    pytest.importorskip(_extra, reason=f"llama-cpp-python's server extra is not installed ({_extra} missing): "
                                       "pip install 'llama-cpp-python[server]'")

if str(Path(__file__).parent) not in sys.path:  # the generator sits next to this file
    sys.path.insert(0, str(Path(__file__).parent))
import tiny_gguf  # noqa: E402

ALIAS = "tiny"
START_TIMEOUT_S = 60  # importing fastapi/uvicorn on a busy 2-core machine is the slow part
STOP_TIMEOUT_S = 10

SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}, "required": ["city", "days"]}
TOOL = ToolSpec(name="get_weather", description="Weather for a city",
                parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})
FORCE_TOOL = {"tool_choice": {"type": "function", "function": {"name": "get_weather"}}}
HELLO = [{"role": "user", "content": "Say hello."}]


def ask(messages: list[dict[str, str]] = HELLO, **fields: Any) -> ChatRequest:
    return ChatRequest(messages=[Message(**m) for m in messages], temperature=0.0, **fields)


# --------------------------------------------------------------------------- the model file


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_gguf.write_tiny_gguf(tmp_path_factory.mktemp("tiny-gguf") / "tiny.gguf")


def test_the_file_is_small_and_byte_identical_every_time(model_path: Path, tmp_path: Path) -> None:
    again = tiny_gguf.write_tiny_gguf(tmp_path / "again.gguf")
    assert model_path.read_bytes() == again.read_bytes()
    assert model_path.stat().st_size < 200_000


def test_in_process_it_loads_fast_and_answers_deterministically(model_path: Path) -> None:
    started = time.monotonic()
    llm = llama_cpp.Llama(model_path=str(model_path), n_ctx=512, n_threads=1, n_threads_batch=1, verbose=False)
    try:
        load_s = time.monotonic() - started
        assert load_s < 5, f"the tiny model took {load_s:.2f} s to load"
        # No chat_format given: llama-cpp-python uses the GGUF's own tokenizer.chat_template.
        assert llm.chat_format == "chat_template.default"
        prompt = tiny_gguf.chatml_prompt(HELLO)
        assert len(llm.tokenize(prompt.encode(), add_bos=False, special=True)) == tiny_gguf.chatml_prompt_tokens(HELLO)

        first = llm.create_chat_completion(messages=HELLO, temperature=0.0)
        second = llm.create_chat_completion(messages=HELLO, temperature=0.0)
        for reply in (first, second):
            assert reply["choices"][0]["message"]["content"] == tiny_gguf.REPLY
            assert reply["choices"][0]["finish_reason"] == "stop"
            assert reply["usage"]["prompt_tokens"] == tiny_gguf.chatml_prompt_tokens(HELLO)
            assert reply["usage"]["completion_tokens"] == len(tiny_gguf.REPLY)

        cut = llm.create_chat_completion(messages=HELLO, temperature=0.0, max_tokens=2)
        assert cut["choices"][0]["message"]["content"] == tiny_gguf.REPLY[:2]
        assert cut["choices"][0]["finish_reason"] == "length"

        structured = llm.create_chat_completion(messages=HELLO, temperature=0.0,
                                                response_format={"type": "json_object", "schema": SCHEMA})
        assert json.loads(structured["choices"][0]["message"]["content"]) == {"city": "x", "days": 0}
    finally:
        llm.close()


# --------------------------------------------------------------------------- the real server


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """End the server we started (by its pid), waiting a bounded time; kill if it ignores SIGTERM."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=STOP_TIMEOUT_S)


def _die_with_parent() -> None:
    """In the child before exec (Linux): SIGTERM the server if the test process dies without teardown."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _start(model: Path, log_path: Path, extra_args: tuple[str, ...] = ()) -> tuple[subprocess.Popen[bytes], str]:
    """Start the server on a free port; retry on a new port if another process took it first."""
    import httpx

    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "OMP_NUM_THREADS": "1"}
    for attempt in range(3):
        port = free_port()
        log = log_path.open("w+b")  # a pipe nobody reads would fill and block the server
        proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", ALIAS,
             "--host", "127.0.0.1", "--port", str(port), "--n_threads", "1", "--n_threads_batch", "1",
             "--n_ctx", "1024", "--chat_format", "chatml-function-calling", *extra_args],
            env=env, stdout=log, stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT_S
        try:
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    break
                try:
                    if httpx.get(url + "/v1/models", timeout=1).status_code == 200:
                        log.close()
                        return proc, url + "/v1"
                except httpx.HTTPError:
                    time.sleep(0.2)
        except BaseException:
            _stop(proc)
            log.close()
            raise
        _stop(proc)
        log.seek(0)
        output = log.read().decode(errors="replace")
        log.close()
        if "address already in use" in output.lower() and attempt < 2:
            continue
        pytest.fail(f"llama_cpp.server exited or did not answer within {START_TIMEOUT_S} s; "
                    f"its log ends with:\n{output[-3000:]}")
    raise AssertionError("unreachable")


@pytest.fixture(scope="module")
def server(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    proc, url = _start(model_path, tmp_path_factory.mktemp("tiny-server") / "server.log")
    try:
        yield url
    finally:
        _stop(proc)


@pytest.fixture
def backend(server: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``openai:tiny`` built by the kernel from ``[plugins.openai] base_url``, as a user configures it."""
    import purpose_agent_openai

    monkeypatch.setenv("OPENAI_API_KEY", "local")
    kernel = make_kernel(purpose_agent_openai.plugin, config={"plugins": {"openai": {"base_url": server, "timeout": 20, "max_retries": 0}}})
    return kernel.backend(f"openai:{ALIAS}")


def _raw_chunks(server: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The server's SSE chunks for ``body``, parsed, without our client in between."""
    import httpx

    chunks = []
    with httpx.stream("POST", server + "/chat/completions", json={**body, "stream": True}, timeout=20) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                chunks.append(json.loads(line[len("data: "):]))
    return chunks


def test_health_lists_the_model(backend: Any) -> None:
    reachable, detail = backend.health()
    assert reachable and f"'{ALIAS}' listed" in detail
    assert backend.list_models() == [ALIAS]


def test_plain_reply_usage_and_determinism(backend: Any) -> None:
    first, second = backend.complete(ask()), backend.complete(ask())
    assert first.message.content == tiny_gguf.REPLY and not first.message.tool_calls
    assert first.finish_reason == "stop"
    assert first.usage.prompt_tokens == tiny_gguf.chatml_prompt_tokens(HELLO)
    assert first.usage.completion_tokens == len(tiny_gguf.REPLY)
    assert first.model
    assert (second.message, second.usage, second.finish_reason) == (first.message, first.usage, first.finish_reason)


def test_streamed_reply_arrives_token_by_token(backend: Any) -> None:
    chunks = list(backend.stream(ask()))
    *pieces, last = chunks
    assert [c.content for c in pieces] == list(tiny_gguf.REPLY)  # one token per chunk, in order
    assert last.finish_reason == "stop" and not last.tool_calls and not last.content
    # llama-cpp-python 0.3.36 ignores stream_options.include_usage; if a later one sends usage, it must agree.
    if last.usage is not None:
        assert last.usage == backend.complete(ask()).usage
    assert [c.content for c in list(backend.stream(ask()))[:-1]] == list(tiny_gguf.REPLY)  # deterministic


def test_async_twins_give_the_same_answers(backend: Any) -> None:
    async def both() -> tuple[Any, list[Any]]:
        reply = await backend.acomplete(ask())
        chunks = [c async for c in backend.astream(ask())]
        return reply, chunks

    reply, chunks = asyncio.run(both())
    assert reply.message.content == tiny_gguf.REPLY and reply.finish_reason == "stop"
    assert "".join(c.content for c in chunks) == tiny_gguf.REPLY and chunks[-1].finish_reason == "stop"


def test_the_server_honours_max_tokens_on_the_wire(server: str) -> None:
    import httpx

    body = {"model": ALIAS, "messages": HELLO, "temperature": 0.0}
    cut = httpx.post(server + "/chat/completions", json={**body, "max_tokens": 2}, timeout=20).json()
    assert cut["choices"][0]["message"]["content"] == tiny_gguf.REPLY[:2]
    assert cut["choices"][0]["finish_reason"] == "length"
    assert cut["usage"]["completion_tokens"] == 2
    # ...but it does not know OpenAI's newer name for the same limit, and ignores it silently.
    ignored = httpx.post(server + "/chat/completions", json={**body, "max_completion_tokens": 2}, timeout=20).json()
    assert ignored["choices"][0]["message"]["content"] == tiny_gguf.REPLY


def test_max_tokens_reaches_the_server(backend: Any) -> None:
    cut = backend.complete(ask(max_tokens=2))
    assert cut.message.content == tiny_gguf.REPLY[:2] and cut.finish_reason == "length"


def test_forced_tool_call(backend: Any) -> None:
    request = ask(tools=[TOOL], extra=FORCE_TOOL)
    first, second = backend.complete(request), backend.complete(request)
    assert first.finish_reason == "tool_calls" and first.message.content == ""
    [call] = first.message.tool_calls
    assert call.name == "get_weather" and call.arguments == json.loads(tiny_gguf.TOOL_ARGUMENTS)
    assert call.id.startswith("call_")
    # chatml-function-calling appends "functions.<name>:\n" to the prompt before the grammar-bound JSON.
    assert first.usage.prompt_tokens == tiny_gguf.chatml_prompt_tokens(HELLO) + len("functions.get_weather:\n")
    assert first.usage.completion_tokens == len(tiny_gguf.TOOL_ARGUMENTS)
    assert [(c.name, c.arguments) for c in second.message.tool_calls] == [(call.name, call.arguments)]


def test_streamed_tool_call_chunks_repeat_id_and_name_and_assemble_once(backend: Any, server: str) -> None:
    request = ask(tools=[TOOL], extra=FORCE_TOOL)
    raw = _raw_chunks(server, backend.build_body(request, stream=True))
    fragments = [tc for chunk in raw for choice in chunk["choices"] for tc in (choice["delta"].get("tool_calls") or [])]
    # The server resends the id and the full name in every fragment (DESIGN §7): appending would
    # give "get_weatherget_weather...". Arguments arrive one token per fragment.
    assert len(fragments) > 2
    assert {f["function"]["name"] for f in fragments} == {"get_weather"} and len({f["id"] for f in fragments}) == 1
    assert "".join(f["function"]["arguments"] for f in fragments) == tiny_gguf.TOOL_ARGUMENTS

    chunks = list(backend.stream(request))
    last = chunks[-1]
    assert last.finish_reason == "tool_calls"
    assert not "".join(c.content for c in chunks)
    [call] = last.tool_calls
    assert call.name == "get_weather" and call.arguments == json.loads(tiny_gguf.TOOL_ARGUMENTS)
    assert call.id.startswith("call_") and call.id.count("get_weather") == 1  # set, not appended


def test_tools_without_tool_choice_are_ignored_by_chatml_function_calling(backend: Any) -> None:
    # OpenAI's default with tools is tool_choice "auto"; this server format treats "absent" as "none".
    reply = backend.complete(ask(tools=[TOOL]))
    assert reply.message.content == tiny_gguf.REPLY and not reply.message.tool_calls and reply.finish_reason == "stop"


TOOL_TURN = [
    Message(role="user", content="Weather in Paris?"),
    Message(role="assistant", tool_calls=[ToolCall(id="call_1", name="get_weather", arguments={"city": "Paris"})]),
    Message(role="tool", tool_call_id="call_1", name="get_weather", content="sunny"),
]


def test_a_tool_result_turn_reaches_the_server(backend: Any) -> None:
    reply = backend.complete(ChatRequest(messages=TOOL_TURN, temperature=0.0))
    assert reply.message.content == tiny_gguf.REPLY and reply.finish_reason == "stop"


def test_a_tool_result_turn_on_the_wire_and_how_chatml_function_calling_renders_it(server: str) -> None:
    import httpx

    call = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
    messages = [{"role": "user", "content": "Weather in Paris?"},
                {"role": "assistant", "content": None, "tool_calls": [call]},
                {"role": "tool", "tool_call_id": "call_1", "name": "get_weather", "content": "sunny"}]
    body = {"model": ALIAS, "messages": messages, "temperature": 0.0}
    # content null beside tool_calls is valid OpenAI, but this server's schema wants a string:
    # a validation error, answered as HTTP 500. Without the key its template fails (also a 500).
    rejected = httpx.post(server + "/chat/completions", json=body, timeout=20)
    assert rejected.status_code == 500 and "valid string" in rejected.text
    del messages[1]["content"]
    assert httpx.post(server + "/chat/completions", json=body, timeout=20).status_code == 500
    messages[1]["content"] = ""
    reply = httpx.post(server + "/chat/completions", json=body, timeout=20).json()
    assert reply["choices"][0]["message"]["content"] == tiny_gguf.REPLY
    # What the model sees (llama-cpp-python 0.3.36, pinned by the exact token count): the call's
    # arguments HTML-escaped (the template environment autoescapes), and for the tool message only
    # "<|im_start|>tool\n": the result itself ("sunny") never reaches the model.
    rendered = ("<|im_start|>user\nWeather in Paris?<|im_end|>\n"
                "<|im_start|>assistant\nfunctions.get_weather:\n{&#34;city&#34;: &#34;Paris&#34;}<|im_end|>\n"
                "<|im_start|>tool\n"
                "<|im_start|>assistant\n")
    assert reply["usage"]["prompt_tokens"] == tiny_gguf.count_tokens(rendered)


def test_structured_output_with_json_object_and_schema(backend: Any) -> None:
    request = ask(response_schema=SCHEMA, extra={"response_format": {"type": "json_object", "schema": SCHEMA}})
    reply = backend.complete(request)
    assert json.loads(reply.message.content) == {"city": "x", "days": 0} and reply.finish_reason == "stop"
    assert reply.usage.completion_tokens == len('{"city":"x","days":0}')
    streamed = list(backend.stream(request))
    assert "".join(c.content for c in streamed) == reply.message.content and streamed[-1].finish_reason == "stop"


def test_structured_output_with_the_default_json_schema_format_is_refused_as_a_500(backend: Any) -> None:
    # The client asks with response_format {"type": "json_schema", ...}; llama-cpp-python 0.3.36
    # accepts only "text" and "json_object" and reports the validation error as HTTP 500, which the
    # client (rightly, for a 500) calls an outage: a [model] fallback chain would move on.
    with pytest.raises(ProviderUnavailableError, match="json_object"):
        backend.complete(ask(response_schema=SCHEMA))
