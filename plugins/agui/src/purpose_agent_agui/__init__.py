"""Plugin ``agui``: stream a team's runs to a frontend as AG-UI 1.0 events, with a live web page.

Command ``ui``: ``purpose-agent ui [--port P]`` serves an AG-UI endpoint (``POST /agent``,
``RunAgentInput`` in, Server-Sent Events out), a stream of every run (``GET /events``), and a
small page at ``/`` that shows runs live (members, steps, tool calls, critic scores, lessons
proposed, scanner findings, memory CI decisions) and browses memory. Events are the official
``ag-ui-protocol`` models; the mapping from the runtime's events is in
:mod:`purpose_agent_agui.mapping`.

Observer role: ``watch_run`` shows every team run started in this process (by another server, a
script, any team) on the pages this process serves; without a live page it does nothing.

This module imports only the hook markers, so discovery stays cheap.
"""

from __future__ import annotations

from typing import Any

from purpose_agent.hookspecs import hookimpl, lazy_settings, register_lazily

PURPOSE_AGENT_HOOK_API = "1.3"

#: The plugin id (= entry-point name = TOML key).
plugin_id = "agui"


settings_model = lazy_settings("purpose_agent_agui.settings:AguiSettings")


register_commands = register_lazily("ui", "purpose_agent_agui.command:UiCommand",
                                    description="serve an AG-UI event stream of runs and a live web view")


@hookimpl
def watch_run(run: Any) -> None:
    import sys

    server = sys.modules.get(f"{__name__}.server")
    if server is not None:  # no page is served unless the server module was loaded
        server.watch(run)
