"""Default model resolution, the fallback chain and routing policies, all from the backend
plugins' profiles (the ``backend_profiles`` hook): the kernel knows no provider by name."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest

from purpose_agent.errors import (
    BadRequestError,
    MissingAPIKeyError,
    ProviderUnavailableError,
    PurposeAgentError,
    RateLimitError,
)
from purpose_agent.interfaces import BackendProfile
from purpose_agent.models import ChatRequest, Message
from purpose_agent.resolve import backend_profiles, resolve_backend
from purpose_agent.routing import FallbackBackend, order_specs
from purpose_agent.testing import ScriptedBackend, make_kernel, plugin

REQ = ChatRequest(messages=[Message(role="user", content="hi")])


def keyed(variable: str) -> Any:
    def detect(environ: Mapping[str, str]) -> str | None:
        return f"environment: {variable} is set" if environ.get(variable) else None

    return detect


def provider(name: str, *, priority: int = 0, detect: Any = None, local: bool = False,
             prices: dict[str, tuple[float, float]] | None = None, profiles: Any = "default") -> Any:
    """An in-memory backend plugin whose backend answers "ok", with a profile unless ``profiles=None``."""
    hooks: dict[str, Any] = {"register_backends": lambda register: register(
        name, lambda model, context: ScriptedBackend(["ok"], name=f"{name}:{model}", repeat_last=True))}
    if profiles == "default":
        profile = BackendProfile(name=name, priority=priority, detect=detect, local=local, prices=prices or {})
        hooks["backend_profiles"] = lambda: [profile]
    elif profiles is not None:
        hooks["backend_profiles"] = profiles
    return plugin(name, **hooks)


def machine(server_up: list[bool]) -> list[Any]:
    """Four providers as on a typical machine: two with keys, a local server, an embedded model."""
    return [
        provider("alpha", priority=390, detect=keyed("ALPHA_API_KEY"), prices={"big": (2.5, 10.0)}),
        provider("beta", priority=370, detect=keyed("BETA_API_KEY"), prices={"small": (0.05, 0.08)}),
        provider("server", priority=200, local=True,
                 detect=lambda environ: "a local server answers" if server_up[0] else None),
        provider("embedded", priority=100, local=True, detect=lambda environ: "the embedded model"),
    ]


def test_explicit_spec_is_split_on_the_first_colon() -> None:
    kernel = make_kernel(provider("ollama"))
    resolution = resolve_backend("ollama:qwen3:1.7b", kernel, environ={})
    assert resolution.backend.name == "ollama:qwen3:1.7b" and resolution.source == "given explicitly"


def test_order_is_config_then_the_highest_priority_usable_profile() -> None:
    up = [True]
    configured = make_kernel(*machine(up), config={"model": {"default": "beta:large"}})
    r = resolve_backend(None, configured, environ={"ALPHA_API_KEY": "x"})
    assert r.spec == "beta:large" and "[model] default" in r.source
    kernel = make_kernel(*machine(up))
    r = resolve_backend(None, kernel, environ={"BETA_API_KEY": "x", "ALPHA_API_KEY": "y"})
    assert r.spec == "alpha:" and r.source == "environment: ALPHA_API_KEY is set"
    r = resolve_backend(None, kernel, environ={"BETA_API_KEY": "x"})
    assert r.spec == "beta:" and r.source == "environment: BETA_API_KEY is set"
    r = resolve_backend(None, kernel, environ={})
    assert r.spec == "server:" and r.source == "a local server answers"
    up[0] = False
    r = resolve_backend(None, kernel, environ={})
    assert r.spec == "embedded:" and r.source == "the embedded model"


def test_a_slow_check_runs_only_when_nothing_ranked_above_it_is_usable() -> None:
    probed: list[str] = []

    def probe(environ: Mapping[str, str]) -> str | None:
        probed.append("server")
        return "a local server answers"

    kernel = make_kernel(provider("alpha", priority=390, detect=keyed("ALPHA_API_KEY")),
                         provider("server", priority=200, detect=probe))
    assert resolve_backend(None, kernel, environ={"ALPHA_API_KEY": "x"}).spec == "alpha:"
    assert probed == []
    assert resolve_backend(None, kernel, environ={}).spec == "server:"
    assert probed == ["server"]


def test_a_key_for_a_provider_that_is_not_installed_is_ignored() -> None:
    kernel = make_kernel(provider("embedded", priority=100, detect=lambda environ: "embedded"))
    assert resolve_backend(None, kernel, environ={"ALPHA_API_KEY": "x"}).spec == "embedded:"


def test_a_backend_without_a_profile_is_never_the_default() -> None:
    kernel = make_kernel(provider("mute", profiles=None), provider("zero", priority=0, detect=lambda environ: "here"))
    with pytest.raises(PurposeAgentError, match="no model available"):
        resolve_backend(None, kernel, environ={})


def test_a_disabled_provider_takes_no_part() -> None:
    kernel = make_kernel(*machine([False]), config={"plugins": {"alpha": {"enabled": False}}})
    assert resolve_backend(None, kernel, environ={"ALPHA_API_KEY": "x"}).spec == "embedded:"


def test_a_broken_profile_hook_or_detector_is_reported_and_the_others_still_count() -> None:
    def explode() -> None:
        raise RuntimeError("profiles exploded")

    def bad_detect(environ: Mapping[str, str]) -> str | None:
        raise OSError("probe exploded")

    kernel = make_kernel(provider("broken", profiles=explode),
                         provider("wrong", profiles=lambda: "not a list"),
                         provider("flaky", priority=300, detect=bad_detect),
                         provider("embedded", priority=100, detect=lambda environ: "embedded"))
    assert resolve_backend(None, kernel, environ={}).spec == "embedded:"
    records = {r.id: r for r in kernel.plugins()}
    assert records["broken"].status == "failed" and "profiles exploded" in records["broken"].reason
    assert any("not a list of purpose_agent.interfaces.BackendProfile" in w for w in records["wrong"].warnings)
    assert any("probe exploded" in w for w in records["flaky"].warnings)


def test_nothing_available_says_what_to_install() -> None:
    with pytest.raises(PurposeAgentError, match="pip install purpose-agent-llamacpp"):
        resolve_backend(None, make_kernel(), environ={})


def test_configured_fallback_chain_is_built_and_ordered_by_the_profiles() -> None:
    kernel = make_kernel(*machine([False]), config={"model": {
        "default": "alpha:big", "fallback": ["embedded:", "server:q"], "routing": "local-first"}})
    r = resolve_backend(None, kernel, environ={})
    assert isinstance(r.backend, FallbackBackend)
    assert [b.name for b in r.backend.backends] == ["embedded:", "server:q", "alpha:big"]
    assert r.spec == "embedded: -> server:q -> alpha:big"
    cheapest = make_kernel(*machine([False]), config={"model": {
        "default": "alpha:big", "fallback": ["beta:small", "beta:unpriced", "server:q"], "routing": "cheapest"}})
    assert resolve_backend(None, cheapest, environ={}).spec == "server:q -> beta:small -> alpha:big -> beta:unpriced"


def test_routing_policies() -> None:
    profiles = backend_profiles(make_kernel(*machine([False])))
    specs = ["alpha:big", "unknown:model", "beta:small", "server:q"]
    assert order_specs(specs, "cheapest", profiles) == ["server:q", "beta:small", "alpha:big", "unknown:model"]
    assert order_specs(specs, "local-first", profiles)[0] == "server:q"
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
