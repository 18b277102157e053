"""The PostgreSQL store and checkpointer pass the same conformance suites as the SQLite ones,
against a real server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import purpose_agent_postgres
from purpose_agent_conformance import CheckpointerConformance, MemoryStoreConformance
from purpose_agent_postgres.testing import ThrowawayCluster, schema_for


class _OnTheCluster:
    """The plugin's components on the session's throwaway cluster, each test in a schema of its own."""

    plugin = purpose_agent_postgres
    plugin_id = "postgres"
    cluster: ThrowawayCluster

    @pytest.fixture(autouse=True)
    def _use_cluster(self, postgres_cluster: ThrowawayCluster) -> None:
        self.cluster = postgres_cluster

    def store_options_for(self, tmp_path: Path) -> dict[str, Any]:
        return {"dsn": self.cluster.dsn, "password_env": self.cluster.password_env, "schema": schema_for(str(tmp_path))}

    checkpointer_options_for = store_options_for


class TestPostgresStore(_OnTheCluster, MemoryStoreConformance):
    store_name = "postgres"


class TestPostgresCheckpointer(_OnTheCluster, CheckpointerConformance):
    checkpointer_name = "postgres"
