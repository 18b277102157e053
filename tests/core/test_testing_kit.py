"""The testing kit: offline backends, and conformance suites that pass good plugins and catch
bad ones."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from purpose_agent.discovery import BUILTIN_PLUGINS
from purpose_agent.models import ChatRequest, Message
from purpose_agent.testing import FunctionBackend, ScriptedBackend, ScriptExhausted, make_kernel, plugin
from purpose_agent_conformance import BackendConformance, MemoryStoreConformance
from purpose_agent_sqlite import memory_plugin as memory_store


def request(text: str = "hi") -> ChatRequest:
    return ChatRequest(messages=[Message(role="user", content=text)])


def test_scripted_backend_replies_in_order_then_says_it_ran_out() -> None:
    backend = ScriptedBackend(["one", {"tool": "python", "arguments": {"code": "1"}}])
    assert backend.complete(request()).message.content == "one"
    call = backend.complete(request()).message.tool_calls[0]
    assert (call.name, call.arguments) == ("python", {"code": "1"})
    with pytest.raises(ScriptExhausted, match="asked for reply 3 but its script has 2"):
        backend.complete(request())
    assert len(backend.requests) == 3


def test_function_backend_sees_the_request_and_streams() -> None:
    backend = FunctionBackend(lambda req: req.messages[-1].content.upper())
    assert "".join(c.content for c in backend.stream(request("a b c"))) == "A B C"
    assert asyncio.run(backend.acomplete(request("x"))).message.content == "X"


def test_make_kernel_ignores_installed_plugins_and_config(tmp_path: Path) -> None:
    (Path.cwd() / "purpose-agent.toml").write_text("[plugins.memory]\nenabled = false\n")
    kernel = make_kernel(builtins=True)
    assert kernel.records["memory"].status in ("ok", "available")
    # the built-ins, and the embedded stores of purpose-agent-sqlite (built-ins until issue #18)
    assert set(kernel.records) == set(BUILTIN_PLUGINS) | {"memory", "sqlite"}


class TestBuiltinMemoryStore(MemoryStoreConformance):
    plugin = memory_store
    plugin_id = "memory"
    store_name = "memory"
    persistent = False  # a second store object starts empty

    def store_options_for(self, tmp_path: Path) -> dict[str, Any]:
        return {}  # nothing is persisted, so it takes no path (and refuses one)


class TestScriptedBackendConformance(BackendConformance):
    plugin = plugin("scripted", register_backends=lambda register: register(
        "scripted", lambda model, context: ScriptedBackend(["hello there"], repeat_last=True, name=f"scripted:{model}")))
    backend_spec = "scripted:any"


BAD_STORE = '''
from purpose_agent.hookspecs import hookimpl
from purpose_agent_conformance import MemoryStoreConformance


class ForgetfulStore:
    """Keeps only the latest version and never refuses duplicates: two contract violations."""

    def __init__(self):
        self.items = {}

    def add(self, item):
        self.items[item.id] = item
        return item

    def get(self, item_id):
        return self.items.get(item_id)

    def update(self, item):
        self.items[item.id] = item
        return item

    def list(self, *, status=None, limit=None):
        return [i for i in self.items.values() if status is None or i.status == status][:limit]

    def search(self, query, *, limit=10, status=None):
        return []

    def history(self, item_id):
        return [self.items[item_id]] if item_id in self.items else []

    def close(self):
        pass


class Plugin:
    plugin_id = "forgetful"

    @hookimpl
    def register_memory_stores(self, register):
        register("forgetful", lambda context: ForgetfulStore())


class TestForgetful(MemoryStoreConformance):
    plugin = Plugin()
    store_name = "forgetful"
'''


def test_conformance_suite_catches_a_bad_store(tmp_path: Path) -> None:
    test_file = tmp_path / "test_bad_store.py"
    test_file.write_text(BAD_STORE)
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 1
    summary = result.stdout.strip().splitlines()[-1]
    failed = {line.split("::")[-1].split(" ")[0] for line in result.stdout.splitlines() if line.startswith("FAILED")}
    assert failed == {
        "test_adding_an_existing_id_is_refused",
        "test_update_bumps_the_version_and_keeps_history",
        "test_search_ranks_the_relevant_item_first",
        "test_a_team_learns_a_lesson_and_the_next_team_uses_it",  # its search finds nothing
    }, summary


def test_plugin_helper_marks_hooks_for_the_kernel() -> None:
    obj: Any = plugin("p", on_event=lambda event: None)
    kernel = make_kernel(obj)
    assert kernel.records["p"].roles == ["observer"]
