"""Each provider's quirks, checked on the wire against a loopback server replaying the
provider's documented shapes."""

from __future__ import annotations

import json
import time
import warnings
from datetime import UTC
from typing import Any

import pytest

from purpose_agent.errors import BadRequestError, ProviderUnavailableError, StreamError
from purpose_agent.models import ChatRequest, Message, ToolCall, ToolSpec
from purpose_agent_http.testing import FakeLLMServer, FakeResponse, sse_lines
from purpose_agent_ollama.backend import ollama_url


def ask(**kwargs: Any) -> ChatRequest:
    return ChatRequest(messages=[Message(role="user", content="hi", name="alice")], **kwargs)


def backend(cls: type, server: FakeLLMServer, prefix: str = "/v1", model: str = "m", **kwargs: Any) -> Any:
    return cls(model, base_url=server.url + prefix, api_key="k", **kwargs)


def sent(server: FakeLLMServer) -> dict[str, Any]:
    return server.requests[-1].body


# --------------------------------------------------------------------------- OpenAI-compatible family


def test_openai_sends_max_completion_tokens(server: FakeLLMServer) -> None:
    from purpose_agent_openai.backend import OpenAIBackend
    from purpose_agent_openai.settings import OpenAISettings

    backend(OpenAIBackend, server, settings=OpenAISettings(openai_wire=True)).complete(ask(max_tokens=7))
    assert sent(server)["max_completion_tokens"] == 7 and "max_tokens" not in sent(server)
    assert OpenAIBackend("m").openai_wire and OpenAIBackend("m", base_url="https://x.openai.azure.com/v1").openai_wire


def test_openai_plugin_speaks_plainer_to_other_servers(server: FakeLLMServer) -> None:
    # llama-cpp-python ignores max_completion_tokens and refuses content null beside tool_calls.
    from purpose_agent_openai.backend import OpenAIBackend

    call = ToolCall(id="c1", name="f", arguments={})
    history = [Message(role="user", content="hi"), Message(role="assistant", tool_calls=[call]),
               Message(role="tool", tool_call_id="c1", content="ok")]
    backend(OpenAIBackend, server).complete(ChatRequest(messages=history, max_tokens=7))
    assert sent(server)["max_tokens"] == 7 and "max_completion_tokens" not in sent(server)
    assert sent(server)["messages"][1]["content"] == ""


def test_groq_drops_rejected_params_and_message_names(server: FakeLLMServer) -> None:
    from purpose_agent_groq.backend import GroqBackend

    with pytest.warns(UserWarning, match="groq does not accept logit_bias, logprobs"):
        backend(GroqBackend, server, "/openai/v1").complete(ask(extra={"logprobs": True, "logit_bias": {"1": 2}, "n": 1}))
    body = sent(server)
    assert not {"logprobs", "logit_bias", "n"} & body.keys()
    assert "name" not in body["messages"][0]
    with pytest.raises(BadRequestError, match="n=3 is not supported"):
        backend(GroqBackend, server, "/openai/v1").complete(ask(extra={"n": 3}))


def test_groq_reasoning_field(server: FakeLLMServer) -> None:
    from purpose_agent_groq.backend import GroqBackend

    events = [{"choices": [{"index": 0, "delta": {"reasoning": "think "}}]},
              {"choices": [{"index": 0, "delta": {"content": "4"}, "finish_reason": "stop"}]}]
    server.queue("/openai/v1/chat/completions", FakeResponse(lines=sse_lines(events)))
    chunks = list(backend(GroqBackend, server, "/openai/v1").stream(ask()))
    assert [c.reasoning for c in chunks if c.reasoning] == ["think "] and "".join(c.content for c in chunks) == "4"


def test_cerebras_drops_penalties_and_parallel_tool_calls(server: FakeLLMServer) -> None:
    from purpose_agent_cerebras.backend import CerebrasBackend

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        backend(CerebrasBackend, server).complete(
            ask(extra={"frequency_penalty": 0.5, "presence_penalty": 0.1, "parallel_tool_calls": False, "seed": 1}))
    assert not {"frequency_penalty", "presence_penalty", "parallel_tool_calls"} & sent(server).keys()
    assert sent(server)["seed"] == 1 and caught


