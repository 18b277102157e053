"""The OpenAI-compatible client against a real loopback server that misbehaves on purpose."""

from __future__ import annotations

import asyncio
import json
import time
from types import SimpleNamespace
from typing import Any

import pytest

from purpose_agent.errors import (
    AuthenticationError,
    BadRequestError,
    MissingAPIKeyError,
    ModelNotFoundError,
    ProviderUnavailableError,
    RateLimitError,
    RequestTimeoutError,
    ResponseFormatError,
    StreamError,
    StructuredOutputError,
)
from purpose_agent.models import ChatRequest, Message, ToolCall, ToolSpec
from purpose_agent_conformance import seconds_to_cancel
from purpose_agent_http import OpenAICompatibleBackend
from purpose_agent_http.testing import FakeLLMServer, FakeResponse, sse_lines

CHAT = "/v1/chat/completions"
# Tiny waits so retry tests stay fast; the behaviour (count, order, Retry-After) is what is tested.
FAST = SimpleNamespace(max_retries=2, retry_base_delay=0.01, retry_max_delay=0.02, retry_max_wait=2.0, timeout=1.0,
                       connect_timeout=1.0, base_url=None, api_key_env=None, default_model=None, headers={}, prices={})


class Backend(OpenAICompatibleBackend):
    provider = "testprov"
    default_api_key_env = "TESTPROV_API_KEY"


def make(server: FakeLLMServer, **overrides: Any) -> Backend:
    settings = SimpleNamespace(**{**vars(FAST), **overrides})
    return Backend("fake-model", settings=settings, base_url=server.url + "/v1", api_key="sk-test")


def ask(text: str = "hi", **kwargs: Any) -> ChatRequest:
    return ChatRequest(messages=[Message(role="user", content=text)], **kwargs)


def chats(server: FakeLLMServer) -> int:
    return sum(1 for r in server.requests if r.path == CHAT)


# --------------------------------------------------------------------------- retries


def test_429_is_retried_after_the_servers_retry_after(server: FakeLLMServer) -> None:
    server.queue(CHAT, FakeResponse(status=429, headers={"Retry-After": "0.3"}, json_body={"error": {"message": "slow down"}}))
    started = time.monotonic()
    response = make(server).complete(ask())
    assert response.message.content == "hello"
    assert chats(server) == 2
    assert time.monotonic() - started >= 0.3  # honoured the server's wait, not the tiny backoff


def test_429_after_all_retries_says_so_with_the_suggested_wait(server: FakeLLMServer) -> None:
    limited = FakeResponse(status=429, headers={"Retry-After": "0.05"}, json_body={"error": {"message": "quota"}})
    server.queue(CHAT, limited, limited, limited)
    with pytest.raises(RateLimitError) as info:
        make(server).complete(ask())
    assert chats(server) == 3
    message = str(info.value)
    assert "rate limited (HTTP 429) after 3 attempt(s)" in message and "waiting 0.1 s" in message and "quota" in message


def test_429_without_retry_after_uses_the_rate_limit_reset_header(server: FakeLLMServer) -> None:
    server.queue(CHAT, FakeResponse(status=429, headers={"x-ratelimit-reset-requests": "250ms"}, json_body={"error": "x"}))
    started = time.monotonic()
    make(server).complete(ask())
    assert time.monotonic() - started >= 0.25


@pytest.mark.parametrize("status", [500, 502, 503, 529])
def test_server_errors_are_retried(server: FakeLLMServer, status: int) -> None:
    server.queue(CHAT, FakeResponse(status=status, json_body={"error": {"message": "boom"}}))
    assert make(server).complete(ask()).message.content == "hello"
    assert chats(server) == 2


def test_a_lasting_outage_is_a_clear_error(server: FakeLLMServer) -> None:
    down = FakeResponse(status=503, body=b"<html>Service Unavailable</html>", content_type="text/html")
    server.queue(CHAT, down, down, down)
    with pytest.raises(ProviderUnavailableError, match=r"server error \(HTTP 503\) after 3 attempt\(s\).*fallback"):
        make(server).complete(ask())


