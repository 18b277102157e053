"""Built-in plugin ``cli``: the ``purpose-agent`` commands the kernel ships.

They register through ``register_commands`` exactly as a plugin's commands do, so ``--help``
lists them the same way, each with the plugin that provides it. Registering is cheap: a name and
a one-line description from the table below. A command's module under
:mod:`purpose_agent.cli` is imported only when that command is built to parse its arguments and
run, so ``--help`` imports none of them.

This plugin cannot be disabled or left out of an allowlist (``PURPOSE_AGENT_PLUGINS``,
``[kernel] plugins``): its commands are how a plugin is enabled again.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from purpose_agent.errors import PluginError, PurposeAgentError
from purpose_agent.hookspecs import hookimpl

if TYPE_CHECKING:
    import argparse

PURPOSE_AGENT_HOOK_API = "1.0"

#: The plugin id; ``discovery.ALWAYS_ENABLED`` names it.
PLUGIN_ID = "cli"

#: command word -> (module under ``purpose_agent.cli``, one-line description), in help order.
COMMANDS: dict[str, tuple[str, str]] = {
    "plugins": ("plugins_cmd", "list, inspect, enable, disable or create plugins"),
    "config": ("config_cmd", "show, locate or change configuration"),
    "doctor": ("doctor_cmd", "check plugins, config files, models and sandbox layers"),
    "hooks": ("hooks_cmd", "show the plugin hook reference"),
    "models": ("models_cmd", "list the models each installed provider serves"),
    "run": ("run_cmd", "run a task with a team, showing live progress"),
    "memory": ("memory_cmd", "inspect and curate memory items (list, promote, rollback, export …)"),
}

#: Commands of optional distributions the kernel does not ship: command word -> (plugin id, the
#: package that provides it). Only strings, never imported: when the word is not registered, the
#: CLI names the package to install instead of argparse's "invalid choice".
OPTIONAL_COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("demo", "purpose-agent-demo"),
    "generate": ("generate", "purpose-agent-generate"),
    "new-plugin": ("scaffold", "purpose-agent-scaffold"),
}


def optional_command_missing(kernel: Any, word: str, wanted: str) -> PurposeAgentError:
    """The error for ``wanted`` (what the user asked for, e.g. "the command 'demo'"), which needs
    the optional command ``word`` that is not registered: its plugin is disabled or broken (say
    why), or its package is not installed (say which to install)."""
    plugin_id, package = OPTIONAL_COMMANDS[word]
    record = kernel.records.get(plugin_id)
    if record is not None and record.reason:
        return PluginError(f"{wanted} needs plugin '{plugin_id}' ({package}), which is {record.status}: "
                           f"{record.reason}. 'purpose-agent plugins info {plugin_id}' shows its configuration.")
    return PluginError(f"{wanted} needs {package}, which is not installed: install it (pip install {package}) "
                       "and run the command again")


class ModuleCommand:
    """A built-in command whose arguments and actions are declared by one ``purpose_agent.cli``
    module: its ``add_arguments(parser)`` sets ``run`` (the action's function) as a default."""

    def __init__(self, module_name: str, help: str) -> None:
        self.module_name = module_name
        self.help = help
        self._parser: argparse.ArgumentParser | None = None

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        module = importlib.import_module(f"purpose_agent.cli.{self.module_name}")
        module.add_arguments(parser)
        self._parser = parser

    def run(self, args: argparse.Namespace) -> int:
        action: Callable[[argparse.Namespace], int | None] | None = getattr(args, "run", None)
        if action is None:  # a command with actions, given none (`purpose-agent plugins`): its help
            if self._parser is not None:
                self._parser.print_help()
            return 0
        return int(action(args) or 0)


def _factory(module_name: str, description: str) -> Callable[[Any], ModuleCommand]:
    return lambda context: ModuleCommand(module_name, description)


@hookimpl
def register_commands(register: Callable[..., None]) -> None:
    for name, (module_name, description) in COMMANDS.items():
        register(name, _factory(module_name, description), description=description)