def test_mistral_rewrites_foreign_tool_call_ids_consistently(server: FakeLLMServer) -> None:
    from purpose_agent_mistral.backend import MistralBackend

    history = [
        Message(role="user", content="weather?"),
        Message(role="assistant", tool_calls=[ToolCall(id="call_abc123XYZ_long", name="w", arguments={}),
                                              ToolCall(id="toolu_01A", name="w", arguments={"c": "x"})]),
        Message(role="tool", tool_call_id="call_abc123XYZ_long", content="sunny"),
        Message(role="tool", tool_call_id="toolu_01A", content="rain"),
        Message(role="assistant", tool_calls=[ToolCall(id="abcDEF123", name="w", arguments={})]),
        Message(role="tool", tool_call_id="abcDEF123", content="ok"),
    ]
    mistral = backend(MistralBackend, server)
    mistral.complete(ChatRequest(messages=history))
    messages = sent(server)["messages"]
    ids = [c["id"] for c in messages[1]["tool_calls"]]
    assert all(len(i) == 9 and i.isalnum() for i in ids) and ids[0] != ids[1]
    assert [messages[2]["tool_call_id"], messages[3]["tool_call_id"]] == ids
    assert messages[4]["tool_calls"][0]["id"] == "abcDEF123" == messages[5]["tool_call_id"]  # valid ids kept
    mistral.complete(ChatRequest(messages=history))
    assert [c["id"] for c in sent(server)["messages"][1]["tool_calls"]] == ids  # stable across requests
    list(mistral.stream(ask()))
    assert "stream_options" not in sent(server)


def test_openrouter_comments_reasoning_and_midstream_error(server: FakeLLMServer) -> None:
    from purpose_agent_openrouter.backend import OpenRouterBackend

    lines = [": OPENROUTER PROCESSING", "", ": OPENROUTER PROCESSING", "",
             *sse_lines([{"choices": [{"index": 0, "delta": {"reasoning": "hmm"}}]},
                         {"choices": [{"index": 0, "delta": {"content": "ok"}, "finish_reason": "stop"}]}])]
    server.queue("/api/v1/chat/completions", FakeResponse(lines=lines))
    router = backend(OpenRouterBackend, server, "/api/v1")
    chunks = list(router.stream(ask()))
    assert "".join(c.content for c in chunks) == "ok" and chunks[0].reasoning == "hmm"
    broken = sse_lines([{"choices": [{"index": 0, "delta": {"content": "par"}}]},
                        {"error": {"code": "server_error", "message": "Provider returned error"},
                         "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}]}])
    server.queue("/api/v1/chat/completions", FakeResponse(lines=broken))
    with pytest.raises(StreamError, match="Provider returned error"):
        list(router.stream(ask()))


def test_openrouter_rate_limit_reset_is_epoch_milliseconds(server: FakeLLMServer) -> None:
    from purpose_agent_openrouter.backend import OpenRouterBackend

    reset_ms = int((time.time() + 30) * 1000)
    info = backend(OpenRouterBackend, server, "/api/v1").parse_rate_limit(
        {"x-ratelimit-remaining": "5", "x-ratelimit-reset": str(reset_ms)})
    assert info.requests_remaining == 5 and 28 < (info.reset_s or 0) <= 30


def test_deepseek_structured_output_uses_json_object_and_puts_schema_in_prompt(server: FakeLLMServer) -> None:
    from purpose_agent_deepseek.backend import DeepSeekBackend

    server.queue("/v1/chat/completions", FakeResponse(json_body={"choices": [{"message": {
        "content": '{"a": 1}', "reasoning_content": "because"}, "finish_reason": "stop"}]}))
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    response = backend(DeepSeekBackend, server).complete(ask(response_schema=schema))
    body = sent(server)
    assert body["response_format"] == {"type": "json_object"}
    assert body["messages"][0]["role"] == "system" and "json" in body["messages"][0]["content"]
    assert json.dumps(schema) in body["messages"][0]["content"]
    assert response.message.reasoning == "because"


def test_fireworks_expands_short_model_ids() -> None:
    from purpose_agent_fireworks.backend import FireworksBackend

    assert FireworksBackend("llama-v3p1-8b-instruct", api_key="k").model == "accounts/fireworks/models/llama-v3p1-8b-instruct"
    assert FireworksBackend("accounts/me/models/x", api_key="k").model == "accounts/me/models/x"


def test_together_lists_models_from_a_bare_list(server: FakeLLMServer) -> None:
    from purpose_agent_together.backend import TogetherBackend

    server.queue("/v1/models", FakeResponse(json_body=[{"id": "b-model"}, {"id": "a-model"}]))
    assert backend(TogetherBackend, server).list_models() == ["a-model", "b-model"]


def test_hf_router_keeps_the_provider_suffix_after_the_first_colon(server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch) -> None:

    import purpose_agent_hf
    from purpose_agent.testing import make_kernel

    monkeypatch.setenv("HF_TOKEN", "hf_x")
    kernel = make_kernel(purpose_agent_hf.plugin, config={"plugins": {"hf": {"base_url": server.url + "/v1"}}})
    hf = kernel.backend("hf:meta-llama/Llama-3.1-8B-Instruct:cerebras")
    hf.complete(ask())
    assert sent(server)["model"] == "meta-llama/Llama-3.1-8B-Instruct:cerebras"
    assert server.requests[-1].headers["Authorization"] == "Bearer hf_x"


# --------------------------------------------------------------------------- Ollama


def test_ollama_host_forms() -> None:
    assert ollama_url({}) == "http://127.0.0.1:11434"
    assert ollama_url({"OLLAMA_HOST": "0.0.0.0"}) == "http://127.0.0.1:11434"
    assert ollama_url({"OLLAMA_HOST": "gpu-box:9999"}) == "http://gpu-box:9999"
    assert ollama_url({"OLLAMA_HOST": "https://ollama.example/"}) == "https://ollama.example:11434"


def _ollama(server: FakeLLMServer, model: str = "qwen3:1.7b") -> Any:
    from purpose_agent_ollama.backend import OllamaBackend

    return OllamaBackend(model, environ={"OLLAMA_HOST": server.url})


def test_ollama_request_shape(server: FakeLLMServer) -> None:
    schema = {"type": "object"}
    server.queue("/api/chat", FakeResponse(json_body={"message": {"role": "assistant", "content": "{}"}, "done": True,
                                                      "prompt_eval_count": 9, "eval_count": 2}))
    history = [Message(role="user", content="x"),
               Message(role="assistant", tool_calls=[ToolCall(id="c", name="f", arguments={"a": 1})]),
               Message(role="tool", tool_call_id="c", name="f", content="done")]
    response = _ollama(server).complete(ChatRequest(messages=history, response_schema=schema, max_tokens=5,
                                                    temperature=0.1, tools=[ToolSpec(name="f")]))
    body = sent(server)
    assert body["format"] == schema and body["options"] == {"num_predict": 5, "temperature": 0.1}
    assert body["messages"][1]["tool_calls"] == [{"function": {"name": "f", "arguments": {"a": 1}}}]
    assert body["messages"][2]["tool_name"] == "f" and body["stream"] is False
    assert (response.usage.prompt_tokens, response.usage.completion_tokens, response.usage.cost_usd) == (9, 2, 0.0)


def test_ollama_ndjson_stream_with_thinking_and_tool_calls(server: FakeLLMServer) -> None:
    lines = [json.dumps(x) for x in [
        {"message": {"role": "assistant", "content": "", "thinking": "Let me see"}, "done": False},
        {"message": {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "get_time", "arguments": {"tz": "UTC"}}}]}, "done": False},
        {"message": {"role": "assistant", "content": ""}, "done": True, "done_reason": "stop", "prompt_eval_count": 12, "eval_count": 8},
    ]]
    server.queue("/api/chat", FakeResponse(lines=lines, content_type="application/x-ndjson"))
    chunks = list(_ollama(server).stream(ask()))
    assert chunks[0].reasoning == "Let me see"
    assert chunks[-1].tool_calls == [ToolCall(id="call_0", name="get_time", arguments={"tz": "UTC"})]
    assert chunks[-1].finish_reason == "tool_calls" and chunks[-1].usage.prompt_tokens == 12


