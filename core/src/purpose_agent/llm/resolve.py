"""Which model to use: an explicit ``provider:model``, or the best default this machine has.

Order when no model is given:

1. configuration: ``[model] default = "provider:model"``;
2. an API key in the environment, provider by provider (:data:`KEY_ENVIRONMENT`), for providers
   whose plugin is installed and enabled;
3. a local Ollama that answers on ``OLLAMA_HOST`` (default ``http://127.0.0.1:11434``) within a
   short timeout;
4. the embedded local model (``llamacpp:``), which needs no setup but is weak.

``[model] fallback = [...]`` wraps the choice in a :class:`~purpose_agent.llm.routing.FallbackBackend`
(ordered by ``[model] routing``). The answer says where the choice came from, so ``doctor`` and
``models`` can tell the user why a run used the model it used.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, PurposeAgentError

if TYPE_CHECKING:
    from ..kernel import Kernel

#: Providers with a key variable, in the order a present key is preferred.
KEY_ENVIRONMENT: tuple[tuple[str, str], ...] = (
    ("openai", "OPENAI_API_KEY"),
    ("anthropic", "ANTHROPIC_API_KEY"),
    ("groq", "GROQ_API_KEY"),
    ("openrouter", "OPENROUTER_API_KEY"),
    ("deepseek", "DEEPSEEK_API_KEY"),
    ("mistral", "MISTRAL_API_KEY"),
    ("together", "TOGETHER_API_KEY"),
    ("fireworks", "FIREWORKS_API_KEY"),
    ("cerebras", "CEREBRAS_API_KEY"),
    ("hf", "HF_TOKEN"),
)

DEFAULT_OLLAMA_HOST = "http://127.0.0.1:11434"


@dataclass
class Resolution:
    """The chosen backend, its ``provider:model`` spec, and why it was chosen."""

    backend: Any
    spec: str
    source: str


def ollama_url(environ: Mapping[str, str] | None = None) -> str:
    """The Ollama base URL from ``OLLAMA_HOST`` (which may lack a scheme or a port)."""
    env = os.environ if environ is None else environ
    host = (env.get("OLLAMA_HOST") or DEFAULT_OLLAMA_HOST).strip().rstrip("/")
    if "://" not in host:
        host = "http://" + host
    scheme, _, rest = host.partition("://")
    if ":" not in rest.split("/", 1)[0]:
        rest = rest.replace("/", ":11434/", 1) if "/" in rest else rest + ":11434"
    return f"{scheme}://{rest}".replace("://0.0.0.0", "://127.0.0.1")


def ollama_answers(url: str, timeout: float = 0.5) -> bool:
    """Whether an Ollama server answers ``GET /api/tags`` at ``url`` within ``timeout`` seconds."""
    import httpx

    try:
        response = httpx.get(f"{url}/api/tags", timeout=httpx.Timeout(timeout))
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def _usable(kernel: Kernel, provider: str) -> bool:
    record = kernel.records.get(provider)
    if record is not None and record.status in ("available", "ok") and "backend" in record.roles:
        return True
    # in-memory or differently named plugins: only if already registered (no imports here)
    return provider in kernel._registries.get("backend", {})


def resolve_backend(
    spec: str | None = None,
    kernel: Kernel | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    ollama_timeout: float = 0.5,
    fallback: bool = True,
) -> Resolution:
    """Build the backend for ``spec``, or pick the default as described in the module docstring.

    ``spec`` is split on its first colon (``ollama:qwen3:1.7b`` is provider ``ollama``, model
    ``qwen3:1.7b``); an empty model means the provider's default model.
    """
    if kernel is None:
        from ..kernel import Kernel

        kernel = Kernel.load()
    env = os.environ if environ is None else environ
    chosen, source = _choose(spec, kernel, env, ollama_timeout)
    backend = kernel.backend(chosen)
    chain = kernel.config.get("model.fallback") if fallback else None
    if chain:
        if not isinstance(chain, list) or not all(isinstance(s, str) for s in chain):
            raise ConfigError(
                f"[model] fallback ({kernel.config.source_of('model.fallback')}) must be a list of "
                "'provider:model' strings"
            )
        from .routing import FallbackBackend, order_specs

        policy = kernel.config.get("model.routing", "in-order")
        ordered = order_specs([chosen, *[s for s in chain if s != chosen]], policy)
        backends = [backend if s == chosen else kernel.backend(s) for s in ordered]
        return Resolution(FallbackBackend(backends), " -> ".join(ordered), f"{source}; fallback chain ({policy})")
    return Resolution(backend, chosen, source)


def _choose(spec: str | None, kernel: Kernel, env: Mapping[str, str], ollama_timeout: float) -> tuple[str, str]:
    if spec:
        return (spec if ":" in spec else spec + ":"), "given explicitly"
    configured = kernel.config.get("model.default")
    if configured:
        if not isinstance(configured, str) or not configured.partition(":")[0]:
            raise ConfigError(
                f"[model] default ({kernel.config.source_of('model.default')}) must be a 'provider:model' "
                f"string, not {configured!r}"
            )
        return configured, f"configuration [model] default ({kernel.config.source_of('model.default')})"
    for provider, variable in KEY_ENVIRONMENT:
        if env.get(variable) and _usable(kernel, provider):
            return f"{provider}:", f"environment: {variable} is set"
    if _usable(kernel, "ollama"):
        url = ollama_url(env)
        if ollama_answers(url, ollama_timeout):
            return "ollama:", f"a local Ollama answers at {url}"
    if _usable(kernel, "llamacpp"):
        return "llamacpp:", "the embedded local model (no key, no config, no Ollama found)"
    raise PurposeAgentError(
        "no model available: no [model] default in the configuration, no provider API key in the "
        "environment (e.g. OPENAI_API_KEY, GROQ_API_KEY), no Ollama answering, and no local model "
        "plugin. Install one: pip install purpose-agent-llamacpp (local, no key) or a provider "
        "package such as purpose-agent-groq, then run 'purpose-agent models'."
    )
