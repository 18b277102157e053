"""Default model resolution, the fallback chain and routing policies."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from purpose_agent.errors import PurposeAgentError
from purpose_agent.llm.errors import BadRequestError, MissingAPIKeyError, ProviderUnavailableError, RateLimitError
from purpose_agent.llm.fakeserver import FakeLLMServer
from purpose_agent.llm.resolve import resolve_backend
from purpose_agent.llm.routing import FallbackBackend, order_specs
from purpose_agent.models import ChatRequest, Message
from purpose_agent.testing import ScriptedBackend, make_kernel, plugin

REQ = ChatRequest(messages=[Message(role="user", content="hi")])


def providers(*names: str) -> list[Any]:
    def make(name: str) -> Any:
        return plugin(name, register_backends=lambda register: register(
            name, lambda model, context: ScriptedBackend(["ok"], name=f"{name}:{model}", repeat_last=True)))

    return [make(n) for n in names]


def test_explicit_spec_is_split_on_the_first_colon() -> None:
    kernel = make_kernel(*providers("ollama"))
    resolution = resolve_backend("ollama:qwen3:1.7b", kernel, environ={})
    assert resolution.backend.name == "ollama:qwen3:1.7b" and resolution.source == "given explicitly"


def test_order_config_then_key_then_ollama_then_embedded(server: FakeLLMServer) -> None:
    names = ("groq", "openai", "ollama", "llamacpp")
    configured = make_kernel(*providers(*names), config={"model": {"default": "groq:llama-3.3-70b-versatile"}})
    r = resolve_backend(None, configured, environ={"OPENAI_API_KEY": "x"})
    assert r.spec == "groq:llama-3.3-70b-versatile" and "[model] default" in r.source
    kernel = make_kernel(*providers(*names))
    r = resolve_backend(None, kernel, environ={"GROQ_API_KEY": "x", "OPENAI_API_KEY": "y"})
    assert r.spec == "openai:" and r.source == "environment: OPENAI_API_KEY is set"
    r = resolve_backend(None, kernel, environ={"OLLAMA_HOST": server.url})
    assert r.spec == "ollama:" and server.url in r.source
    r = resolve_backend(None, kernel, environ={"OLLAMA_HOST": "127.0.0.1:9"}, ollama_timeout=0.2)
    assert r.spec == "llamacpp:" and "embedded" in r.source


def test_a_key_for_an_uninstalled_provider_is_ignored() -> None:
    kernel = make_kernel(*providers("llamacpp"))
    r = resolve_backend(None, kernel, environ={"GROQ_API_KEY": "x", "OLLAMA_HOST": "127.0.0.1:9"}, ollama_timeout=0.2)
    assert r.spec == "llamacpp:"


def test_nothing_available_says_what_to_install() -> None:
    with pytest.raises(PurposeAgentError, match="pip install purpose-agent-llamacpp"):
        resolve_backend(None, make_kernel(), environ={})


def test_configured_fallback_chain_is_built_and_ordered() -> None:
    kernel = make_kernel(*providers("groq", "ollama", "llamacpp"), config={"model": {
        "default": "groq:x", "fallback": ["llamacpp:", "ollama:q"], "routing": "local-first"}})
    r = resolve_backend(None, kernel, environ={})
    assert isinstance(r.backend, FallbackBackend)
    assert [b.name for b in r.backend.backends] == ["llamacpp:", "ollama:q", "groq:x"]
    assert r.spec == "llamacpp: -> ollama:q -> groq:x"


def test_routing_policies() -> None:
    specs = ["openai:gpt-4o", "unknown:model", "groq:llama-3.1-8b-instant", "ollama:q"]
    assert order_specs(specs, "cheapest") == ["ollama:q", "groq:llama-3.1-8b-instant", "openai:gpt-4o", "unknown:model"]
    assert order_specs(specs, "local-first")[0] == "ollama:q"
    assert order_specs(specs) == specs
    with pytest.raises(ValueError, match="local-first"):
        order_specs(specs, "fastest")


class Failing:
    def __init__(self, name: str, error: Exception) -> None:
        self.name, self.error, self.calls = name, error, 0

    def complete(self, request: ChatRequest) -> Any:
        self.calls += 1
        raise self.error

    async def acomplete(self, request: ChatRequest) -> Any:
        return self.complete(request)

    def stream(self, request: ChatRequest) -> Any:
        self.calls += 1
        raise self.error
        yield  # pragma: no cover

    async def astream(self, request: ChatRequest) -> Any:
        raise self.error
        yield  # pragma: no cover


def test_fallback_moves_on_after_outage_rate_limit_or_missing_key() -> None:
    down = Failing("a:1", ProviderUnavailableError("a down", provider="a"))
    limited = Failing("b:1", RateLimitError("b", 3, 2.0, "quota"))
    nokey = Failing("c:1", MissingAPIKeyError("c", "C_KEY"))
    good = ScriptedBackend(["from d"], name="d:1", repeat_last=True)
    chain = FallbackBackend([down, limited, nokey, good])
    assert chain.complete(REQ).message.content == "from d" and chain.last_used is good
    assert asyncio.run(chain.acomplete(REQ)).message.content == "from d"
    assert "".join(c.content for c in chain.stream(REQ)) == "from d"


def test_fallback_does_not_hide_a_rejected_request() -> None:
    bad = Failing("a:1", BadRequestError("a: the request was rejected", provider="a"))
    good = ScriptedBackend(["x"], name="b:1")
    with pytest.raises(BadRequestError):
        FallbackBackend([bad, good]).complete(REQ)
    assert not good.requests


def test_fallback_exhausted_lists_every_failure() -> None:
    chain = FallbackBackend([Failing("a:1", ProviderUnavailableError("a is down", provider="a")),
                             Failing("b:1", RateLimitError("b", 3, None, "quota"))])
    with pytest.raises(ProviderUnavailableError, match=r"every backend in the fallback chain failed \(2\): a:1: a is down; b:1: b: rate limited"):
        chain.complete(REQ)


def test_models_command_lists_and_reports(capsys: pytest.CaptureFixture[str], server: FakeLLMServer,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse
    import json

    from purpose_agent.cli import models_cmd

    monkeypatch.setenv("OLLAMA_HOST", server.url)
    parser = argparse.ArgumentParser()
    models_cmd.add_parser(parser.add_subparsers(), "models")
    kernel = make_kernel(__import__("purpose_agent_ollama").plugin)
    monkeypatch.setattr("purpose_agent.kernel.Kernel.load", classmethod(lambda cls, *a, **k: kernel))
    args = parser.parse_args(["models", "--json"])
    assert args.run(args) == 0
    report = json.loads(capsys.readouterr().out)
    entry = next(p for p in report["providers"] if p["provider"] == "ollama")
    assert entry["models"] == ["fake-model:latest", "qwen3:1.7b"] and entry["error"] is None
    with pytest.raises(PurposeAgentError, match="pip install purpose-agent-nosuch"):
        models_cmd.collect("nosuch", kernel)
