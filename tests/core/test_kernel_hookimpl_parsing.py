"""The kernel's shortcut in front of pluggy's hook-implementation parser finds exactly what
pluggy finds, for every installed plugin and for the odd shapes pluggy supports."""

from __future__ import annotations

from typing import Any

import pluggy

from purpose_agent import hookspecs
from purpose_agent.hookspecs import hookimpl
from purpose_agent.kernel import Kernel, _PluginManager
from purpose_agent.testing import plugin


class _Odd:
    """Hooks as a staticmethod, a classmethod and a bound method; a property that must not run."""

    @hookimpl
    @staticmethod
    def on_event(event: Any) -> None: ...

    @classmethod
    @hookimpl
    def instructions(cls, task: str, workdir: str) -> list[str]:
        return []

    @property
    def scan(self) -> Any:
        raise AssertionError("a property was evaluated")


def _parsed(manager: pluggy.PluginManager, obj: Any) -> dict[str, Any]:
    return {name: manager.parse_hookimpl_opts(obj, name) for name in dir(obj)}


def test_every_installed_plugin_parses_as_pluggy_parses_it() -> None:
    kernel = Kernel.load(strict=False)
    kernel.load_all()
    plain, ours = pluggy.PluginManager(hookspecs.PROJECT_NAME), _PluginManager(hookspecs.PROJECT_NAME)
    objects = [r.obj for r in kernel.plugins() if r.obj is not None]
    objects += [_Odd, plugin("made", scan=lambda request: None)]
    assert len(objects) > 5
    for obj in objects:
        expected = {name: opts for name, opts in _parsed(plain, obj).items() if opts is not None}
        found = {name: opts for name, opts in _parsed(ours, obj).items() if opts is not None}
        assert found == expected, obj
