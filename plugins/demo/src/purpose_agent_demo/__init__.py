"""Plugin ``demo``: the learning demo, ``purpose-agent demo``.

A model attempts small Python functions over rounds (:mod:`purpose_agent_demo.suite`, graded by
hidden unit tests in the sandbox) and learns between them (:func:`purpose_agent_demo.demo.run_demo`).

This module imports only the hook markers, and the command's module only when the command is
built, so discovering the plugin and listing its command stay cheap; the demo loads when the command runs.
"""

from __future__ import annotations

from purpose_agent.hookspecs import register_lazily

PURPOSE_AGENT_HOOK_API = "1.0"

#: The plugin id (= entry-point name = TOML key); ``purpose_agent.testing.make_kernel`` reads it.
plugin_id = "demo"


register_commands = register_lazily("demo", "purpose_agent_demo.command:DemoCommand",
                                    description="the learning demo: a model solves coding tasks over rounds, learning between them")