def test_a_slow_server_times_out_and_is_retried_then_reported(server: FakeLLMServer) -> None:
    slow = FakeResponse(delay=1.0)
    server.queue(CHAT, slow, slow)
    started = time.monotonic()
    with pytest.raises(RequestTimeoutError, match="no answer .* within 0.2 s"):
        make(server, timeout=0.2, max_retries=1).complete(ask())
    assert time.monotonic() - started < 2.0


def test_a_slow_first_answer_then_a_fast_one_succeeds(server: FakeLLMServer) -> None:
    server.queue(CHAT, FakeResponse(delay=1.0))
    assert make(server, timeout=0.2).complete(ask()).message.content == "hello"


def test_unreachable_server(server: FakeLLMServer) -> None:
    backend = Backend("m", settings=SimpleNamespace(**vars(FAST)), base_url="http://127.0.0.1:9/v1", api_key="k")
    with pytest.raises(ProviderUnavailableError, match=r"could not reach http://127.0.0.1:9/v1"):
        backend.complete(ask())


def test_non_retryable_statuses_fail_at_once_with_typed_errors(server: FakeLLMServer) -> None:
    server.queue(CHAT, FakeResponse(status=401, json_body={"error": {"message": "Invalid API key"}}))
    with pytest.raises(AuthenticationError, match="TESTPROV_API_KEY"):
        make(server).complete(ask())
    server.queue(CHAT, FakeResponse(status=404, json_body={"error": {"message": "The model `nope` does not exist", "code": "model_not_found"}}))
    with pytest.raises(ModelNotFoundError, match="purpose-agent models --provider testprov"):
        make(server).complete(ask())
    server.queue(CHAT, FakeResponse(status=400, json_body={"error": {"message": "temperature must be <= 2"}}))
    with pytest.raises(BadRequestError, match="temperature must be <= 2"):
        make(server).complete(ask())
    assert chats(server) == 3


def test_a_missing_key_names_the_variable(server: FakeLLMServer) -> None:
    backend = Backend("m", settings=SimpleNamespace(**vars(FAST)), base_url=server.url + "/v1", environ={})
    with pytest.raises(MissingAPIKeyError, match=r"TESTPROV_API_KEY is not set.*export TESTPROV_API_KEY"):
        backend.complete(ask())
    assert not server.requests


def test_malformed_json_is_a_clear_error(server: FakeLLMServer) -> None:
    server.queue(CHAT, FakeResponse(body=b'{"choices": [ {"mess'))
    with pytest.raises(ResponseFormatError, match="not valid JSON"):
        make(server).complete(ask())


# --------------------------------------------------------------------------- streams


def test_a_truncated_stream_is_an_error_not_a_short_answer(server: FakeLLMServer) -> None:
    events = [{"choices": [{"index": 0, "delta": {"content": w}}]} for w in ["a", "b", "c", "d"]]
    server.queue(CHAT, FakeResponse(lines=sse_lines(events), cut_after=4))
    received = []
    with pytest.raises(StreamError, match="incomplete"):
        for chunk in make(server).stream(ask()):
            received.append(chunk.content)
    assert received == ["a", "b"]


