"""The Ray executor: a pool of worker processes (Ray actors) that run a swarm's tasks.

Why actors and not one Ray task per swarm task: an agent's task mostly waits on a model, so one
process can run many at once on its event loop, and building the agent (loading the kernel, its
plugins, connections to the memory store) should happen once per process, not once per task.
Each actor keeps the workers it built (:func:`purpose_agent.resolve_worker` caches them), so a
second swarm with the same :class:`~purpose_agent.interfaces.WorkerSpec` starts at once.

Backpressure is on the caller's side: at most ``max_in_flight`` tasks are submitted and not yet
finished; the others wait in this process, not in Ray's queues. Each task goes to the worker with
the fewest tasks in flight. Retries are resubmissions, possibly to another worker; a worker process
that dies is restarted by Ray (``max_restarts=-1``) and its tasks come back as failures to retry.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import threading
from collections.abc import Sequence
from typing import Any

#: Worker pools by (Ray session, job, workers, CPUs per worker): one per cluster connection, shared
#: by every executor of this process, so swarms after the first find their workers warm.
_POOLS: dict[tuple[str, str, int, float], list[Any]] = {}
_POOLS_LOCK = threading.Lock()


def settings_model() -> Any:
    """The pydantic model of ``[plugins.ray]`` (an unknown key is refused, naming it)."""
    from pydantic import BaseModel, ConfigDict, Field

    class RaySettings(BaseModel):
        """``address``: where the cluster is. ``"auto"`` joins the cluster ``ray start --head`` started
        on this machine (or that this machine joined as a worker); ``"HOST:6379"`` a head node's GCS;
        ``"ray://HOST:10001"`` a cluster through Ray Client. Unset: the cluster this process already
        initialised, else Ray's own choice (``RAY_ADDRESS``, a local cluster, or a new one here)."""

        model_config = ConfigDict(extra="forbid")

        address: str | None = Field(default=None, description="the Ray cluster to join (see RaySettings)")
        workers: int | None = Field(default=None, ge=1, le=10_000,
                                    description="worker processes (Ray actors); default: the cluster's CPUs")
        worker_cpus: float = Field(default=1.0, ge=0, le=1024,
                                   description="CPUs each worker reserves (0: as many workers as you like)")

    return RaySettings


def open_executor(context: Any) -> RayExecutor:
    """Build the executor from ``[plugins.ray]`` and the factory's options (which win)."""
    options = dict(context.options)
    max_in_flight = options.pop("max_in_flight", 8)
    if context.settings is not None:
        defaults = context.settings.model_dump()
        unknown = sorted(set(options) - set(defaults))
        if unknown:
            raise ValueError(f"the ray executor has no option {', '.join(map(repr, unknown))}; "
                             f"its options are max_in_flight, {', '.join(sorted(defaults))}")
        options = {**defaults, **options}
    return RayExecutor(max_in_flight=max_in_flight, **options)


