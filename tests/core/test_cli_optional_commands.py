"""The optional features the kernel does not ship (the demo, the generator, plugin scaffolding):
with only the kernel installed, or with their plugin disabled, their commands say what to install
or why they are off, instead of argparse's "invalid choice" or a traceback."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from purpose_agent.builtins.commands import COMMANDS, OPTIONAL_COMMANDS

REPO = Path(__file__).resolve().parents[2]

#: What the kernel imports (its declared dependencies and theirs), nothing else from site-packages.
KERNEL_DEPENDENCIES = ("pluggy", "pydantic", "pydantic_core", "typing_extensions", "annotated_types",
                       "typing_inspection", "tomli_w")

SYSTEM_TOML = ('[system]\nname = "s"\npurpose = "p"\n[[system.agents]]\nname = "a"\nrole = "r"\n'
               '[[system.flow]]\nsource = "BEGIN"\ntarget = "a"\n')


@pytest.fixture(scope="module")
def kernel_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding only the kernel's dependencies (links), no distribution metadata: with
    ``python -S`` and it plus core/src on PYTHONPATH, no plugin is installed."""
    deps = tmp_path_factory.mktemp("kernel-only")
    for name in KERNEL_DEPENDENCIES:
        try:
            module = importlib.import_module(name)
        except ImportError:  # an optional layer of a dependency that this environment lacks
            continue
        source = Path(module.__file__ or "")
        target = source.parent if source.name == "__init__.py" else source
        (deps / target.name).symlink_to(target)
    return deps


def run_kernel_only(deps: Path, home: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "core" / "src"), str(deps)]),
           "XDG_CONFIG_HOME": str(home / "config"), "XDG_STATE_HOME": str(home / "state"),
           "XDG_CACHE_HOME": str(home / "cache")}
    env.pop("PURPOSE_AGENT_PLUGINS", None)
    return subprocess.run([sys.executable, "-S", "-m", "purpose_agent", *args], capture_output=True, text=True,
                          env=env, cwd=cwd or home, timeout=60)


def test_the_optional_words_are_not_built_in_commands() -> None:
    assert not set(OPTIONAL_COMMANDS) & set(COMMANDS)
    assert {word: package for word, (_plugin, package) in OPTIONAL_COMMANDS.items()} == {
        "demo": "purpose-agent-demo", "generate": "purpose-agent-generate", "new-plugin": "purpose-agent-scaffold"}


def test_the_kernel_alone_lists_only_its_own_commands(kernel_only: Path, tmp_path: Path) -> None:
    listed = run_kernel_only(kernel_only, tmp_path, "--help")
    assert listed.returncode == 0, listed.stderr
    assert "run       run a task with a team" in listed.stdout and "[cli]" in listed.stdout
    assert "demo" not in listed.stdout and "generate" not in listed.stdout
    plugins = run_kernel_only(kernel_only, tmp_path, "plugins", "list", "--json")
    assert plugins.returncode == 0, plugins.stderr
    assert '"demo"' not in plugins.stdout and '"generate"' not in plugins.stdout  # really no plugin installed


@pytest.mark.parametrize(("argv", "package"), [
    (["demo"], "purpose-agent-demo"),
    (["demo", "--rounds", "1"], "purpose-agent-demo"),
    (["generate", "a use case", "--out", "x"], "purpose-agent-generate"),
    (["new-plugin", "my-tool", "--role", "tool"], "purpose-agent-scaffold"),
])
def test_an_optional_command_names_the_package_to_install(kernel_only: Path, tmp_path: Path, argv: list[str],
                                                          package: str) -> None:
    result = run_kernel_only(kernel_only, tmp_path, *argv)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr == (f"purpose-agent: error: the command '{argv[0]}' needs {package}, which is not installed: "
                             f"install it (pip install {package}) and run the command again\n")


def test_plugins_new_and_run_in_a_generated_project_name_their_package(kernel_only: Path, tmp_path: Path) -> None:
    new = run_kernel_only(kernel_only, tmp_path, "plugins", "new", "my-tool", "--role", "tool")
    assert new.returncode == 1 and "creating a plugin package needs purpose-agent-scaffold, which is not " \
        "installed: install it (pip install purpose-agent-scaffold)" in new.stderr, new.stderr
    assert not (tmp_path / "purpose-agent-my-tool").exists()
    (tmp_path / "purpose-agent.toml").write_text(SYSTEM_TOML)
    ran = run_kernel_only(kernel_only, tmp_path, "run", "a task")
    assert ran.returncode == 1 and "needs purpose-agent-generate, which is not installed" in ran.stderr, ran.stderr
    assert "Traceback" not in ran.stderr


def test_a_disabled_optional_plugin_is_named_with_why(run_cli: Any, tmp_path: Path) -> None:
    pytest.importorskip("purpose_agent_generate")
    pytest.importorskip("purpose_agent_scaffold")
    (tmp_path / "purpose-agent.toml").write_text(SYSTEM_TOML)
    ran = run_cli("run", "a task", env={"PURPOSE_AGENT_PLUGINS": ""}, cwd=tmp_path)
    assert ran.code == 1 and "needs plugin 'generate' (purpose-agent-generate), which is disabled" in ran.stderr, \
        ran.stderr
    new = run_cli("plugins", "new", "my-tool", "--role", "tool", "--dir", str(tmp_path),
                  env={"PURPOSE_AGENT_PLUGINS": ""})
    assert new.code == 1 and "needs plugin 'scaffold' (purpose-agent-scaffold), which is disabled" in new.stderr, \
        new.stderr


def test_a_project_generated_before_the_move_is_told_how_to_mend_its_import() -> None:
    # system.py files generated before the generator left the kernel import it from its old place.
    import importlib

    import pytest

    with pytest.raises(ImportError, match="from purpose_agent_generate import load_project"):
        importlib.import_module("purpose_agent.mas_generator")
