"""`plugins list` shows an unchanged plugin from its last load instead of importing it again.

Each test installs a small plugin distribution by hand into a private directory (a module and a
``dist-info`` with ``entry_points.txt``, the layout pip writes) and runs the real CLI in fresh
interpreters with that directory on their path. The plugin appends a line to a file each time it
is imported, so the tests count real imports across processes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

GOOD_MODULE = '''
import os
from purpose_agent.hookspecs import hookimpl

PURPOSE_AGENT_HOOK_API = "1.0"
with open(os.environ["MEMO_IMPORTS"], "a") as log:
    log.write("{name}\\n")


@hookimpl
def register_backends(register):
    register("{name}", lambda model, context: None)
'''


def install(site: Path, name: str, module_text: str | None = None, roles: tuple[str, ...] = ("backend",)) -> Path:
    """Install plugin ``name`` (module ``pa_memo_<name>``) into ``site``; return its module file."""
    module = f"pa_memo_{name}"
    info = site / f"{module}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("".join(f"[purpose_agent.{role}]\n{name} = {module}\n" for role in roles))
    path = site / f"{module}.py"
    path.write_text(module_text if module_text is not None else GOOD_MODULE.format(name=name))
    return path


@pytest.fixture
def memo(tmp_path: Path, run_cli: Any) -> Any:
    """``memo.list(*args)`` -> {id: record}; ``memo.imports()`` -> plugin names imported so far."""
    site = tmp_path / "site"
    site.mkdir()
    log = tmp_path / "imports.log"
    env = {"MEMO_IMPORTS": str(log), "XDG_STATE_HOME": str(tmp_path / "state"), "PURPOSE_AGENT_PLUGINS": ""}

    class Memo:
        def __init__(self) -> None:
            self.site, self.state = site, tmp_path / "state"

        def run(self, *args: str) -> Any:
            return run_cli("plugins", "list", *args, site=site, env=env)

        def list(self, *args: str) -> dict[str, dict[str, Any]]:
            result = self.run("--json", *args)
            assert result.code == 0, result.stderr
            return {p["id"]: p for p in json.loads(result.stdout)}

        def imports(self) -> list[str]:
            return log.read_text().split() if log.exists() else []

        def allow(self, *ids: str) -> None:
            env["PURPOSE_AGENT_PLUGINS"] = ",".join(ids)

    return Memo()


def test_an_unchanged_plugin_is_not_imported_again_and_is_shown_as_it_loaded(memo: Any) -> None:
    install(memo.site, "steady", roles=("backend", "critic"))  # declares a role it does not play: a warning
    memo.allow("steady")
    first = memo.list()["steady"]
    assert first["status"] == "ok" and "declares role 'critic'" in " ".join(first["warnings"])
    assert memo.imports() == ["steady"]
    second = memo.list()["steady"]
    assert memo.imports() == ["steady"], "an unchanged plugin was imported again"
    assert second == first  # status, roles, warnings: as the load found them
    table = memo.run()
    assert "1 plugin(s) not imported" in table.stdout and "--check" in table.stdout
    assert "warning: steady: declares role 'critic'" in table.stdout


def test_an_edited_plugin_is_imported_again_and_a_broken_one_shows_failed_every_time(memo: Any) -> None:
    module = install(memo.site, "edited")
    memo.allow("edited")
    assert memo.list()["edited"]["status"] == "ok"
    module.write_text("raise ImportError('the edit broke it')\n")
    for _ in range(2):  # a failure is never remembered: each listing imports it and shows the error
        broken = memo.list()["edited"]
        assert broken["status"] == "failed" and "the edit broke it" in broken["reason"]
    module.write_text(GOOD_MODULE.format(name="edited"))
    assert memo.list()["edited"]["status"] == "ok"
    assert memo.imports() == ["edited", "edited"]  # the first load and the one after the fix


def test_installing_another_distribution_makes_every_plugin_load_again(memo: Any) -> None:
    install(memo.site, "first")
    memo.allow("first", "second")
    memo.list()
    install(memo.site, "second")
    listed = memo.list()
    assert listed["second"]["status"] == "ok"
    assert sorted(memo.imports()) == ["first", "first", "second"]


def test_a_changed_dependency_of_a_plugin_makes_it_load_again(memo: Any) -> None:
    helper = memo.site / "pa_memo_helper.py"
    helper.write_text("VALUE = 1\n")
    install(memo.site, "user", GOOD_MODULE.format(name="user") + "import pa_memo_helper\n")
    memo.allow("user")
    memo.list()
    helper.write_text("raise RuntimeError('the helper broke')\n")
    record = memo.list()["user"]
    assert record["status"] == "failed" and "the helper broke" in record["reason"]


def test_check_imports_every_plugin_anew(memo: Any) -> None:
    install(memo.site, "checked")
    memo.allow("checked")
    memo.list()
    memo.list("--check")
    assert memo.imports() == ["checked", "checked"]


def test_an_unreadable_memory_is_ignored_and_replaced(memo: Any) -> None:
    install(memo.site, "plain")
    memo.allow("plain")
    memo.list()
    (written,) = (memo.state / "purpose-agent").glob("plugin-loads-*.json")
    written.write_text('{"stamp": ')  # a half-written file
    assert memo.list()["plain"]["status"] == "ok"
    json.loads(written.read_text())  # rewritten whole
    assert memo.imports() == ["plain", "plain"]


def test_a_plugin_with_settings_is_loaded_so_they_are_validated(run_cli: Any, fixture_site: Path,
                                                                tmp_path: Path) -> None:
    env = {"XDG_STATE_HOME": str(tmp_path / "state"), "PURPOSE_AGENT_PLUGINS": "fixture-good"}

    def good() -> dict[str, Any]:
        result = run_cli("plugins", "list", "--json", site=fixture_site, env=env)
        return {p["id"]: p for p in json.loads(result.stdout)}["fixture-good"]

    assert good()["status"] == "ok"
    (Path.cwd() / "purpose-agent.toml").write_text('[plugins.fixture-good]\nretries = "many"\n')
    record = good()
    assert record["status"] == "failed" and "'retries'" in record["reason"]


def test_a_state_directory_that_cannot_be_written_only_costs_the_memory(memo: Any) -> None:
    install(memo.site, "homeless")
    memo.allow("homeless")
    memo.state.write_text("a file where the state directory should be\n")
    for _ in range(2):
        assert memo.list()["homeless"]["status"] == "ok"
    assert memo.imports() == ["homeless", "homeless"]
    assert not os.path.isdir(memo.state)


def test_files_written_in_the_working_directory_do_not_cost_the_memory(tmp_path: Path, run_cli: Any) -> None:
    # `python -m` puts the working directory first on sys.path; its modification time changes with
    # every file written there, so only the distributions it holds are part of the stamp.
    site, work = tmp_path / "site", tmp_path / "project"
    site.mkdir()
    work.mkdir()
    log = tmp_path / "imports.log"
    env = {"MEMO_IMPORTS": str(log), "XDG_STATE_HOME": str(tmp_path / "state"), "PURPOSE_AGENT_PLUGINS": "steady,local"}
    install(site, "steady")

    def listed() -> set[str]:
        result = run_cli("plugins", "list", "--json", site=site, env=env, cwd=work)
        assert result.code == 0, result.stderr
        return {p["id"] for p in json.loads(result.stdout)}

    assert "steady" in listed()
    (work / "notes.txt").write_text("a file an operator writes while working")
    assert "steady" in listed()
    assert log.read_text().split().count("steady") == 1  # shown from memory the second time
    install(work, "local")  # a distribution in the working directory is noticed
    assert {"steady", "local"} <= listed()
    assert log.read_text().split().count("steady") == 2
