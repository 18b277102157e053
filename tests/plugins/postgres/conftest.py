"""One throwaway PostgreSQL cluster for the whole session (initdb in a temporary directory, run as
an unprivileged user when the tests run as root, loopback only), or a skip that says why not.
Each test gets a schema of its own, so tests never see each other's items."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import purpose_agent_postgres
from purpose_agent.testing import make_kernel
from purpose_agent_postgres.testing import ClusterUnavailable, ThrowawayCluster, schema_for, serving


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[ThrowawayCluster]:
    try:
        # fsync off: the tests kill clients, never the server, so durability against power loss is not
        # under test here, and the machine's disk is shared (tests/benchmarks/bench_postgres.py keeps it on).
        cluster = ThrowawayCluster.start(settings={"fsync": "off", "max_connections": "200"})
    except ClusterUnavailable as exc:
        pytest.skip(f"no throwaway PostgreSQL cluster: {exc}")
    with serving(cluster):
        yield cluster


@pytest.fixture
def options(postgres_cluster: ThrowawayCluster, tmp_path: Path) -> dict[str, Any]:
    """Options for ``kernel.memory_store("postgres", **options)`` in a fresh schema."""
    return {"dsn": postgres_cluster.dsn, "password_env": postgres_cluster.password_env,
            "schema": schema_for(str(tmp_path))}


@pytest.fixture
def kernel() -> Any:
    return make_kernel({"postgres": purpose_agent_postgres}, strict=True)


@pytest.fixture
def store(kernel: Any, options: dict[str, Any]) -> Iterator[Any]:
    store = kernel.memory_store("postgres", **options)
    yield store
    store.close()
