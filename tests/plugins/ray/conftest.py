"""One local Ray cluster for every Ray test (starting one takes 20-30 s on the shared 2-core
machine), and a throwaway PostgreSQL cluster its workers share, or the reason there is none.

The PostgreSQL password must be in the environment before Ray starts: the worker processes inherit
the environment Ray was started with. ``ray_workers.py`` beside this file holds the workers' code;
the workers find it through ``PYTHONPATH``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def postgres_or_reason() -> Iterator[Any]:
    """A running :class:`ThrowawayCluster`, or the sentence why none could start (a string)."""
    try:
        from purpose_agent_postgres.testing import ClusterUnavailable, ThrowawayCluster, serving
    except ImportError as exc:
        yield f"purpose-agent-postgres is not installed: {exc}"
        return
    try:
        cluster = ThrowawayCluster.start(settings={"fsync": "off"})
    except ClusterUnavailable as exc:
        yield f"no throwaway PostgreSQL cluster: {exc}"
        return
    with serving(cluster):
        yield cluster


@pytest.fixture(scope="session")
def ray_cluster(postgres_or_reason: Any) -> Iterator[Any]:
    ray = pytest.importorskip("ray")
    if ray.is_initialized():
        pytest.fail("a Ray connection is already open in this process; the tests start their own cluster")
    path = os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH", "")]))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": path}})
    try:
        yield ray
    finally:
        ray.shutdown()
