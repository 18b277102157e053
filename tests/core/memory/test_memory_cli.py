"""``purpose-agent memory``: listing, status changes with reasons, rollback, lossless export/import."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from purpose_agent import discovery
from purpose_agent.cli import memory_cmd
from purpose_agent.errors import PurposeAgentError
from purpose_agent.models import Counters, MemoryItem, MemoryKind, MemoryStatus, Provenance, Scope
from purpose_agent_sqlite.store import SQLiteStore


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture(autouse=True)
def only_the_stores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PURPOSE_AGENT_PLUGINS", "memory,sqlite")  # only the stores, not every installed plugin


@pytest.fixture
def memory(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run ``purpose-agent memory ARGS`` in-process, the way cli.main does."""

    def run(*argv: str) -> Result:
        parser = argparse.ArgumentParser(prog="purpose-agent")
        sub = parser.add_subparsers(dest="command")
        memory_cmd.add_arguments(sub.add_parser("memory"))
        capsys.readouterr()
        try:
            args = parser.parse_args(["memory", *argv])
            code = int(args.run(args) or 0)
        except PurposeAgentError as exc:
            captured = capsys.readouterr()
            return Result(1, captured.out, captured.err + f"purpose-agent: error: {exc}\n")
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def seed(path: Path) -> list[MemoryItem]:
    """A small database with varied items, versions and counters."""
    items = [
        MemoryItem(text="Run the unit tests before answering.", status=MemoryStatus.PROMOTED, tags=["testing"]),
        MemoryItem(text="Ünïcode — “quotes”\nand a second line", kind=MemoryKind.FACT,
                   scope=Scope(level="purpose", value="docs"), provenance=Provenance(run_id="r1", step=3)),
        MemoryItem(text="Never disable TLS verification.", kind=MemoryKind.WARNING, status=MemoryStatus.QUARANTINED,
                   counters=Counters(uses=2, helpful=1, harmful=1), usefulness=-0.125),
    ]
    with SQLiteStore(path) as store:
        for item in items:
            store.add(item)
        store.update(items[0].model_copy(update={"text": "Run the whole test suite before answering."}))
        store.record_use(items[0].id, True)
    return items


