"""The PostgreSQL store and checkpointer pass the same conformance suites as the SQLite ones,
against a real server: the store's include the learning scenario (a team learns, another team on
the same schema uses the lesson) and the filters on search by meaning."""

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

    def meaning_only_options_for(self, tmp_path: Path, embedder: Any) -> dict[str, Any]:
        # vectors searched in this process (test_postgres_pgvector.py has the pgvector path);
        # lexical_floor above 1 keeps no candidate by words: everything found is found by meaning
        return {"embedder": embedder, "pgvector": False, "min_similarity": -1.0, "lexical_floor": 2.0}


class TestPostgresCheckpointer(_OnTheCluster, CheckpointerConformance):
    checkpointer_name = "postgres"