def test_ollama_errors_and_truncation(server: FakeLLMServer) -> None:
    partial = [json.dumps({"message": {"content": "a"}, "done": False})]
    server.queue("/api/chat", FakeResponse(lines=[*partial, json.dumps({"error": "model runner crashed"})]))
    with pytest.raises(StreamError, match="model runner crashed"):
        list(_ollama(server).stream(ask()))
    server.queue("/api/chat", FakeResponse(lines=partial * 3))
    with pytest.raises(StreamError, match="without 'done: true'"):
        list(_ollama(server).stream(ask()))


def test_ollama_default_model_is_the_first_installed(server: FakeLLMServer) -> None:
    ollama = _ollama(server, model="")
    ollama.complete(ask())
    assert sent(server)["model"] == "fake-model:latest" and ollama.name == "ollama:fake-model:latest"
    assert ollama.health()[0] is True


# --------------------------------------------------------------------------- Anthropic


def _claude(server: FakeLLMServer, **kwargs: Any) -> Any:
    from types import SimpleNamespace

    from purpose_agent_anthropic.backend import AnthropicBackend

    settings = SimpleNamespace(max_retries=2, retry_base_delay=0.01, retry_max_delay=0.01, retry_max_wait=1, timeout=5,
                               connect_timeout=2, base_url=None, api_key_env=None, default_model=None, headers={}, prices={})
    return AnthropicBackend("claude-x", base_url=server.url + "/v1", api_key="sk-ant", settings=settings, **kwargs)


