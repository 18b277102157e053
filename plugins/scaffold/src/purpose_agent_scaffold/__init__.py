"""Plugin ``scaffold``: ``purpose-agent new-plugin NAME --role ROLE`` (and ``purpose-agent plugins
new``, which runs it), a plugin package that works on day one.

The templates are :mod:`purpose_agent_scaffold.templates`; :func:`create_plugin_package` and
:data:`ROLES_WITH_TEMPLATES` are re-exported here. This module imports only the hook markers, so
discovering the plugin stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from purpose_agent.hookspecs import hookimpl

if TYPE_CHECKING:
    from .templates import ROLES_WITH_TEMPLATES, create_plugin_package

PURPOSE_AGENT_HOOK_API = "1.0"

#: The plugin id (= entry-point name = TOML key); ``purpose_agent.testing.make_kernel`` reads it.
plugin_id = "scaffold"

#: The CLI subcommand word; ``purpose-agent plugins new`` runs the command registered under it.
COMMAND_NAME = "new-plugin"

__all__ = ["COMMAND_NAME", "PURPOSE_AGENT_HOOK_API", "ROLES_WITH_TEMPLATES", "create_plugin_package", "plugin_id"]


def __getattr__(name: str) -> Any:
    if name in ("ROLES_WITH_TEMPLATES", "create_plugin_package"):
        from . import templates

        value = getattr(templates, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'purpose_agent_scaffold' has no attribute '{name}'")


def _command_factory(context: Any) -> Any:
    from .command import NewPluginCommand

    return NewPluginCommand()


@hookimpl
def register_commands(register: Callable[..., None]) -> None:
    register(COMMAND_NAME, _command_factory, description="create a plugin package for a role from the template")
