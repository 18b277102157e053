"""pa.swarm on Ray: workers build their team from the same TOML, share a PostgreSQL memory (a lesson
one worker is taught, another worker's run retrieves), a worker process that dies is replaced and
its task retried, and a worker that cannot be pickled is refused with what to pass instead."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import ray_workers

import purpose_agent as pa

pytestmark = pytest.mark.slow


def write_config(path: Path, extra: str = "") -> str:
    path.write_text(
        '[runtime]\nexecutor = "ray"\n\n[plugins.ray]\nworkers = 2\n'
        # The workers load only what the tasks need: the memory store, two scanners, the executors.
        '\n[kernel]\nplugins = ["postgres", "immune-injection", "immune-privacy", "ray", "executors", "memory"]\n'
        + extra, encoding="utf-8")
    return str(path)


def test_a_lesson_taught_to_one_worker_is_retrieved_by_another(ray_cluster: Any, postgres_or_reason: Any,
                                                               tmp_path: Path) -> None:
    if isinstance(postgres_or_reason, str):
        pytest.skip(postgres_or_reason)
    from purpose_agent_postgres.testing import schema_for

    cluster = postgres_or_reason
    config = write_config(tmp_path / "purpose-agent.toml", (
        '\n[memory]\nstore = "postgres"\n\n[plugins.postgres]\n'
        f'dsn = "{cluster.dsn}"\npassword_env = "{cluster.password_env}"\nschema = "{schema_for(str(tmp_path))}"\n'))
    spec = pa.WorkerSpec(factory=ray_workers.deployment_team, config_path=config)

    # [runtime] executor = "ray" in the spec's TOML: no executor argument needed.
    before = pa.swarm([("ask", ray_workers.QUESTION)] * 2, spec)
    assert all(isinstance(r, dict) for r in before), before
    assert len({r["pid"] for r in before}) == 2, f"the two tasks ran in one process: {before}"
    assert {r["store"] for r in before} == {"PostgresStore"}
    assert [r["answer"] for r in before] == ["investigate first"] * 2, "the lesson was known before it was taught"

    [taught] = pa.swarm([("teach", ray_workers.LESSON)], spec)
    assert isinstance(taught, dict), taught
    after = pa.swarm([("ask", ray_workers.QUESTION)] * 2, spec)
    assert {r["pid"] for r in after} == {r["pid"] for r in before}
    others = [r for r in after if r["pid"] != taught["pid"]]
    assert others, "no task ran in a worker other than the one taught"
    assert [r["answer"] for r in after] == ["roll back first"] * 2


def test_a_worker_process_that_dies_is_replaced_and_its_task_retried(ray_cluster: Any, tmp_path: Path) -> None:
    [survived] = pa.swarm([str(tmp_path / "died-once")], ray_workers.die_once, executor="ray", retries=1)
    assert isinstance(survived, str) and survived.startswith("survived"), survived
    [lost] = pa.swarm([str(tmp_path / "dies-again")], ray_workers.die_once, executor="ray")
    assert isinstance(lost, ray_cluster.exceptions.RayError), lost  # no retry: the crash in its place
    assert len(set(pa.swarm(list(range(8)), ray_workers.pid, executor="ray"))) >= 1  # the pool still serves


class HoldsALock:
    def __init__(self) -> None:
        self.lock = threading.Lock()

    async def arun(self, task: Any) -> Any:
        return task


def test_a_worker_that_cannot_be_pickled_is_refused_with_what_to_pass(ray_cluster: Any) -> None:
    with pytest.raises(TypeError, match=r"cannot be sent to Ray workers.*WorkerSpec\(factory="):
        pa.swarm([1], HoldsALock(), executor="ray")


def test_an_unknown_option_names_the_valid_ones() -> None:
    import purpose_agent_ray
    from purpose_agent.testing import make_kernel

    kernel = make_kernel({"ray": purpose_agent_ray}, strict=True)
    with pytest.raises(ValueError, match="has no option 'worker'; its options are max_in_flight, address"):
        kernel.executor("ray", worker=3)