def test_an_error_object_inside_a_200_stream_is_raised(server: FakeLLMServer) -> None:
    events = [
        {"choices": [{"index": 0, "delta": {"content": "partial"}}]},
        {"error": {"code": 502, "message": "upstream provider went away"}, "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}]},
    ]
    server.queue(CHAT, FakeResponse(lines=sse_lines(events)))
    with pytest.raises(StreamError, match=r"after 1 chunk\(s\).*upstream provider went away \(code 502\)"):
        list(make(server).stream(ask()))


def test_a_rate_limit_error_inside_a_stream_is_a_rate_limit_error(server: FakeLLMServer) -> None:
    server.queue(CHAT, FakeResponse(lines=sse_lines([{"error": {"code": 429, "message": "Rate limit exceeded"}}])))
    with pytest.raises(RateLimitError):
        list(make(server).stream(ask()))


def test_a_stream_that_stalls_times_out(server: FakeLLMServer) -> None:
    events = [{"choices": [{"index": 0, "delta": {"content": "x"}}]}] * 3
    server.queue(CHAT, FakeResponse(lines=sse_lines(events), line_delay=1.0))
    with pytest.raises(RequestTimeoutError, match="stalled"):
        list(make(server, timeout=0.3).stream(ask()))


def test_stream_start_is_retried(server: FakeLLMServer) -> None:
    server.queue(CHAT, FakeResponse(status=503, json_body={"error": "busy"}))
    chunks = list(make(server).stream(ask()))
    assert "".join(c.content for c in chunks) == "hello" and chunks[-1].finish_reason == "stop"


def test_streamed_tool_calls_that_repeat_id_and_name_are_set_not_appended(server: FakeLLMServer) -> None:
    # As llama-cpp-python's server sends them: every chunk repeats id and name.
    def frag(args: str, index: int = 0, cid: str = "call_1", name: str = "search") -> dict[str, Any]:
        return {"choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": index, "id": cid, "type": "function", "function": {"name": name, "arguments": args}}]}}]}

    events = [frag('{"q"'), frag(': "cats"'), frag("}"), frag('{"n": 2}', 1, "call_2", "count"),
              {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}]
    server.queue(CHAT, FakeResponse(lines=sse_lines(events)))
    chunks = list(make(server).stream(ask()))
    last = chunks[-1]
    assert last.finish_reason == "tool_calls"
    assert last.tool_calls == [ToolCall(id="call_1", name="search", arguments={"q": "cats"}),
                               ToolCall(id="call_2", name="count", arguments={"n": 2})]


def test_streamed_tool_calls_sent_once_then_argument_fragments(server: FakeLLMServer) -> None:
    # As OpenAI sends them: id and name only in the first fragment.
    events = [
        {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "call_9", "function": {"name": "f", "arguments": ""}}]}}]},
        {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": '{"a": [1, 2]}'}}]}}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
    ]
    server.queue(CHAT, FakeResponse(lines=sse_lines(events)))
    assert list(make(server).stream(ask()))[-1].tool_calls == [ToolCall(id="call_9", name="f", arguments={"a": [1, 2]})]


def test_breaking_out_of_a_stream_closes_the_connection(server: FakeLLMServer) -> None:
    events = [{"choices": [{"index": 0, "delta": {"content": str(i)}}]} for i in range(200)]
    server.queue(CHAT, FakeResponse(lines=sse_lines(events), line_delay=0.01))
    backend = make(server)
    started = time.monotonic()
    for chunk in backend.stream(ask()):
        if chunk.content == "2":
            break
    assert time.monotonic() - started < 1.0  # did not drain 200 × 10 ms
    assert backend.complete(ask()).message.content == "hello"  # the client is still usable


def test_cancelling_an_async_stream_returns_promptly(server: FakeLLMServer) -> None:
    events = [{"choices": [{"index": 0, "delta": {"content": "x"}}]}] * 100
    server.queue(CHAT, FakeResponse(lines=sse_lines(events), line_delay=0.05))
    backend = make(server)
    seen: list[str] = []

    async def consume() -> None:
        async for chunk in backend.astream(ask()):
            seen.append(chunk.content)

    async def main() -> float:
        task = asyncio.create_task(consume())
        await asyncio.sleep(0.3)
        return await seconds_to_cancel(task)

    assert asyncio.run(main()) < 0.5
    assert 0 < len(seen) < 100


# --------------------------------------------------------------------------- request shapes


