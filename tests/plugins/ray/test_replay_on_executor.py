"""Memory CI's replay runs through an executor: in this process and on a local Ray cluster, the
decisions (status and the figures in the reason) equal those of the serial path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import ray_workers

from purpose_agent.learning.ci import MemoryCI
from purpose_agent.models import MemoryItem, MemoryStatus
from purpose_agent.testing import make_kernel

NEUTRAL = "Name release branches after the sprint."
BASE = "Keep the runbook next to the service."


def decide(ci: MemoryCI, kernel: Any) -> list[tuple[str, str, str]]:
    """Replay three quarantined candidates (helpful, harmful, neutral) in a fresh store."""
    store = kernel.memory_store("memory")
    ci.store = store
    decided = []
    for text in (ray_workers.HELPFUL, ray_workers.HARMFUL, NEUTRAL):
        item = store.add(MemoryItem(text=text, status=MemoryStatus.QUARANTINED, status_reason="passed 1 scanner(s)"))
        after = ci.replay(item, [BASE])
        decided.append((after.text, after.status.value, after.status_reason))
    return decided


def serial(kernel: Any, tasks: list[str]) -> list[tuple[str, str, str]]:
    ci = MemoryCI(kernel, None, replayer=lambda task, lessons: ray_workers.replay_score((task, lessons)),
                  replay_tasks=tasks, max_replays=len(tasks))
    return decide(ci, kernel)


TASKS = ["deploy the payments service", "deploy the search service", "write the changelog"]


def test_replays_on_the_in_process_executor_decide_as_the_serial_path() -> None:
    kernel = make_kernel(builtins=True)
    expected = serial(kernel, TASKS)
    assert [status for _, status, _ in expected] == ["promoted", "rejected", "rejected"]
    assert expected[0][2] == "improvement without regression: replay on 3 task(s): 5.3 without, 7.3 with"
    assert expected[1][2].startswith("regression:") and expected[2][2].startswith("no gain:")
    calls: list[tuple[str, list[str]]] = []

    def counting(task: str, lessons: list[str]) -> float:
        calls.append((task, lessons))
        return ray_workers.replay_score((task, lessons))

    # the replayer itself as the worker, through [runtime] executor's default (in-process)
    ci = MemoryCI(kernel, None, replayer=counting, replay_tasks=TASKS, max_replays=3, executor="in-process")
    assert decide(ci, kernel) == expected
    assert len(calls) == 3 * 2 * len(TASKS)
    # a worker of one job, on the executor [runtime] executor names
    configured = make_kernel(builtins=True, config={"runtime": {"executor": "in-process"}})
    ci = MemoryCI(configured, None, replayer=counting, replay_tasks=TASKS, max_replays=3,
                  replay_worker=ray_workers.replay_score)
    assert decide(ci, configured) == expected


def test_a_failing_replay_job_leaves_the_item_quarantined_and_says_why() -> None:
    kernel = make_kernel(builtins=True)
    attempts: list[str] = []

    def flaky(job: tuple[str, list[str]]) -> float:
        attempts.append(job[0])
        raise ConnectionError("the model server went away")

    store = kernel.memory_store("memory")
    ci = MemoryCI(kernel, store, replayer=lambda t, ls: 0.0, replay_tasks=TASKS[:1], replay_worker=flaky,
                  replay_retries=1)
    item = store.add(MemoryItem(text=NEUTRAL, status=MemoryStatus.QUARANTINED, status_reason="passed 1 scanner(s)"))
    with pytest.raises(ConnectionError, match="went away"):
        ci.replay(item)
    assert len(attempts) == 2 * 2  # two jobs, each tried twice
    assert store.get(item.id).status == MemoryStatus.QUARANTINED


@pytest.mark.slow
def test_replays_on_ray_decide_as_the_serial_path_and_spread_over_workers(ray_cluster: Any, tmp_path: Path) -> None:
    import purpose_agent_ray

    kernel = make_kernel({"ray": purpose_agent_ray}, builtins=True,
                         config={"runtime": {"executor": "ray"}, "plugins": {"ray": {"workers": 2}}})
    runs = tmp_path / "runs"  # each replay run leaves its process id here
    runs.mkdir()
    tasks = [f"{task} @ {runs}" for task in TASKS]
    expected = serial(kernel, tasks)
    ran_here = {path.name.split("-")[0] for path in runs.iterdir()}
    for path in runs.iterdir():
        path.unlink()
    # [runtime] executor = "ray": the jobs go to the Ray workers, a module-level function of one job
    ci = MemoryCI(kernel, None, replayer=lambda t, ls: 0.0, replay_tasks=tasks, max_replays=3,
                  replay_worker=ray_workers.replay_score, replay_concurrency=4)
    try:
        assert decide(ci, kernel) == expected
    finally:
        ci.close()
    processes = {path.name.split("-")[0] for path in runs.iterdir()}
    assert len(list(runs.iterdir())) == 3 * 2 * len(TASKS)
    assert len(processes) == 2 and not processes & ran_here, processes
