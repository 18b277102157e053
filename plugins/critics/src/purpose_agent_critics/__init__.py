"""Plugin ``critics``: critics Φ(s) ∈ [0, 10] under one plugin id (TOML ``[plugins.critics]``).

- ``standard``: an LLM judge of the whole trajectory with anti-gaming rules
  (:mod:`purpose_agent_critics.standard`);
- ``delta``: the judge sees only what changed since the last scored state; Φ is cached per state
  and ``details["reward"]`` is Φ(s′) − Φ(s) (:mod:`purpose_agent_critics.delta`);
- ``falsification``: model-written assertions, checked against known-bad stubs, run in a sandbox;
  Φ = 10 × pass fraction (:mod:`purpose_agent_critics.falsification`);
- ``reward`` and ``hidden-tests``: grounded critics that know the outcome (an environment reward
  in the trajectory; hidden assertions run in the sandbox) (:mod:`purpose_agent_critics.grounded`);
- ``calibrated``: wraps a model critic and a grounded one, records the model's scores next to the
  grounded outcomes, reports calibrated scores and prefers the grounded critic on task families
  where the model is unreliable (:mod:`purpose_agent_critics.calibrated`).

Command: ``purpose-agent critics calibration`` lists the recorded agreement per model and family.

Run-time options (``kernel.critic(name, backend=..., sandbox=...)``): ``backend`` is the judge;
without it, ``[plugins.critics] model`` names one. ``sandbox`` is for falsification; without the
option, ``[plugins.critics] sandbox`` may name a registered sandbox; with neither it refuses.

This module imports only the standard library and the hook markers; pydantic and the critics'
code load when a critic is first built.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from purpose_agent.hookspecs import hookimpl, lazy_settings, register_lazily

PURPOSE_AGENT_HOOK_API = "1.0"

#: The plugin id (= entry-point name = TOML key); ``purpose_agent.testing.make_kernel`` reads it.
plugin_id = "critics"


settings_model = lazy_settings("purpose_agent_critics.settings:CriticSettings")


def _standard(context: Any) -> Any:
    from .judging import resolve_backend, settings_of
    from .standard import StandardCritic

    return StandardCritic(resolve_backend(context, "standard"), settings_of(context))


def _delta(context: Any) -> Any:
    from .delta import DeltaCritic
    from .judging import resolve_backend, settings_of

    return DeltaCritic(resolve_backend(context, "delta"), settings_of(context))


def _sandbox_of(context: Any, settings: Any) -> tuple[Any, str]:
    """The sandbox the runtime passed, else the one ``[plugins.critics] sandbox`` names, else None;
    and why a named one could not be built."""
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
    return sandbox, problem


def _falsification(context: Any) -> Any:
    from .falsification import FalsificationCritic
    from .judging import resolve_backend, settings_of

    settings = settings_of(context)
    sandbox, problem = _sandbox_of(context, settings)
    return FalsificationCritic(resolve_backend(context, "falsification"), sandbox, settings, sandbox_problem=problem)


def _reward(context: Any) -> Any:
    from .grounded import RewardCritic

    return RewardCritic()


def _hidden_tests(context: Any) -> Any:
    from .grounded import HiddenTestsCritic
    from .judging import settings_of

    settings = settings_of(context)
    sandbox, problem = _sandbox_of(context, settings)
    return HiddenTestsCritic(context.options.get("tests"), sandbox, settings, sandbox_problem=problem)


#: Options the calibrated critic reads itself; every other option is passed on to the two critics it wraps.
_CALIBRATED_OPTIONS = ("critic", "grounded", "family", "calibration_path", "model_id")


def _calibrated(context: Any) -> Any:
    from purpose_agent.errors import PurposeAgentError

    from .calibrated import CalibratedCritic
    from .calibration_store import FILE_NAME, CalibrationStore
    from .judging import settings_of

    settings = settings_of(context)
    options = context.options
    passed_on = {k: v for k, v in options.items() if k not in _CALIBRATED_OPTIONS}

    def build(key: str, configured: str) -> Any:
        given = options.get(key)
        if given is not None and not isinstance(given, str):
            return given  # a critic object
        name = given or configured
        if name == "calibrated":
            raise PurposeAgentError(
                f"the calibrated critic cannot wrap itself as its {key} critic; set [plugins.critics] "
                f"{'calibrated_critic' if key == 'critic' else 'grounded_critic'} to another critic"
            )
        return context.kernel.critic(name, **passed_on)

    path = options.get("calibration_path") or settings.calibration_path or context.kernel.state_dir() / FILE_NAME
    return CalibratedCritic(build("critic", settings.calibrated_critic), build("grounded", settings.grounded_critic),
                            CalibrationStore(path), settings, family=options.get("family"),
                            emit=context.kernel.emit, model=options.get("model_id"))


@hookimpl
def register_critics(register: Callable[..., None]) -> None:
    register("standard", _standard, description="LLM judge with anti-gaming rules; claims are not evidence")
    register("delta", _delta, description="LLM judge of what changed since the last scored state; flat prompt, reward = Φ(s′) − Φ(s)")
    register("falsification", _falsification, description="model-written assertions run in a sandbox; vacuous ones discarded")
    register("reward", _reward, description="grounded: the environment's reward given with the trajectory (> 0 is success)")
    register("hidden-tests", _hidden_tests, description="grounded: hidden assertions (tests= option) run in the sandbox")
    register("calibrated", _calibrated,
             description="a model critic calibrated against grounded outcomes; the grounded critic where it is unreliable")


register_commands = register_lazily("critics", "purpose_agent_critics.calibration_cmd:CriticsCommand",
                                    description="critic calibration: agreement with grounded outcomes per model and task family")