def test_tools_structured_output_and_history_are_sent_in_openai_shape(server: FakeLLMServer) -> None:
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
    server.queue(CHAT, FakeResponse(json_body={"choices": [{"message": {"content": '{"answer": "4"}'}, "finish_reason": "stop"}],
                                               "usage": {"prompt_tokens": 10, "completion_tokens": 5}}))
    request = ChatRequest(
        messages=[
            Message(role="user", content="2+2?"),
            Message(role="assistant", tool_calls=[ToolCall(id="c1", name="calc", arguments={"x": "2+2"})]),
            Message(role="tool", tool_call_id="c1", content="4"),
        ],
        tools=[ToolSpec(name="calc", description="math")],
        response_schema=schema, temperature=0.0, max_tokens=20, stop=["\n\n"],
    )
    response = make(server).complete(request)
    assert json.loads(response.message.content) == {"answer": "4"}
    body = server.requests[-1].body
    assert body["response_format"] == {"type": "json_schema", "json_schema": {"name": "response", "schema": schema}}
    assert body["messages"][1]["tool_calls"][0] == {"id": "c1", "type": "function", "function": {"name": "calc", "arguments": '{"x": "2+2"}'}}
    assert body["messages"][2] == {"role": "tool", "content": "4", "tool_call_id": "c1"}
    assert body["tools"][0]["function"]["name"] == "calc"
    assert (body["temperature"], body["max_tokens"], body["stop"]) == (0.0, 20, ["\n\n"])
    assert server.requests[-1].headers["Authorization"] == "Bearer sk-test"


def test_structured_output_that_is_not_json_is_an_error(server: FakeLLMServer) -> None:
    server.queue(CHAT, FakeResponse(json_body={"choices": [{"message": {"content": "Sure! The answer is 4"}}]}))
    with pytest.raises(StructuredOutputError, match="not JSON"):
        make(server).complete(ask(response_schema={"type": "object"}))


def test_reasoning_usage_and_cost(server: FakeLLMServer) -> None:
    server.queue(CHAT, FakeResponse(json_body={"choices": [{"message": {"content": "4", "reasoning_content": "2+2=4"}, "finish_reason": "stop"}],
                                               "usage": {"prompt_tokens": 1_000_000, "completion_tokens": 500_000}}))
    response = make(server, prices={"fake-model": (1.0, 2.0)}).complete(ask())
    assert response.message.reasoning == "2+2=4"
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (1_000_000, 500_000)
    assert response.usage.cost_usd == pytest.approx(2.0)
    server.queue(CHAT, FakeResponse(json_body={"choices": [{"message": {"content": "4"}}], "usage": {"prompt_tokens": 3, "completion_tokens": 1}}))
    assert make(server).complete(ask()).usage.cost_usd is None  # unknown price: unknown, not zero


def test_broken_tool_arguments_are_kept_raw_for_the_loop_to_report(server: FakeLLMServer) -> None:
    server.queue(CHAT, FakeResponse(json_body={"choices": [{"message": {"tool_calls": [
        {"id": "c", "type": "function", "function": {"name": "f", "arguments": '{"a": 1'}}]}, "finish_reason": "tool_calls"}]}))
    call = make(server).complete(ask()).message.tool_calls[0]
    assert call.arguments == {"_raw": '{"a": 1'}


def test_async_twin_retries_the_same_way(server: FakeLLMServer) -> None:
    server.queue(CHAT, FakeResponse(status=429, headers={"Retry-After": "0"}), FakeResponse(status=500))
    response = asyncio.run(make(server).acomplete(ask()))
    assert response.message.content == "hello" and chats(server) == 3


def test_rate_limit_headers_are_recorded(server: FakeLLMServer) -> None:
    server.queue(CHAT, FakeResponse(headers={"x-ratelimit-remaining-requests": "42", "x-ratelimit-remaining-tokens": "1000",
                                             "x-ratelimit-reset-requests": "1m0s"},
                                    json_body={"choices": [{"message": {"content": "ok"}}]}))
    backend = make(server)
    backend.complete(ask())
    assert (backend.rate_limit.requests_remaining, backend.rate_limit.tokens_remaining, backend.rate_limit.reset_s) == (42, 1000, 60.0)
