"""Plugin ``scaffold``: ``purpose-agent new-plugin NAME --role ROLE`` (and ``purpose-agent plugins
new``, which runs it), a plugin package that works on day one.

The templates are files in the package's ``templates/`` directory, read by
:mod:`purpose_agent_scaffold.templates` when a package is generated; :func:`create_plugin_package`
and :data:`ROLES_WITH_TEMPLATES` are its public API. Importing it costs the hook markers and a
tuple of role names, nothing more.
"""

from __future__ import annotations

from purpose_agent.hookspecs import register_lazily

from .command import NewPluginCommand
from .templates import ROLES_WITH_TEMPLATES, create_plugin_package

PURPOSE_AGENT_HOOK_API = "1.0"

#: The plugin id (= entry-point name = TOML key); ``purpose_agent.testing.make_kernel`` reads it.
plugin_id = "scaffold"

__all__ = ["PURPOSE_AGENT_HOOK_API", "ROLES_WITH_TEMPLATES", "NewPluginCommand", "create_plugin_package", "plugin_id"]


# `purpose-agent plugins new` runs this command (the kernel's OPTIONAL_COMMANDS names it).
register_commands = register_lazily("new-plugin", "purpose_agent_scaffold.command:NewPluginCommand",
                                    description="create a plugin package for a role from the template")
