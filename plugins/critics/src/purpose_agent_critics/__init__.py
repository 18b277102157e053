"""Plugin ``critics``: three critics Φ(s) ∈ [0, 10] under one plugin id (TOML ``[plugins.critics]``).

- ``standard``: an LLM judge of the whole trajectory with anti-gaming rules
  (:mod:`purpose_agent_critics.standard`);
- ``delta``: the judge sees only what changed since the last scored state; Φ is cached per state
  and ``details["reward"]`` is Φ(s′) − Φ(s) (:mod:`purpose_agent_critics.delta`);
- ``falsification``: model-written assertions, checked against known-bad stubs, run in a sandbox;
  Φ = 10 × pass fraction (:mod:`purpose_agent_critics.falsification`).

Run-time options (``kernel.critic(name, backend=..., sandbox=...)``): ``backend`` is the judge;
without it, ``[plugins.critics] model`` names one. ``sandbox`` is for falsification; without the
option, ``[plugins.critics] sandbox`` may name a registered sandbox; with neither it refuses.

This module imports only the standard library and the hook markers; pydantic and the critics'
code load when a critic is first built.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from purpose_agent.hookspecs import hookimpl

PURPOSE_AGENT_HOOK_API = "1.0"

#: The plugin id (= entry-point name = TOML key); ``purpose_agent.testing.make_kernel`` reads it.
plugin_id = "critics"


@hookimpl
def settings_model() -> Any:
    from .settings import CriticSettings

    return CriticSettings


def _standard(context: Any) -> Any:
    from .judging import resolve_backend, settings_of
    from .standard import StandardCritic

    return StandardCritic(resolve_backend(context, "standard"), settings_of(context))


def _delta(context: Any) -> Any:
    from .delta import DeltaCritic
    from .judging import resolve_backend, settings_of

    return DeltaCritic(resolve_backend(context, "delta"), settings_of(context))


def _falsification(context: Any) -> Any:
    from .falsification import FalsificationCritic
    from .judging import resolve_backend, settings_of

    settings = settings_of(context)
    problem = ""
    if "sandbox" in context.options:
        sandbox = context.options["sandbox"]  # an explicit None means: the runtime has no sandbox
    elif settings.sandbox:
        from purpose_agent.errors import PurposeAgentError

        try:
            sandbox = context.kernel.sandbox(settings.sandbox)
        except PurposeAgentError as exc:
            sandbox, problem = None, f"[plugins.critics] sandbox = {settings.sandbox!r}: {exc}"
    else:
        sandbox = None
    return FalsificationCritic(resolve_backend(context, "falsification"), sandbox, settings, sandbox_problem=problem)


@hookimpl
def register_critics(register: Callable[..., None]) -> None:
    register("standard", _standard, description="LLM judge with anti-gaming rules; claims are not evidence")
    register("delta", _delta, description="LLM judge of what changed since the last scored state; flat prompt, reward = Φ(s′) − Φ(s)")
    register("falsification", _falsification, description="model-written assertions run in a sandbox; vacuous ones discarded")