class RayExecutor:
    """Tasks on a Ray cluster's worker processes (see the module docstring)."""

    def __init__(self, max_in_flight: int = 8, *, address: str | None = None, workers: int | None = None,
                 worker_cpus: float = 1.0) -> None:
        if not isinstance(max_in_flight, int) or isinstance(max_in_flight, bool) or max_in_flight < 1:
            raise ValueError(f"max_in_flight must be a whole number of at least 1, not {max_in_flight!r}")
        if workers is not None and (not isinstance(workers, int) or workers < 1):
            raise ValueError(f"workers must be a whole number of at least 1, not {workers!r}")
        self.max_in_flight = max_in_flight
        self.address = address
        self.workers = workers
        self.worker_cpus = worker_cpus

    # ------------------------------------------------------------------ the cluster

    def _connect(self) -> Any:
        import ray

        if not ray.is_initialized():
            try:
                ray.init(address=self.address, include_dashboard=False, log_to_driver=False)
            except ConnectionError as exc:
                raise ConnectionError(
                    f"no Ray cluster at {self.address or 'the default address'}: {exc}. Start one with "
                    "'ray start --head' (and 'ray start --address=HEAD:6379' on the other machines), or leave "
                    "[plugins.ray] address unset to start a local cluster in this process") from exc
        return ray

    def pool(self) -> list[Any]:
        """The worker actors, started on first use (each one process)."""
        ray = self._connect()
        context = ray.get_runtime_context()
        count = self.workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        key = (context.get_session_name(), context.get_job_id(), count, float(self.worker_cpus))
        with _POOLS_LOCK:
            pool = _POOLS.get(key)
            if pool is None:
                actor_class = ray.remote(_Worker).options(
                    num_cpus=self.worker_cpus, max_restarts=-1, max_concurrency=10_000)
                pool = _POOLS[key] = [actor_class.remote() for _ in range(count)]
        return pool

    # ------------------------------------------------------------------ a batch

    async def amap(self, worker: Any, tasks: Sequence[Any], *, retries: int = 0) -> list[Any]:
        """Run ``worker`` on every task on the cluster; results in task order, exceptions in place."""
        if retries < 0:
            raise ValueError(f"retries must be 0 or more, not {retries}")
        tasks = list(tasks)
        if not tasks:
            return []
        import ray

        try:
            ray.cloudpickle.dumps(worker)  # its own error is one line; ray.put's is a page of diagnosis
        except Exception as exc:  # what cannot be pickled cannot reach another process
            raise TypeError(
                f"the swarm's worker ({type(worker).__name__}) cannot be sent to Ray workers: {type(exc).__name__}: "
                f"{exc}. Pass purpose_agent.WorkerSpec(factory=<a module-level function that builds the agent from "
                "a kernel>, config_path=<the TOML every machine reads>) so each worker builds its own") from exc
        # Joining the cluster blocks the first batch (ray.init wants the main thread); later ones find it.
        pool = self.pool()
        shipped = ray.put(worker)
        gate = asyncio.Semaphore(self.max_in_flight)
        in_flight = dict.fromkeys(range(len(pool)), 0)

        async def attempt(task: Any, index: int) -> Any:
            in_flight[index] += 1
            reference = pool[index].run.remote(shipped, task)
            try:
                return await reference
            except asyncio.CancelledError:
                ray.cancel(reference)  # the worker cancels the task's coroutine (or thread's result)
                raise
            finally:
                in_flight[index] -= 1

        def least_busy(avoid: int | None) -> int:
            candidates = [index for index in in_flight if index != avoid] or list(in_flight)
            return min(candidates, key=in_flight.__getitem__)

        async def one(task: Any) -> Any:
            async with gate:
                failure: Exception | None = None
                failed_worker: int | None = None
                for attempt_number in range(retries + 1):
                    if failed_worker is not None and attempt_number:
                        # A worker that died is being restarted by Ray; give it (or the others) a moment.
                        await asyncio.sleep(min(0.5 * 2 ** (attempt_number - 1), 5.0))
                    index = least_busy(failed_worker)
                    try:
                        return await attempt(task, index)
                    except ray.exceptions.RayTaskError as exc:  # the task raised: return what it raised
                        cause = getattr(exc, "cause", None)
                        failure, failed_worker = (cause if isinstance(cause, Exception) else exc), None
                    except ray.exceptions.RayError as exc:  # the worker died or restarts: retry elsewhere
                        failure, failed_worker = exc, index
                return failure

        return list(await asyncio.gather(*(one(task) for task in tasks)))

    def close(self) -> None:
        """Nothing to release per batch: the worker pool stays warm for this process's next swarm
        and ends with the Ray connection (``ray.shutdown()`` or the process exiting)."""


class _Worker:
    """One worker process: builds each worker once and runs many tasks at once on its event loop."""

    async def run(self, worker: Any, task: Any) -> Any:
        from purpose_agent import resolve_worker

        call = resolve_worker(worker)
        if inspect.iscoroutinefunction(call):
            return await call(task)
        # A synchronous function (or one returning an awaitable) must not hold up the loop that
        # runs this worker's other tasks.
        result = await asyncio.to_thread(call, task)
        return (await result) if inspect.isawaitable(result) else result

    def pid(self) -> int:
        """The worker's process id (tests and ``doctor`` tell workers apart by it)."""
        return os.getpid()
