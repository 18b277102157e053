"""The kernel ships no memory store (the embedded one is ``purpose-agent-sqlite``): without it a
team runs without memory and says so once, a configured store that is not installed is an error
naming its package, and ``purpose-agent memory`` / ``doctor`` say what to install."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from test_cli_optional_commands import kernel_only, run_kernel_only

import purpose_agent as pa
from purpose_agent.errors import UnknownComponentError
from purpose_agent.runtime import agents
from purpose_agent.testing import make_kernel, plugin

__all__ = ["kernel_only"]  # the fixture, imported from the test module that builds it


def no_scan(request: object) -> list[object]:
    return []


def test_a_team_without_a_store_runs_without_memory_and_warns_once() -> None:
    agents._warn_no_memory_store.cache_clear()
    kernel = make_kernel(plugin("toy", scan=no_scan))  # no memory store registered
    with pytest.warns(RuntimeWarning, match=r"lessons are not remembered: no memory store is installed "
                                            r"\(pip install purpose-agent-sqlite"):
        team = pa.purpose("Plan my week", kernel=kernel, tools=[])
    assert team.store is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a second team in the same process: said once already
        assert pa.purpose("Plan my week", kernel=kernel, tools=[]).store is None


def test_memory_false_is_quiet() -> None:
    agents._warn_no_memory_store.cache_clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert pa.purpose("Plan my week", kernel=make_kernel(plugin("toy", scan=no_scan)), tools=[],
                          memory=False).store is None


@pytest.mark.parametrize(("store", "package"), [("sqlite", "purpose-agent-sqlite"), ("memory", "purpose-agent-sqlite"),
                                                ("postgres", "purpose-agent-postgres")])
def test_a_configured_store_that_is_not_installed_names_its_package(store: str, package: str) -> None:
    kernel = make_kernel(plugin("toy", scan=no_scan), config={"memory": {"store": store}})
    with pytest.raises(UnknownComponentError, match=rf"the memory store '{store}' is provided by {package}, "
                                                    rf"which is not installed: install it \(pip install {package}\)"):
        pa.purpose("Plan my week", kernel=kernel, tools=[])


def test_the_memory_command_alone_names_the_package(kernel_only: Path, tmp_path: Path) -> None:
    result = run_kernel_only(kernel_only, tmp_path, "memory", "list")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "the memory store 'sqlite' is provided by purpose-agent-sqlite, which is not installed" in result.stderr
    assert 'pip install "purpose-agent[local]"' in result.stderr
    assert "Traceback" not in result.stderr


def test_doctor_alone_says_which_package_gives_memory(kernel_only: Path, tmp_path: Path) -> None:
    report = json.loads(run_kernel_only(kernel_only, tmp_path, "doctor", "--json").stdout)
    assert report["memory"]["store"] == "none"
    assert "pip install purpose-agent-sqlite" in report["memory"]["note"]
    text = run_kernel_only(kernel_only, tmp_path, "doctor").stdout
    assert "teams do not remember lessons: no memory store is installed (pip install purpose-agent-sqlite" in text


def a_store(context: object) -> object:
    raise AssertionError("an unconfigured store is not opened")


def test_another_store_installed_but_not_configured_is_said_too() -> None:
    # The default store is missing and the one installed is not named in [memory] store: the team
    # remembers nothing, which is not a choice the operator made, so it is said (and doctor says it).
    agents._warn_no_memory_store.cache_clear()
    kernel = make_kernel(plugin("toy", scan=no_scan),
                         plugin("shelf", register_memory_stores=lambda register: register("shelf", a_store)))
    with pytest.warns(RuntimeWarning, match=r"the default memory store is not installed \(pip install "
                                            r"purpose-agent-sqlite\) and \[memory\] store names none of the "
                                            r"installed ones \(shelf\)"):
        assert pa.purpose("Plan my week", kernel=kernel, tools=[]).store is None
    from purpose_agent.cli.doctor_cmd import _memory_entry

    entry = _memory_entry(kernel, kernel.config)
    assert entry["store"] == "none" and "installed ones (shelf)" in entry["note"]


def test_stores_installed_but_disabled_are_the_operators_choice_and_quiet() -> None:
    agents._warn_no_memory_store.cache_clear()
    kernel = make_kernel(plugin("toy", scan=no_scan), builtins=True,
                         config={"plugins": {"sqlite": {"enabled": False}, "memory": {"enabled": False}}})
    assert {"sqlite", "memory"} <= set(kernel.records)  # purpose-agent-sqlite is installed here
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert pa.purpose("Plan my week", kernel=kernel, tools=[]).store is None
