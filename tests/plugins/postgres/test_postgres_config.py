"""Configuration: the connection string from TOML, the password only through password_env, and
every mistake (no server, wrong password, unknown option, a password in the file) answered with
one sentence that says what is wrong and what to do. The command line reports the retrieval in use."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import purpose_agent_postgres
from purpose_agent.testing import make_kernel
from purpose_agent_postgres import PostgresError
from purpose_agent_postgres.testing import ThrowawayCluster


def refusal(kernel: Any, **options: Any) -> str:
    with pytest.raises(PostgresError) as caught:
        kernel.memory_store("postgres", **options)
    message = str(caught.value)
    assert "\n" not in message and message.strip(), message
    return message


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when the probe is


def test_settings_come_from_toml_with_the_password_from_the_environment(options: dict[str, Any]) -> None:
    kernel = make_kernel({"postgres": purpose_agent_postgres}, strict=True, config={"plugins": {"postgres": options}})
    store = kernel.memory_store("postgres")
    checkpointer = kernel.checkpointer("postgres")
    try:
        assert store.schema == options["schema"] and store.stats()["items"] == 0
        assert checkpointer.latest("none") is None
    finally:
        store.close()
        checkpointer.close()


def test_no_server_listening(kernel: Any, options: dict[str, Any]) -> None:
    port = closed_port()
    message = refusal(kernel, **{**options, "dsn": f"postgresql://pa@127.0.0.1:{port}/postgres"})
    assert message.startswith(f"cannot connect to PostgreSQL at pa@127.0.0.1:{port}/postgres (")
    assert "is the server running" in message and "[plugins.postgres]" in message


def test_wrong_password(kernel: Any, options: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PA_WRONG_PASSWORD", "not-the-password")
    message = refusal(kernel, **{**options, "password_env": "PA_WRONG_PASSWORD"})
    assert "refused the login" in message and 'password authentication failed for user "pa"' in message
    assert "the password in the environment variable PA_WRONG_PASSWORD" in message
    assert "not-the-password" not in message


def test_no_such_database(kernel: Any, options: dict[str, Any], postgres_cluster: ThrowawayCluster) -> None:
    message = refusal(kernel, **{**options, "dsn": postgres_cluster.dsn.rsplit("/", 1)[0] + "/nowhere"})
    assert "has no such database" in message and "createdb" in message


def test_password_variable_not_set(kernel: Any, options: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PA_UNSET_PASSWORD", raising=False)
    message = refusal(kernel, **{**options, "password_env": "PA_UNSET_PASSWORD"})
    assert message.startswith("the environment variable PA_UNSET_PASSWORD (named by password_env")


def test_unknown_option(kernel: Any, options: dict[str, Any]) -> None:
    message = refusal(kernel, **options, colour="blue")
    assert message.startswith("unknown option(s) colour for the postgres memory store; it takes dsn, password_env")


def test_a_password_is_never_taken_from_configuration(kernel: Any, options: dict[str, Any]) -> None:
    in_dsn = refusal(kernel, **{**options, "dsn": "postgresql://pa:hunter2@127.0.0.1:5432/postgres"})
    assert "holds a password" in in_dsn and "password_env" in in_dsn and "hunter2" not in in_dsn
    assert "password_env" in refusal(kernel, **options, password="hunter2")
    assert "password_env" in refusal(kernel, **{**options, "dsn": "host=127.0.0.1 password=hunter2"})


def test_other_mistakes(kernel: Any, options: dict[str, Any]) -> None:
    assert refusal(kernel, **{**options, "dsn": ""}).startswith("no PostgreSQL server is configured: set dsn")
    assert "not a PostgreSQL connection string" in refusal(kernel, **{**options, "dsn": "host=127.0.0.1 nonsense"})
    assert "not a plain PostgreSQL schema name" in refusal(kernel, **{**options, "schema": "memory; DROP"})
    assert "pool_max (1) under [plugins.postgres] is below pool_min (2)" in refusal(kernel, **options, pool_min=2,
                                                                                   pool_max=1)


def test_an_unknown_key_in_toml_is_reported_on_the_plugin() -> None:
    kernel = make_kernel({"postgres": purpose_agent_postgres},
                         config={"plugins": {"postgres": {"dsn": "postgresql://x@h/db", "colour": "blue"}}})
    kernel.components("memory_store")  # loads the plugin, which validates its section
    record = kernel.records["postgres"]
    assert record.status == "failed" and "[plugins.postgres]" in record.reason and "colour" in record.reason


def run_cli(tmp_path: Path, options: dict[str, Any], *arguments: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "purpose-agent.toml").write_text(
        '[memory]\nstore = "postgres"\n\n[plugins.postgres]\n'
        + "".join(f"{key} = {json.dumps(value)}\n" for key, value in options.items()))
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"), "PURPOSE_AGENT_PLUGINS": "postgres"}
    env.pop("PURPOSE_AGENT_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "purpose_agent", *arguments], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_cli_reports_the_retrieval_in_use(tmp_path: Path, options: dict[str, Any]) -> None:
    status = run_cli(tmp_path, options, "postgres", "status")
    assert status.returncode == 0, status.stderr
    assert "(version 2)" in status.stdout and "lexical         BM25 over the stored tsvector" in status.stdout
    assert "pgvector" in status.stdout and "integrity       ok" in status.stdout and "\ndense " in status.stdout
    stats = run_cli(tmp_path, options, "memory", "stats")
    assert stats.returncode == 0, stats.stderr
    assert "BM25" in json.loads(stats.stdout)["retrieval"]["lexical"]
    doctor = run_cli(tmp_path, options, "doctor")
    memory = doctor.stdout.split("\nmemory:\n", 1)[1]
    assert memory.startswith("  store          postgres\n  lexical        BM25 over the stored tsvector"), doctor.stdout
    assert "\n  dense          " in memory and "\n  pgvector       " in memory
    report = json.loads(run_cli(tmp_path, options, "doctor", "--json").stdout)
    assert report["memory"]["store"] == "postgres" and set(report["memory"]["retrieval"]) == {
        "lexical", "dense", "pgvector"}


def test_the_cli_says_why_it_cannot_connect(tmp_path: Path, options: dict[str, Any]) -> None:
    done = run_cli(tmp_path, {**options, "dsn": f"postgresql://pa@127.0.0.1:{closed_port()}/postgres"},
                   "postgres", "status")
    assert done.returncode != 0 and "cannot connect to PostgreSQL at pa@127.0.0.1:" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_memory_commands_work_on_it(tmp_path: Path, options: dict[str, Any], kernel: Any) -> None:
    from purpose_agent.models import MemoryItem, MemoryStatus

    store = kernel.memory_store("postgres", **options)
    try:
        item = store.add(MemoryItem(text="Rotate the keys every quarter.", status=MemoryStatus.QUARANTINED))
    finally:
        store.close()
    short = item.id[:8]
    listed = run_cli(tmp_path, options, "memory", "list", "--json")
    assert listed.returncode == 0 and json.loads(listed.stdout.splitlines()[0])["id"] == item.id, listed.stderr
    promoted = run_cli(tmp_path, options, "memory", "promote", short, "--reason", "checked by hand")
    assert promoted.returncode == 0, promoted.stderr
    rolled = run_cli(tmp_path, options, "memory", "rollback", short, "1", "--reason", "too early")
    assert rolled.returncode == 0, rolled.stderr
    history = run_cli(tmp_path, options, "memory", "history", short, "--json")
    statuses = [json.loads(line)["status"] for line in history.stdout.splitlines()]
    assert statuses == ["quarantined", "promoted", "quarantined"], history.stdout + history.stderr
    exported = run_cli(tmp_path, options, "memory", "export", str(tmp_path / "export.jsonl"))
    assert exported.returncode == 0, exported.stderr
    copy = {**options, "schema": options["schema"] + "_copy"}
    imported = run_cli(tmp_path, copy, "memory", "import", str(tmp_path / "export.jsonl"))
    assert imported.returncode == 0, imported.stderr
    again = run_cli(tmp_path, copy, "memory", "history", short, "--json")
    assert again.stdout == history.stdout
