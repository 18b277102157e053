"""Plugin ``generate``: the system generator, and its command ``purpose-agent generate``.

A use case in a sentence becomes a validated, repaired :class:`SystemSpec`, written as a project
(``purpose-agent.toml`` with a ``[system]`` table, and ``system.py``) that ``purpose-agent run``
and ``python system.py`` execute. The generator itself is :mod:`purpose_agent_generate.system`;
its public names are re-exported here::

    from purpose_agent_generate import generate, write_project, load_project

This module imports only the hook markers, and the command's module only when the command is
built, so discovering the plugin and listing its command stay cheap; pydantic and the generator load when a name is first
used or the command runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from purpose_agent.hookspecs import register_lazily

if TYPE_CHECKING:
    from .system import (
        AgentSpec,
        EdgeSpec,
        EvalCase,
        EvaluationReport,
        GeneratedSystem,
        GeneratorError,
        MissingTool,
        RoutingPolicy,
        SystemResult,
        SystemSpec,
        check_project_directory,
        generate,
        load_project,
        proposal_schema,
        repair,
        spec_from_table,
        write_project,
    )

PURPOSE_AGENT_HOOK_API = "1.0"

#: The plugin id (= entry-point name = TOML key); ``purpose_agent.testing.make_kernel`` reads it.
plugin_id = "generate"

#: The CLI subcommand word.
COMMAND_NAME = "generate"

__all__ = [
    "COMMAND_NAME", "PURPOSE_AGENT_HOOK_API", "AgentSpec", "EdgeSpec", "EvalCase", "EvaluationReport", "GeneratedSystem",
    "GeneratorError", "MissingTool", "RoutingPolicy", "SystemResult", "SystemSpec", "check_project_directory",
    "generate", "load_project", "plugin_id", "proposal_schema", "repair", "spec_from_table", "write_project",
]

#: The generator's public names, defined in :mod:`purpose_agent_generate.system`.
_PUBLIC = frozenset(__all__) - {"COMMAND_NAME", "PURPOSE_AGENT_HOOK_API", "plugin_id"}


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        from . import system

        value = getattr(system, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'purpose_agent_generate' has no attribute '{name}'")


register_commands = register_lazily(COMMAND_NAME, "purpose_agent_generate.command:GenerateCommand",
                                    description="a runnable multi-agent system from a sentence, written as a project")