def test_anthropic_request_shape(server: FakeLLMServer) -> None:
    history = [
        Message(role="system", content="be brief"),
        Message(role="user", content="two lookups"),
        Message(role="assistant", content="ok", tool_calls=[ToolCall(id="t1", name="f", arguments={"a": 1}),
                                                           ToolCall(id="t2", name="f", arguments={"a": 2})]),
        Message(role="tool", tool_call_id="t1", content="r1"),
        Message(role="tool", tool_call_id="t2", content="r2"),
    ]
    _claude(server).complete(ChatRequest(messages=history, tools=[ToolSpec(name="f", description="d")], stop=["END"]))
    body, headers = sent(server), server.requests[-1].headers
    assert headers["x-api-key"] == "sk-ant" and headers["anthropic-version"] == "2023-06-01"
    assert body["system"] == "be brief" and body["max_tokens"] == 1024 and body["stop_sequences"] == ["END"]
    assert body["messages"][1]["content"] == [{"type": "text", "text": "ok"},
                                              {"type": "tool_use", "id": "t1", "name": "f", "input": {"a": 1}},
                                              {"type": "tool_use", "id": "t2", "name": "f", "input": {"a": 2}}]
    assert body["messages"][2] == {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "t1", "content": "r1"},
        {"type": "tool_result", "tool_use_id": "t2", "content": "r2"}]}
    assert body["tools"] == [{"name": "f", "description": "d", "input_schema": {"type": "object", "properties": {}}}]


def test_anthropic_streamed_tool_use_and_thinking(server: FakeLLMServer) -> None:
    events = [
        ("message_start", {"type": "message_start", "message": {"usage": {"input_tokens": 20, "output_tokens": 1}}}),
        ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "hmm"}}),
        ("ping", {"type": "ping"}),
        ("content_block_start", {"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "id": "toolu_1", "name": "get", "input": {}}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": '{"city": '}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": '"Paris"}'}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 1}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 15}}),
        ("message_stop", {"type": "message_stop"}),
    ]
    server.queue("/v1/messages", FakeResponse(lines=sse_lines(events, done=False)))
    chunks = list(_claude(server).stream(ask()))
    assert chunks[0].reasoning == "hmm"
    last = chunks[-1]
    assert last.tool_calls == [ToolCall(id="toolu_1", name="get", arguments={"city": "Paris"})]
    assert last.finish_reason == "tool_calls" and (last.usage.prompt_tokens, last.usage.completion_tokens) == (20, 15)


def test_anthropic_overloaded_529_is_retried_and_error_events_are_typed(server: FakeLLMServer) -> None:
    server.queue("/v1/messages", FakeResponse(status=529, json_body={"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}))
    assert _claude(server).complete(ask()).message.content == "hello"
    events = [("message_start", {"type": "message_start", "message": {"usage": {"input_tokens": 1}}}),
              ("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})]
    server.queue("/v1/messages", FakeResponse(lines=sse_lines(events, done=False)))
    with pytest.raises(ProviderUnavailableError, match="overloaded_error: Overloaded"):
        list(_claude(server).stream(ask()))


def test_anthropic_structured_output_through_a_forced_tool(server: FakeLLMServer) -> None:
    schema = {"type": "object", "properties": {"answer": {"type": "integer"}}}
    server.queue("/v1/messages", FakeResponse(json_body={
        "content": [{"type": "tool_use", "id": "toolu_9", "name": "respond", "input": {"answer": 4}}],
        "stop_reason": "tool_use", "usage": {"input_tokens": 5, "output_tokens": 3}}))
    response = _claude(server).complete(ask(response_schema=schema))
    assert json.loads(response.message.content) == {"answer": 4} and not response.message.tool_calls
    assert sent(server)["tool_choice"] == {"type": "tool", "name": "respond"}
    assert sent(server)["tools"][-1]["input_schema"] == schema


def test_anthropic_rate_limit_headers() -> None:
    from datetime import datetime, timedelta

    from purpose_agent_anthropic.backend import AnthropicBackend

    reset = (datetime.now(UTC) + timedelta(seconds=20)).isoformat().replace("+00:00", "Z")
    info = AnthropicBackend("m", api_key="k").parse_rate_limit({
        "anthropic-ratelimit-requests-remaining": "3", "anthropic-ratelimit-tokens-remaining": "900",
        "anthropic-ratelimit-requests-reset": reset})
    assert info.requests_remaining == 3 and info.tokens_remaining == 900 and 18 < (info.reset_s or 0) <= 20
