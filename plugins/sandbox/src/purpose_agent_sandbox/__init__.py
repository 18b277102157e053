"""Plugin ``sandbox``: run agent-written Python behind kernel-enforced isolation layers.

It plays three roles under one id (TOML key ``[plugins.sandbox]``):

- sandbox ``sandbox``: :class:`purpose_agent_sandbox.sandbox.BwrapSandbox`, a bubblewrap jail
  with a non-root uid, rlimits, seccomp, Landlock, a scrubbed environment, capped output and a
  wall-clock kill from the parent;
- tool ``python``: :class:`purpose_agent_sandbox.tool.PythonExecTool`, which runs the actor's
  code through that sandbox;
- command ``sandbox``: ``purpose-agent sandbox run FILE.py`` and ``purpose-agent sandbox layers``.

Python audit hooks are not used as a boundary anywhere here: PEP 578 says they are not a sandbox,
and they are bypassed from inside the interpreter. The boundary is the kernel. See
``docs/security.md`` for the threat model and the escape-test results.

This module imports only the standard library and the hook markers, so discovering the plugin
stays cheap; everything else is imported when a component is first built.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from purpose_agent.hookspecs import hookimpl, lazy, lazy_settings, register_lazily

PURPOSE_AGENT_HOOK_API = "1.0"

#: The plugin id (= entry-point name = TOML key); ``purpose_agent.testing.make_kernel`` reads it.
plugin_id = "sandbox"

#: The name the sandbox is registered under (also the plugin id, so lookups load only us).
SANDBOX_NAME = "sandbox"
#: The name of the tool the actor calls.
TOOL_NAME = "python"
#: The CLI subcommand word.
COMMAND_NAME = "sandbox"


settings_model = lazy_settings("purpose_agent_sandbox.settings:SandboxSettings")


def _tool_factory(context: Any) -> Any:
    from .sandbox import BwrapSandbox
    from .tool import PythonExecTool

    sandbox = BwrapSandbox.from_context(context)
    return PythonExecTool(sandbox, default_timeout=sandbox.settings.timeout_s)


@hookimpl
def register_sandboxes(register: Callable[..., None]) -> None:
    register(
        SANDBOX_NAME,
        lazy("purpose_agent_sandbox.sandbox:BwrapSandbox.from_context"),
        description="bubblewrap jail + non-root uid + rlimits + seccomp + Landlock; fails closed",
    )


@hookimpl
def register_tools(register: Callable[..., None]) -> None:
    register(TOOL_NAME, _tool_factory, description="run Python code in the sandbox and return its output")


register_commands = register_lazily(COMMAND_NAME, "purpose_agent_sandbox.command:SandboxCommand",
                                    description="run a Python file in the sandbox; list its layers")
