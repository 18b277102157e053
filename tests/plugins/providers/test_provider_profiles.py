"""The workspace's provider packages describe themselves through the ``backend_profiles`` hook:
the default chain and cost routing come out of the packages, in the order the kernel used to
hard-code (a key in the environment, provider by provider; a local Ollama; the embedded model)."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from purpose_agent.errors import PurposeAgentError
from purpose_agent.resolve import backend_profiles, resolve_backend
from purpose_agent.routing import order_specs
from purpose_agent.testing import make_kernel
from purpose_agent_http.testing import FakeLLMServer

#: Key providers, highest priority first, with the variable each reads.
KEYED = [("openai", "OPENAI_API_KEY"), ("anthropic", "ANTHROPIC_API_KEY"), ("groq", "GROQ_API_KEY"),
         ("openrouter", "OPENROUTER_API_KEY"), ("deepseek", "DEEPSEEK_API_KEY"), ("mistral", "MISTRAL_API_KEY"),
         ("together", "TOGETHER_API_KEY"), ("fireworks", "FIREWORKS_API_KEY"), ("cerebras", "CEREBRAS_API_KEY"),
         ("hf", "HF_TOKEN")]
NOBODY = "http://127.0.0.1:9"  # an Ollama address where nothing listens


def every_provider(config: dict[str, Any] | None = None) -> Any:
    plugins = {name: importlib.import_module(f"purpose_agent_{name}").plugin for name, _ in KEYED}
    plugins["ollama"] = importlib.import_module("purpose_agent_ollama").plugin
    plugins["llamacpp"] = importlib.import_module("purpose_agent_llamacpp")
    return make_kernel(plugins, config=config)


def test_each_key_wins_over_every_key_ranked_below_it() -> None:
    kernel = every_provider()
    for index, (name, variable) in enumerate(KEYED):
        environ = {var: "k" for _, var in KEYED[index:]} | {"OLLAMA_HOST": NOBODY}
        resolution = resolve_backend(None, kernel, environ=environ, fallback=False)
        assert (resolution.spec, resolution.source) == (f"{name}:", f"environment: {variable} is set")


def test_a_local_ollama_then_the_embedded_model(server: FakeLLMServer) -> None:
    kernel = every_provider()
    resolution = resolve_backend(None, kernel, environ={"OLLAMA_HOST": server.url}, fallback=False)
    assert resolution.spec == "ollama:" and resolution.source == f"a local Ollama answers at {server.url}"
    resolution = resolve_backend(None, kernel, environ={"OLLAMA_HOST": NOBODY}, fallback=False)
    assert resolution.spec == "llamacpp:" and "embedded" in resolution.source


def test_a_configured_key_variable_is_the_one_detected() -> None:
    kernel = every_provider({"plugins": {"groq": {"api_key_env": "MY_GROQ"}}})
    environ = {"MY_GROQ": "k", "OLLAMA_HOST": NOBODY}
    assert resolve_backend(None, kernel, environ=environ, fallback=False).source == "environment: MY_GROQ is set"
    assert resolve_backend(None, kernel, environ={"GROQ_API_KEY": "k", "OLLAMA_HOST": NOBODY}, fallback=False).spec == "llamacpp:"


def test_prices_come_from_the_packages_and_configuration() -> None:
    kernel = every_provider({"plugins": {"together": {"prices": {"cheap-model": [0.01, 0.01]}}}})
    profiles = backend_profiles(kernel)
    assert profiles["groq"].price_of("llama-3.1-8b-instant") == (0.05, 0.08)
    assert profiles["openai"].price_of("gpt-4o") == (2.5, 10.0)
    assert profiles["ollama"].local and profiles["llamacpp"].local
    specs = ["openai:gpt-4o", "together:cheap-model", "groq:llama-3.1-8b-instant", "hf:unpriced", "ollama:q"]
    assert order_specs(specs, "cheapest", profiles) == [
        "ollama:q", "together:cheap-model", "groq:llama-3.1-8b-instant", "openai:gpt-4o", "hf:unpriced"]
    assert order_specs(specs, "local-first", profiles)[0] == "ollama:q"


def test_models_command_lists_and_reports(server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from purpose_agent.cli import models_cmd

    monkeypatch.setenv("OLLAMA_HOST", server.url)
    kernel = make_kernel(importlib.import_module("purpose_agent_ollama").plugin)
    report = models_cmd.collect(None, kernel)
    entry = next(p for p in report["providers"] if p["provider"] == "ollama")
    assert entry["models"] == ["fake-model:latest", "qwen3:1.7b"] and entry["error"] is None
    assert report["default"] == {"spec": "ollama:", "source": f"a local Ollama answers at {server.url}"}
    with pytest.raises(PurposeAgentError, match="pip install purpose-agent-nosuch"):
        models_cmd.collect("nosuch", kernel)


def test_a_plugin_with_only_a_profile_is_a_backend_plugin_whose_profile_counts() -> None:
    # Roles are inferred from hooks: declaring a profile makes a plugin a backend plugin even
    # before (or without) it registers a backend, so its profile reaches the default chain.
    from purpose_agent.interfaces import BackendProfile
    from purpose_agent.testing import plugin

    profile_only = plugin("profiled", backend_profiles=lambda: [
        BackendProfile(name="profiled", priority=399, detect=lambda environ: "always", prices={"m": (0.0, 0.0)})])
    kernel = make_kernel(profile_only)
    assert "backend" in next(r for r in kernel.plugins() if r.id == "profiled").roles
    assert backend_profiles(kernel)["profiled"].priority == 399
