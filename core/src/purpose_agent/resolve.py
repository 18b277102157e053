"""Which model to use: an explicit ``provider:model``, or the best default this machine has.

Order when no model is given:

1. configuration: ``[model] default = "provider:model"``;
2. the default chain: every enabled backend plugin describes its backends through the
   ``backend_profiles`` hook (a priority, and ``detect(environ)``: is a key in the environment, is
   a local server up?); the usable backend with the highest priority wins. The kernel knows no
   provider by name, so a third-party provider competes on the same terms as ours.

``[model] fallback = [...]`` wraps the choice in a :class:`~purpose_agent.routing.FallbackBackend`,
ordered by ``[model] routing`` with the same profiles (``local``, ``prices``). The answer says
where the choice came from, so ``doctor`` and ``models`` can tell the user why a run used the
model it used.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import ConfigError, PurposeAgentError

if TYPE_CHECKING:
    from .interfaces import BackendProfile
    from .kernel import Kernel


@dataclass
class Resolution:
    """The chosen backend, its ``provider:model`` spec, and why it was chosen."""

    backend: Any
    spec: str
    source: str


def backend_profiles(kernel: Kernel) -> dict[str, BackendProfile]:
    """Every enabled backend plugin's profiles by backend name (a plugin whose hook raises is
    reported as failed and left out; a malformed answer likewise)."""
    from .interfaces import BackendProfile

    kernel.ensure_role("backend")
    profiles: dict[str, BackendProfile] = {}
    for plugin_id, answer in kernel.call_each("backend_profiles"):
        items = answer or []
        if not isinstance(items, list) or not all(isinstance(p, BackendProfile) for p in items):
            record = kernel.records[plugin_id]
            record.warnings.append(
                f"its backend_profiles hook returned {type(answer).__name__}, not a list of "
                "purpose_agent.interfaces.BackendProfile; it takes no part in choosing the default model"
            )
            continue
        for profile in items:
            profiles.setdefault(profile.name, profile)
    return profiles


def resolve_backend(
    spec: str | None = None,
    kernel: Kernel | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    fallback: bool = True,
) -> Resolution:
    """Build the backend for ``spec``, or pick the default as described in the module docstring.

    ``spec`` is split on its first colon (``ollama:qwen3:1.7b`` is provider ``ollama``, model
    ``qwen3:1.7b``); an empty model means the provider's default model.
    """
    if kernel is None:
        from .kernel import Kernel

        kernel = Kernel.load()
    env = os.environ if environ is None else environ
    chosen, source = _choose(spec, kernel, env)
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
        candidates = [chosen, *[s for s in chain if s != chosen]]
        ordered = order_specs(candidates, policy, backend_profiles(kernel) if policy != "in-order" else {})
        backends = [backend if s == chosen else kernel.backend(s) for s in ordered]
        return Resolution(FallbackBackend(backends), " -> ".join(ordered), f"{source}; fallback chain ({policy})")
    return Resolution(backend, chosen, source)


def _choose(spec: str | None, kernel: Kernel, env: Mapping[str, str]) -> tuple[str, str]:
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
    ranked = sorted(backend_profiles(kernel).values(), key=lambda p: (-p.priority, p.name))
    for profile in ranked:
        if profile.detect is None or profile.priority <= 0:
            continue
        try:
            reason = profile.detect(env)
        except Exception as exc:  # one provider's broken check must not hide the others
            record = kernel.records.get(profile.name)
            if record is not None:
                record.warnings.append(f"detecting backend '{profile.name}' raised {type(exc).__name__}: {exc}")
            continue
        if reason:
            return f"{profile.name}:", reason
    raise PurposeAgentError(
        "no model available: no [model] default in the configuration, and no installed backend is usable "
        "here (no provider API key in the environment, e.g. OPENAI_API_KEY or GROQ_API_KEY; no local "
        "server answering). Install one: pip install purpose-agent-llamacpp (local, no key) or a "
        "provider package such as purpose-agent-groq, then run 'purpose-agent models'."
    )
