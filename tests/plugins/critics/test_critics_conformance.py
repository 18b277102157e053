"""Each critic passes the kernel's CriticConformance suite, built through the real hooks and TOML
settings, with a judge model that believes any claim of success (the code has to hold the line)."""

from __future__ import annotations

import shutil
from typing import Any

import pytest
from critic_fakes import OracleSandbox, candidate_kind, judge_plugin

import purpose_agent_critics
from purpose_agent.errors import SandboxUnavailable
from purpose_agent.testing import FunctionBackend, make_kernel
from purpose_agent.testing import plugin as in_memory_plugin
from purpose_agent_conformance import CriticConformance


class CriticsPlugin(CriticConformance):
    """The suite over this plugin's critics; each subclass names one, its judge and settings."""

    plugin = purpose_agent_critics
    plugin_id = "critics"


class TestStandardConformance(CriticsPlugin):
    critic_name = "standard"
    extra_plugins = [judge_plugin()]
    config = {"plugins": {"critics": {"model": "judge:gullible"}}}


class TestDeltaConformance(TestStandardConformance):
    critic_name = "delta"


def _add_tests() -> FunctionBackend:
    tests = {"assertions": [
        {"name": "small", "code": "assert add(1, 2) == 3"},
        {"name": "negative", "code": "assert add(-4, 1) == -3"},
        {"name": "vacuous", "code": "add(1, 2)"},
    ]}
    return FunctionBackend(lambda request: tests, name="judge:tests")


def _oracle_add(candidate: str, assertion: str) -> bool:
    kind = candidate_kind(candidate)
    if assertion == "add(1, 2)":
        return kind != "stub-raises"  # a bare call passes on the stub that returns None
    return kind == "candidate" and "a + b" in candidate


class TestFalsificationConformanceWithAnOracleSandbox(CriticsPlugin):
    critic_name = "falsification"
    extra_plugins = [
        judge_plugin(_add_tests),
        in_memory_plugin("oracle", register_sandboxes=lambda register: register(
            "oracle", lambda context: OracleSandbox(_oracle_add))),
    ]
    config = {"plugins": {"critics": {"model": "judge:tests", "sandbox": "oracle"}}}


def _real_sandbox_problem() -> str:
    try:
        import purpose_agent_sandbox
    except ImportError:
        return "purpose-agent-sandbox is not installed"
    if shutil.which("bwrap") is None:
        return "bwrap is not on PATH"
    try:
        make_kernel(purpose_agent_sandbox).sandbox("sandbox").run("pass", timeout=30)
    except SandboxUnavailable as exc:
        return f"the sandbox refuses to run here: {exc}"
    return ""


class TestFalsificationConformanceWithTheRealSandbox(CriticsPlugin):
    critic_name = "falsification"
    config = {"plugins": {"critics": {"model": "judge:tests", "sandbox": "sandbox", "timeout_s": 60}}}

    @pytest.fixture
    def kernel(self) -> Any:
        problem = _real_sandbox_problem()
        if problem:
            pytest.skip(problem)
        import purpose_agent_sandbox

        return make_kernel({"critics": purpose_agent_critics}, purpose_agent_sandbox, judge_plugin(_add_tests),
                           config=self.config, strict=True)
