"""The kernel with in-memory plugins: registration, lazy roles, failure isolation, strictness."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from purpose_agent.config import load_config
from purpose_agent.discovery import Candidate, merge_candidates
from purpose_agent.errors import MemoryWriteVetoed, PluginError, UnknownComponentError
from purpose_agent.hookspecs import hookimpl
from purpose_agent.kernel import Kernel
from purpose_agent.models import ChatRequest, Finding, MemoryItem, Message, ScanRequest, Severity
from purpose_agent.testing import ScriptedBackend, make_kernel, plugin


def backend_plugin(plugin_id: str, reply: str = "hi") -> Any:
    return plugin(plugin_id, register_backends=lambda register: register(
        plugin_id, lambda model, context: ScriptedBackend([reply], name=f"{plugin_id}:{model}")))


def ask(backend: Any) -> str:
    return backend.complete(ChatRequest(messages=[Message(role="user", content="q")])).message.content


def test_backend_spec_splits_on_the_first_colon() -> None:
    seen: list[str] = []

    def factory(model: str, context: Any) -> Any:
        seen.append(model)
        return ScriptedBackend(["x"])

    kernel = make_kernel(plugin("ollama", register_backends=lambda register: register("ollama", factory)))
    kernel.backend("ollama:qwen3:1.7b")
    assert seen == ["qwen3:1.7b"]


def test_unknown_component_error_lists_what_is_available() -> None:
    kernel = make_kernel(backend_plugin("one"), backend_plugin("two"))
    with pytest.raises(UnknownComponentError, match=r"no backend named 'three' \(available: one, two\)"):
        kernel.backend("three:x")


def test_a_plugin_that_raises_while_registering_is_isolated() -> None:
    def explode(register: Any) -> None:
        raise RuntimeError("boom")

    kernel = make_kernel(backend_plugin("good"), plugin("bad", register_backends=explode))
    assert ask(kernel.backend("good:m")) == "hi"
    assert kernel.records["bad"].status == "ok", "the fast path asks only the plugin named 'good'"
    assert list(kernel.components("backend")) == ["good"]
    bad = kernel.records["bad"]
    assert bad.status == "failed" and "raised in hook register_backends: RuntimeError: boom" in bad.reason


def test_strict_mode_turns_a_plugin_failure_into_an_error() -> None:
    def explode(register: Any) -> None:
        raise RuntimeError("boom")

    kernel = make_kernel(plugin("bad", register_backends=explode), strict=True)
    with pytest.raises(PluginError, match="plugin 'bad' failed \\(strict mode\\)"):
        kernel.components("backend")


def test_a_required_plugin_failure_is_fatal_and_says_how_to_fix() -> None:
    def explode(register: Any) -> None:
        raise RuntimeError("boom")

    kernel = make_kernel(plugin("bad", register_backends=explode), config={"plugins": {"bad": {"required": True}}})
    with pytest.raises(PluginError, match="required plugin 'bad'.*remove 'required = true'"):
        kernel.components("backend")


def test_a_required_plugin_that_is_not_installed_stops_the_kernel() -> None:
    with pytest.raises(PluginError, match="'ghost' is required .* not installed"):
        make_kernel(config={"plugins": {"ghost": {"required": True}}})


def test_unknown_hook_is_reported_and_the_plugin_skipped() -> None:
    obj = SimpleNamespace(plugin_id="future")
    obj.register_frobnicators = hookimpl(lambda register: None)
    kernel = make_kernel(obj)
    record = kernel.records["future"]
    assert record.status == "failed"
    assert "unknown hook(s) register_frobnicators" in record.reason


def test_newer_hook_api_is_skipped_with_a_sentence() -> None:
    obj = plugin("newer", register_tools=lambda register: None)
    obj.PURPOSE_AGENT_HOOK_API = "1.7"
    kernel = make_kernel(obj)
    assert kernel.records["newer"].status == "failed"
    assert "written for hook API 1.7" in kernel.records["newer"].reason
    obj.PURPOSE_AGENT_HOOK_API = "0.9"
    assert make_kernel(obj).records["newer"].status == "failed"
    obj.PURPOSE_AGENT_HOOK_API = "1.0"
    assert make_kernel(obj).records["newer"].status == "ok"


def test_hook_impl_with_an_argument_the_spec_lacks_is_reported() -> None:
    kernel = make_kernel(plugin("odd", register_tools=lambda register, colour: None))
    assert kernel.records["odd"].status == "failed"
    assert "colour" in kernel.records["odd"].reason


def settings_plugin(plugin_id: str) -> Any:
    def settings_model() -> Any:
        from pydantic import BaseModel

        class Settings(BaseModel):
            timeout: float = 5.0
            name: str = "x"

        return Settings

    return plugin(
        plugin_id,
        settings_model=settings_model,
        register_backends=lambda register, settings: register(
            plugin_id, lambda model, context: ScriptedBackend([f"timeout={settings.timeout}"])),
    )


def test_plugin_settings_are_validated_by_the_plugins_model() -> None:
    kernel = make_kernel(settings_plugin("p"), config={"plugins": {"p": {"timeout": 2.5, "enabled": True}}})
    assert ask(kernel.backend("p:")) == "timeout=2.5"


def test_invalid_settings_name_the_key_and_the_expectation() -> None:
    kernel = make_kernel(settings_plugin("p"), config={"plugins": {"p": {"timeout": "soon"}}})
    record = kernel.records["p"]
    assert record.status == "failed"
    assert "invalid configuration in [plugins.p]" in record.reason
    assert "'timeout'" in record.reason and "'soon'" in record.reason
    with pytest.raises(UnknownComponentError, match="Plugin 'p' is failed"):
        kernel.backend("p:")


def test_disabled_plugins_are_never_imported() -> None:
    imported: list[str] = []

    def load() -> Any:
        imported.append("x")
        return backend_plugin("x")

    candidate = Candidate(id="x", distribution="d", version="1", roles={"backend"}, target="x", source="entry-point", load=load)
    kernel = Kernel(load_config({"plugins": {"x": {"enabled": False}}}, isolated=True), [candidate])
    kernel.load_all()
    assert imported == [] and kernel.records["x"].status == "disabled"


def test_roles_load_lazily_and_a_provider_loads_alone() -> None:
    imported: list[str] = []

    def candidate(plugin_id: str, role: str) -> Candidate:
        def load() -> Any:
            imported.append(plugin_id)
            return backend_plugin(plugin_id) if role == "backend" else plugin(plugin_id, scan=lambda request: [])

        return Candidate(id=plugin_id, distribution=plugin_id, version="1", roles={role}, target=plugin_id,
                         source="entry-point", load=load)

    kernel = Kernel(load_config(isolated=True), [candidate("groq", "backend"), candidate("openai", "backend"),
                                                  candidate("immune", "scanner")])
    assert imported == []
    kernel.backend("groq:llama")
    assert imported == ["groq"]
    kernel.scan(ScanRequest(text="hello"))
    assert imported == ["groq", "immune"]


def test_duplicate_ids_name_both_distributions_and_neither_loads() -> None:
    def make(dist: str) -> Candidate:
        return Candidate(id="dup", distribution=dist, version="1.0", roles={"tool"}, target=dist,
                         source="entry-point", load=lambda: pytest.fail("must not import"), origins=[f"{dist} 1.0"])

    kernel = Kernel(load_config(isolated=True), merge_candidates([[make("dist-a")], [make("dist-b")]]).values())
    record = kernel.records["dup"]
    assert record.status == "failed"
    assert "dist-a 1.0" in record.reason and "dist-b 1.0" in record.reason
    kernel.load_all()


def test_component_name_clash_keeps_the_first_and_warns() -> None:
    a = plugin("a", register_tools=lambda register: register("shell", lambda context: "from a"))
    b = plugin("b", register_tools=lambda register: register("shell", lambda context: "from b"))
    kernel = make_kernel(a, b)
    assert kernel.create("tool", "shell") in ("from a", "from b")
    assert any("also registered by plugin" in w for r in kernel.plugins() for w in r.warnings)


def test_scanners_fail_closed() -> None:
    def broken(request: Any) -> Any:
        raise ValueError("regex exploded")

    def clean(request: Any) -> Any:
        return []

    kernel = make_kernel(plugin("broken", scan=broken), plugin("clean", scan=clean))
    findings = kernel.scan(ScanRequest(text="anything"))
    assert len(findings) == 1
    assert findings[0].severity is Severity.CRITICAL and findings[0].scanner == "broken"
    assert "blocking to stay safe" in findings[0].explanation


def test_a_scanner_returning_garbage_fails_closed() -> None:
    kernel = make_kernel(plugin("sloppy", scan=lambda request: "looks fine"))
    findings = kernel.scan(ScanRequest(text="x"))
    assert findings and findings[0].category == "scanner_error"


def test_scanner_findings_are_collected_from_every_scanner() -> None:
    def flag(name: str) -> Any:
        return lambda request: [Finding(scanner=name, category="c", severity=Severity.HIGH, explanation="e")]

    kernel = make_kernel(plugin("s1", scan=flag("s1")), plugin("s2", scan=flag("s2")))
    assert sorted(f.scanner for f in kernel.scan(ScanRequest(text="x"))) == ["s1", "s2"]
    assert sorted(kernel.scanners()) == ["s1", "s2"]


def test_configure_is_historic_so_late_plugins_see_it() -> None:
    seen: list[Any] = []
    kernel = make_kernel(config={"plugins": {"late": {"flag": 1}}})
    late = plugin("late", configure=lambda config: seen.append(config["plugins"]["late"]["flag"]))
    kernel._add_candidate(Candidate(id="late", distribution="d", version="", roles={"observer"}, target="late",
                                    source="in-memory", load=lambda: late))
    kernel.ensure_plugin("late")
    assert seen == [1]


def test_observer_that_raises_is_disabled_and_others_still_hear() -> None:
    from purpose_agent.models import Event

    heard: list[str] = []

    def bad(event: Any) -> None:
        raise RuntimeError("observer bug")

    kernel = make_kernel(plugin("bad", on_event=bad), plugin("good", on_event=lambda event: heard.append(event.type)))
    kernel.emit(Event(type="run.started"))
    kernel.emit(Event(type="run.finished"))
    assert heard == ["run.started", "run.finished"]
    assert kernel.records["bad"].status == "failed"


def test_memory_write_can_rewrite_or_veto() -> None:
    def redact(item: MemoryItem) -> MemoryItem:
        return item.model_copy(update={"text": item.text.replace("secret", "[redacted]")})

    kernel = make_kernel(plugin("redact", memory_write=redact))
    assert kernel.write_memory(MemoryItem(text="the secret is 42")).text == "the [redacted] is 42"

    def veto(item: MemoryItem) -> MemoryItem:
        raise MemoryWriteVetoed("no lessons on Fridays")

    with pytest.raises(MemoryWriteVetoed, match="Fridays"):
        make_kernel(plugin("veto", memory_write=veto)).write_memory(MemoryItem(text="x"))

    def buggy(item: MemoryItem) -> MemoryItem:
        raise KeyError("bug")

    with pytest.raises(MemoryWriteVetoed, match="write refused"):
        make_kernel(plugin("buggy", memory_write=buggy)).write_memory(MemoryItem(text="x"))


def test_builtins_register_through_the_same_hooks_and_can_be_blocked() -> None:
    kernel = make_kernel(builtins=True)
    assert "jsonl" in kernel.components("checkpointer")
    assert kernel.records["checkpointers"].source == "built-in"
    blocked = make_kernel(builtins=True, config={"plugins": {"checkpointers": {"enabled": False}}})
    assert "jsonl" not in blocked.components("checkpointer")
    assert blocked.records["checkpointers"].status == "disabled"


def test_instructions_are_collected_in_order() -> None:
    kernel = make_kernel(
        plugin("agents-md", instructions=lambda task, workdir: [f"rules for {task}"]),
        plugin("other", instructions=lambda task: None),
    )
    assert kernel.instructions("t", "/tmp") == ["rules for t"]
