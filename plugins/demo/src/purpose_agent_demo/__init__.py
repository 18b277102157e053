"""Plugin ``demo``: the learning demo, ``purpose-agent demo``.

A model attempts small Python functions over rounds (:mod:`purpose_agent_demo.suite`, graded by
hidden unit tests in the sandbox) and learns between them (:mod:`purpose_agent_demo.demo`).
:func:`run_demo` is re-exported here.

This module imports only the hook markers, so discovering the plugin stays cheap; the demo and its
suite load when the command is built or :func:`run_demo` is first used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from purpose_agent.hookspecs import hookimpl

if TYPE_CHECKING:
    from .demo import run_demo

PURPOSE_AGENT_HOOK_API = "1.0"

#: The plugin id (= entry-point name = TOML key); ``purpose_agent.testing.make_kernel`` reads it.
plugin_id = "demo"

#: The CLI subcommand word.
COMMAND_NAME = "demo"

__all__ = ["COMMAND_NAME", "PURPOSE_AGENT_HOOK_API", "plugin_id", "run_demo"]


def __getattr__(name: str) -> Any:
    if name == "run_demo":
        from .demo import run_demo

        globals()[name] = run_demo
        return run_demo
    raise AttributeError(f"module 'purpose_agent_demo' has no attribute '{name}'")


def _command_factory(context: Any) -> Any:
    from .command import DemoCommand

    return DemoCommand()


@hookimpl
def register_commands(register: Callable[..., None]) -> None:
    register(COMMAND_NAME, _command_factory,
             description="the learning demo: a model solves coding tasks over rounds, learning between them")