def test_list_show_and_history(memory: Callable[..., Result], tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    items = seed(db)
    listed = memory("list", "--db", str(db))
    assert listed.code == 0 and len(listed.out.splitlines()) == 4
    assert items[0].id[:12] in listed.out and "whole test suite" in listed.out
    only = memory("--db", str(db), "list", "--status", "quarantined", "--json")
    assert [json.loads(line)["id"] for line in only.out.splitlines()] == [items[2].id]
    assert len(memory("list", "--db", str(db), "--kind", "fact").out.splitlines()) == 2

    shown = memory("show", items[1].id[:8], "--db", str(db))
    assert shown.code == 0 and "purpose:docs" in shown.out and "run r1" in shown.out and "“quotes”" in shown.out

    history = memory("history", items[0].id, "--db", str(db), "--json")
    assert [json.loads(line)["text"] for line in history.out.splitlines()] == [
        "Run the unit tests before answering.", "Run the whole test suite before answering."]


def test_an_unknown_id_is_a_sentence_not_a_traceback(memory: Callable[..., Result], tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    seed(db)
    result = memory("show", "zzzz", "--db", str(db))
    assert result.code == 1 and "no memory item with id 'zzzz'" in result.err


def test_status_changes_need_a_reason_and_record_the_override(memory: Callable[..., Result], tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    items = seed(db)
    with pytest.raises(SystemExit):  # argparse: --reason is required
        memory("promote", items[1].id, "--db", str(db))
    promoted = memory("promote", items[1].id, "--db", str(db), "--reason", "checked by hand")
    assert promoted.code == 0, promoted.err
    with SQLiteStore(db) as store:
        item = store.get(items[1].id)
        assert item.status is MemoryStatus.PROMOTED and item.version == 2
        assert "operator override" in item.status_reason and "candidate -> promoted" in item.status_reason
        assert "checked by hand" in item.status_reason
    assert memory("reject", items[2].id, "--db", str(db), "--reason", "unsafe").code == 0
    assert memory("archive", items[0].id, "--db", str(db), "--reason", "superseded").code == 0
    again = memory("archive", items[0].id, "--db", str(db), "--reason", "twice")
    assert again.code == 1 and "already archived" in again.err
    with SQLiteStore(db) as store:
        assert store.get(items[2].id).status is MemoryStatus.REJECTED
        assert [v.status for v in store.history(items[0].id)] == [MemoryStatus.PROMOTED] * 2 + [MemoryStatus.ARCHIVED]


def test_rollback_restores_content_as_a_new_version(memory: Callable[..., Result], tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    items = seed(db)
    result = memory("rollback", items[0].id, "1", "--db", str(db), "--reason", "the edit was worse")
    assert result.code == 0, result.err
    with SQLiteStore(db) as store:
        history = store.history(items[0].id)
        assert [v.version for v in history] == [1, 2, 3]
        assert history[2].text == history[0].text and "the edit was worse" in history[2].status_reason
        assert store.get(items[0].id).counters.uses == 1  # evidence of use is kept
    missing = memory("rollback", items[0].id, "9", "--db", str(db))
    assert missing.code == 1 and "has no version 9" in missing.err


def test_a_vetoing_memory_write_hook_stops_the_change(memory: Callable[..., Result], tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "m.db"
    items = seed(db)
    (tmp_path / "veto_plugin.py").write_text(
        "from purpose_agent.hookspecs import hookimpl\nfrom purpose_agent.errors import MemoryWriteVetoed\n"
        "@hookimpl\ndef memory_write(item):\n"
        "    if item.status == 'promoted':\n        raise MemoryWriteVetoed('promotion frozen by policy')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(discovery.BUILTIN_PLUGINS, "veto", ("veto_plugin", ("memory_store",)))
    monkeypatch.setenv("PURPOSE_AGENT_PLUGINS", "memory,sqlite,veto")
    result = memory("promote", items[1].id, "--db", str(db), "--reason", "please")
    assert result.code == 1 and "promotion frozen by policy" in result.err
    with SQLiteStore(db) as store:
        assert store.get(items[1].id).version == 1


def test_export_import_export_is_byte_identical(memory: Callable[..., Result], tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    seed(db)
    first = tmp_path / "first.jsonl"
    assert memory("export", str(first), "--db", str(db)).code == 0
    fresh = tmp_path / "fresh.db"
    imported = memory("import", str(first), "--db", str(fresh))
    assert imported.code == 0 and "imported 3 items" in imported.out
    second = memory("export", "--db", str(fresh))  # to standard output
    assert second.out.encode() == first.read_bytes()
    lines = first.read_text().splitlines()
    assert len(lines) == 4 and sum(len(json.loads(line)["history"]) for line in lines[1:]) == 4
    with SQLiteStore(fresh) as store:  # usable after import: searchable, counters intact
        found = store.search("test suite")
        assert found and found[0].item.counters.uses == 1


def test_a_bad_import_writes_nothing(memory: Callable[..., Result], tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    seed(db)
    good = tmp_path / "good.jsonl"
    memory("export", str(good), "--db", str(db))
    lines = good.read_text().splitlines()
    fresh = tmp_path / "fresh.db"
    broken = tmp_path / "broken.jsonl"
    broken.write_text("\n".join([*lines[:3], lines[3][:-20]]) + "\n")  # last line truncated
    result = memory("import", str(broken), "--db", str(fresh))
    assert result.code == 1 and "line 4 is not JSON" in result.err and "nothing was imported" in result.err
    wrong_version = json.loads(lines[1])
    wrong_version["item"]["version"] = 7
    broken.write_text("\n".join([lines[0], json.dumps(wrong_version)]) + "\n")
    result = memory("import", str(broken), "--db", str(fresh))
    assert result.code == 1 and "current version 7" in result.err
    with SQLiteStore(fresh) as store:
        assert store.list() == []
    clash = memory("import", str(good), "--db", str(db))
    assert clash.code == 1 and "already exists" in clash.err and "--skip-existing" in clash.err
    skipped = memory("import", str(good), "--db", str(db), "--skip-existing")
    assert skipped.code == 0 and "skipped 3" in skipped.out


def test_import_can_quarantine_a_foreign_file(memory: Callable[..., Result], tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    items = seed(db)
    dump = tmp_path / "dump.jsonl"
    memory("export", str(dump), "--db", str(db))
    fresh = tmp_path / "fresh.db"
    assert memory("import", str(dump), "--db", str(fresh), "--quarantine").code == 0
    with SQLiteStore(fresh) as store:
        assert store.get(items[0].id).status is MemoryStatus.QUARANTINED
        assert store.get(items[1].id).status is MemoryStatus.QUARANTINED
        assert len(store.history(items[0].id)) == 3  # the two exported versions plus the quarantine


def test_the_configured_store_and_path_are_used(memory: Callable[..., Result], tmp_path: Path) -> None:
    db = tmp_path / "configured.db"
    seed(db)
    Path("purpose-agent.toml").write_text(f'[memory]\nstore = "sqlite"\npath = "{db}"\n')
    listed = memory("list")
    assert listed.code == 0 and "whole test suite" in listed.out


def test_the_default_database_is_in_the_data_directory(memory: Callable[..., Result], data_home: Path) -> None:
    assert memory("list").out.strip() == "no memory items"
    assert (data_home / "purpose-agent" / "memory.db").is_file()


def test_the_installed_command_works(run_cli: Any, tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    items = seed(db)
    result = run_cli("memory", "show", items[0].id, "--db", str(db))
    assert result.code == 0 and "whole test suite" in result.stdout
