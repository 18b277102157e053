"""purpose-agent: a self-improving agent framework built from plugins.

``import purpose_agent as pa`` is cheap: names are imported on first use, so a CLI start or a
plugin that only needs :mod:`purpose_agent.hookspecs` does not pay for pydantic.
"""

from __future__ import annotations

from .version import __version__

# `typing` costs more to import than the rest of this module; type checkers treat this constant
# as True, the interpreter never runs the block.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .config import Config, load_config
    from .errors import (
        ConfigError,
        MemoryWriteVetoed,
        PluginError,
        PurposeAgentError,
        SandboxUnavailable,
        UnknownComponentError,
    )
    from .hookspecs import HOOK_API_VERSION, hookimpl
    from .interfaces import WorkerSpec
    from .kernel import Kernel
    from .learning.extraction import RunRecord
    from .learning.learner import Learner
    from .resolve import resolve_backend
    from .runtime.agents import (
        DeferredBackend,
        LessonRejected,
        Spark,
        Team,
        add_team_arguments,
        purpose,
        team_from_arguments,
    )
    from .runtime.events import EventBus
    from .runtime.flow import BEGIN, DONE_SIGNAL, Council, Flow, aswarm, resolve_worker, swarm
    from .runtime.knowledge import Vault
    from .runtime.loop import Budget, Runner, run_sync
    from .runtime.tools import tool

# public name -> module that defines it
_LAZY: dict[str, str] = {
    "Kernel": "purpose_agent.kernel",
    "load_config": "purpose_agent.config",
    "Config": "purpose_agent.config",
    "hookimpl": "purpose_agent.hookspecs",
    "HOOK_API_VERSION": "purpose_agent.hookspecs",
    "PurposeAgentError": "purpose_agent.errors",
    "ConfigError": "purpose_agent.errors",
    "PluginError": "purpose_agent.errors",
    "UnknownComponentError": "purpose_agent.errors",
    "MemoryWriteVetoed": "purpose_agent.errors",
    "SandboxUnavailable": "purpose_agent.errors",
    "models": "purpose_agent.models",
    "purpose": "purpose_agent.runtime.agents",
    "Team": "purpose_agent.runtime.agents",
    "Spark": "purpose_agent.runtime.agents",
    "LessonRejected": "purpose_agent.runtime.agents",
    "DeferredBackend": "purpose_agent.runtime.agents",
    "add_team_arguments": "purpose_agent.runtime.agents",
    "team_from_arguments": "purpose_agent.runtime.agents",
    "Flow": "purpose_agent.runtime.flow",
    "BEGIN": "purpose_agent.runtime.flow",
    "DONE_SIGNAL": "purpose_agent.runtime.flow",
    "swarm": "purpose_agent.runtime.flow",
    "aswarm": "purpose_agent.runtime.flow",
    "resolve_worker": "purpose_agent.runtime.flow",
    "WorkerSpec": "purpose_agent.interfaces",
    "Council": "purpose_agent.runtime.flow",
    "tool": "purpose_agent.runtime.tools",
    "Vault": "purpose_agent.runtime.knowledge",
    "Budget": "purpose_agent.runtime.loop",
    "Runner": "purpose_agent.runtime.loop",
    "Learner": "purpose_agent.learning.learner",
    "RunRecord": "purpose_agent.learning.extraction",
    "run_sync": "purpose_agent.runtime.loop",
    "EventBus": "purpose_agent.runtime.events",
    "resolve_backend": "purpose_agent.resolve",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'purpose_agent' has no attribute '{name}'")
    import importlib  # not imported at interpreter start; only pay for it on first lazy access

    module = importlib.import_module(module_name)
    value = module if module_name.endswith("." + name) else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
