"""The executor role: the built-in in-process executor passes the conformance suite, and swarm
chooses its executor from the argument, from ``[runtime] executor``, or runs in this process."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

import purpose_agent as pa
from purpose_agent.builtins import executors
from purpose_agent.errors import ConfigError, UnknownComponentError
from purpose_agent.hookspecs import hookimpl
from purpose_agent.interfaces import Executor, WorkerSpec
from purpose_agent.testing import make_kernel
from purpose_agent_conformance import ExecutorConformance, configured_greeting, double


class TestInProcessExecutor(ExecutorConformance):
    plugin = executors
    plugin_id = "executors"
    executor_name = "in-process"
    startup_s = 10.0


class CountingExecutor:
    """An executor plugin that records the batches it was given and runs them in process."""

    batches: list[tuple[Any, list[Any], int, int]] = []

    def __init__(self, max_in_flight: int = 8) -> None:
        self.max_in_flight = max_in_flight
        self.closed = False

    async def amap(self, worker: Any, tasks: Any, *, retries: int = 0) -> list[Any]:
        self.batches.append((worker, list(tasks), retries, self.max_in_flight))
        return await executors.InProcessExecutor(self.max_in_flight).amap(worker, tasks, retries=retries)

    def close(self) -> None:
        self.closed = True


class CountingPlugin:
    PURPOSE_AGENT_HOOK_API = "1.5"

    @staticmethod
    @hookimpl
    def register_executors(register: Any) -> None:
        register("counting", lambda context: CountingExecutor(**context.options))


@pytest.fixture(autouse=True)
def _fresh_batches() -> None:
    CountingExecutor.batches.clear()


async def triple(task: int) -> int:
    return task * 3


class Worker:
    """An agent-shaped worker whose kernel says which executor to use."""

    def __init__(self, kernel: Any) -> None:
        self.kernel = kernel

    async def arun(self, task: int) -> int:
        return task + 1


def test_the_in_process_executor_satisfies_the_protocol() -> None:
    assert isinstance(executors.InProcessExecutor(), Executor)


def test_swarm_uses_the_executor_named_in_the_argument_with_concurrency_as_its_bound() -> None:
    kernel = make_kernel({"counting": CountingPlugin}, strict=True)
    worker = Worker(kernel)
    assert pa.swarm([1, 2, 3], worker, executor="counting", concurrency=5, retries=1) == [2, 3, 4]
    [(given, tasks, retries, bound)] = CountingExecutor.batches
    assert given is worker and tasks == [1, 2, 3] and retries == 1 and bound == 5


def test_swarm_uses_the_configured_executor() -> None:
    kernel = make_kernel({"counting": CountingPlugin}, config={"runtime": {"executor": "counting"}}, strict=True)
    assert pa.swarm([1, 2], Worker(kernel)) == [2, 3]
    assert len(CountingExecutor.batches) == 1


def test_without_configuration_swarm_runs_in_process_and_builds_no_executor() -> None:
    kernel = make_kernel({"counting": CountingPlugin}, strict=True)
    assert pa.swarm([1, 2], Worker(kernel)) == [2, 3]
    assert pa.swarm([1, 2], triple) == [3, 6]
    assert CountingExecutor.batches == []


def test_an_executor_object_is_used_as_it_is() -> None:
    executor = CountingExecutor(max_in_flight=3)
    assert pa.swarm([4], triple, executor=executor) == [12]
    assert len(executor.batches) == 1 and not executor.closed


def test_an_executor_swarm_built_is_closed_even_when_a_task_fails() -> None:
    built: list[CountingExecutor] = []

    class Plugin(CountingPlugin):
        @staticmethod
        @hookimpl
        def register_executors(register: Any) -> None:
            register("counting", lambda context: built.append(CountingExecutor(**context.options)) or built[-1])

    kernel = make_kernel({"counting": Plugin}, strict=True)

    class Failing(Worker):
        async def arun(self, task: int) -> int:
            raise RuntimeError("no")

    [failure] = pa.swarm([1], Failing(kernel), executor="counting")
    assert isinstance(failure, RuntimeError) and built[0].closed


def test_an_unknown_executor_names_what_is_installed() -> None:
    kernel = make_kernel({"counting": CountingPlugin}, strict=True)
    with pytest.raises(UnknownComponentError, match=r"no executor named 'cluster' \(available: counting\)"):
        pa.swarm([1], Worker(kernel), executor="cluster")


def test_bad_arguments_are_refused_with_what_to_do() -> None:
    with pytest.raises(ValueError, match="retries must be 0 or more"):
        pa.swarm([1], triple, retries=-1)
    with pytest.raises(ValueError, match="concurrency must be at least 1"):
        pa.swarm([1], triple, concurrency=0)
    with pytest.raises(TypeError, match="a swarm worker must be an agent"):
        pa.swarm([1], 42)
    with pytest.raises(FileNotFoundError, match="does not exist on this machine"):
        pa.swarm([1], WorkerSpec(factory=configured_greeting, config_path="no/such/worker.toml"))


def test_the_executor_key_is_type_checked(tmp_path: Path) -> None:
    (tmp_path / "purpose-agent.toml").write_text("[runtime]\nexecutor = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="executor"):
        pa.load_config(cwd=tmp_path, environ={})


def test_a_worker_spec_is_built_once_per_process(tmp_path: Path) -> None:
    config = tmp_path / "worker.toml"
    config.write_text('[conformance]\ngreeting = "hi"\n', encoding="utf-8")
    spec = WorkerSpec(factory=configured_greeting, config_path=str(config))
    assert pa.resolve_worker(spec) is pa.resolve_worker(spec)
    assert [text for text, _ in pa.swarm(["a", "b"], spec)] == ["hi, a", "hi, b"]


def test_the_kernel_builds_the_default_executor() -> None:
    kernel = make_kernel(builtins=True, strict=True)
    executor = kernel.executor(max_in_flight=3)
    assert isinstance(executor, executors.InProcessExecutor) and executor.max_in_flight == 3
    assert asyncio.run(executor.amap(double, [5])) == [10]
