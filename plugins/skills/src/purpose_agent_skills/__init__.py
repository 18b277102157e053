"""Plugin ``skills``: versioned skill cards, skill CI, and promoted skills as a tool.

It plays three roles under one id (TOML key ``[plugins.skills]``):

- tool ``use_skill``: :class:`purpose_agent_skills.tool.UseSkillTool`, an agent's way to use a
  promoted skill (code runs in the sandbox; steps come back as data);
- command ``skills``: ``purpose-agent skills add|list|show|test|promote|rollback``;
- observer: credits each use of a skill with the critic's score of the run that made it.

This module imports only the standard library and the hook markers, so discovering the plugin
stays cheap; pydantic, jsonschema and SQLite load when a component is first built.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from purpose_agent.hookspecs import hookimpl, lazy_settings, register_lazily

if TYPE_CHECKING:
    from .ci import SkillCI

PURPOSE_AGENT_HOOK_API = "1.3"

#: The plugin id (= entry-point name = TOML key); ``purpose_agent.testing.make_kernel`` reads it.
plugin_id = "skills"

#: The CLI subcommand word.
COMMAND_NAME = "skills"


settings_model = lazy_settings("purpose_agent_skills.settings:SkillsSettings")


def skill_ci(kernel: Any, settings: Any = None) -> SkillCI:
    """Skill CI over the configured store (``[plugins.skills] store``, else the state directory)."""
    from .ci import SkillCI
    from .settings import SkillsSettings
    from .store import SkillStore

    settings = settings or SkillsSettings()
    path = Path(settings.store).expanduser() if settings.store else Path(kernel.state_dir()) / "skills" / "skills.sqlite"
    return SkillCI(kernel, SkillStore(path), sandbox=settings.sandbox, timeout_s=settings.timeout_s,
                   max_competing=settings.max_competing, replay_uses=settings.replay_uses)


def _tool_factory(context: Any) -> Any:
    import random

    from .settings import SkillsSettings
    from .tool import UseSkillTool

    settings = context.settings or SkillsSettings()
    return UseSkillTool(skill_ci(context.kernel, settings), rng=random.Random(settings.seed),
                        success_score=settings.success_score)


@hookimpl
def register_tools(register: Callable[..., None]) -> None:
    register("use_skill", _tool_factory, description="use a promoted skill (code runs in the sandbox)")


register_commands = register_lazily(COMMAND_NAME, "purpose_agent_skills.command:SkillsCommand",
                                    description="author, test, promote and roll back skill cards")


@hookimpl
def on_event(event: Any) -> None:
    # Only the two event types that matter import anything.
    if event.type in ("tool.finished", "run.finished", "team.finished"):
        from .outcomes import observe

        observe(event)
