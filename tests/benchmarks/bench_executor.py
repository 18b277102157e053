"""Executors side by side: a swarm on Ray beside the in-process executor, and what a Ray task costs.

    .venv/bin/python tests/benchmarks/bench_executor.py [--tasks 200] [--rounds 3]

1. **Swarm**: 200 one-step tasks against an OpenAI-compatible server on loopback (its own process)
   answering each request after 100 ms, concurrency 50: ideal wall time 200/50 x 0.1 s = 0.4 s.
   In process: one Spark shared by the tasks (as ``bench_runtime.py --swarm-only``). On Ray: a
   local cluster (``num_cpus=2``), two worker processes, each building its own Spark from a
   :class:`purpose_agent.WorkerSpec` whose TOML names the server. Median of ``--rounds`` swarms
   after a warm-up swarm (which starts the workers; its time is reported apart).
2. **Fixed cost of a Ray task**: the round trip of one no-op task, one at a time (a bare
   ``@ray.remote`` function, and a task through the executor's worker pool), and the cost per
   task when 2,000 no-op tasks run with 200 in flight, beside the in-process executor.
3. **Start**: ``import ray`` and ``ray.init`` (a new local cluster), once.

The last line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def spark_for(kernel: Any) -> Any:
    """The WorkerSpec factory: a one-step Spark against the server ``[bench] url`` names."""
    import purpose_agent as pa
    from purpose_agent.runtime.loop import Budget
    from purpose_agent_openai.backend import OpenAIBackend

    backend = OpenAIBackend("bench", base_url=kernel.config.get("bench.url") + "/v1", api_key="local")
    return pa.Spark(role="worker", model=backend, tools=[], kernel=kernel, budget=Budget(max_steps=2))


def answer(task: Any) -> Any:
    """The no-op task: its result is its argument."""
    return task


async def async_answer(task: Any) -> Any:
    return task


def swarm_walls(tasks: int, rounds: int, worker: Any, executor: Any) -> tuple[list[float], float]:
    import purpose_agent as pa

    started = time.perf_counter()
    pa.swarm(["warm-up"] * 4, worker, concurrency=50, executor=executor)
    warm_up = time.perf_counter() - started
    walls = []
    for _ in range(rounds):
        started = time.perf_counter()
        results = pa.swarm([f"task {i}" for i in range(tasks)], worker, concurrency=50, executor=executor)
        walls.append(time.perf_counter() - started)
        failures = [r for r in results if isinstance(r, Exception) or r.answer != "ok"]
        assert not failures, failures[:3]
    return walls, warm_up


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from bench_runtime import SERVER

    import purpose_agent as pa
    from purpose_agent.runtime.loop import Budget
    from purpose_agent.testing import make_kernel
    from purpose_agent_openai.backend import OpenAIBackend

    ideal = arguments.tasks / 50 * 0.1
    figures: dict[str, Any] = {"tasks": arguments.tasks, "ideal_s": ideal}
    server = subprocess.Popen([sys.executable, "-c", SERVER, "0.1"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    try:
        url = server.stdout.readline().strip() if server.stdout else ""
        backend = OpenAIBackend("bench", base_url=url + "/v1", api_key="local")
        spark = pa.Spark(role="worker", model=backend, tools=[], kernel=make_kernel(), budget=Budget(max_steps=2))
        here_walls, _ = swarm_walls(arguments.tasks, arguments.rounds, spark, "in-process")
        figures["in_process_wall_s"] = round(statistics.median(here_walls), 3)

        started = time.perf_counter()
        import ray

        figures["ray_import_s"] = round(time.perf_counter() - started, 2)
        started = time.perf_counter()
        # The workers import this file by name (the spec's factory) from PYTHONPATH.
        path = os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH", "")]))
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, runtime_env={"env_vars": {"PYTHONPATH": path}})
        figures["ray_init_s"] = round(time.perf_counter() - started, 2)
        with tempfile.TemporaryDirectory() as scratch:
            config = Path(scratch, "purpose-agent.toml")
            # The workers load no plugin but the executors (the caller reads the same file to find
            # 'ray'), like make_kernel() in process: the figure is the executor's.
            config.write_text(f'[kernel]\nplugins = ["ray", "executors"]\n\n[plugins.ray]\nworkers = 2\n\n[bench]\nurl = "{url}"\n',
                              encoding="utf-8")
            import bench_executor

            spec = pa.WorkerSpec(factory=bench_executor.spark_for, config_path=str(config))
            ray_walls, warm_up = swarm_walls(arguments.tasks, arguments.rounds, spec, "ray")
        figures["ray_wall_s"] = round(statistics.median(ray_walls), 3)
        figures["ray_first_swarm_s"] = round(warm_up, 2)
    finally:
        if server.stdin:
            server.stdin.close()
        server.wait(timeout=10)

    # The fixed cost of a task: one at a time, then many in flight.
    # num_cpus=0: the two workers hold the cluster's two CPUs, and a task asking for one would wait forever.
    bare = ray.remote(num_cpus=0)(answer)
    ray.get(bare.remote(0))
    trips = []
    for i in range(50):
        started = time.perf_counter()
        ray.get(bare.remote(i))
        trips.append(time.perf_counter() - started)
    figures["ray_bare_task_round_trip_ms"] = round(statistics.median(trips) * 1000, 2)

    from purpose_agent_ray import RayExecutor

    executor = RayExecutor(max_in_flight=200, workers=2)
    asyncio.run(executor.amap(async_answer, [0]))
    trips = []
    for i in range(50):
        started = time.perf_counter()
        asyncio.run(executor.amap(async_answer, [i]))
        trips.append(time.perf_counter() - started)
    figures["ray_executor_one_task_ms"] = round(statistics.median(trips) * 1000, 2)
    many = 2000
    for name, chosen in (("ray", executor), ("in_process", "in-process")):
        started = time.perf_counter()
        results = pa.swarm(list(range(many)), async_answer, concurrency=200, executor=chosen)
        wall = time.perf_counter() - started
        assert results == list(range(many))
        figures[f"{name}_per_task_ms_200_in_flight"] = round(wall / many * 1000, 3)
    ray.shutdown()

    load = os.getloadavg()[0]
    figures["load_average"] = round(load, 1)
    print(f"swarm: {arguments.tasks} one-step tasks, concurrency 50, 100 ms loopback server (ideal {ideal:.2f} s), "
          f"median of {arguments.rounds}; load average {load:.1f} on {os.cpu_count()} cores")
    print(f"  {'executor':<36}{'wall (s)':>10}{'x ideal':>10}")
    print(f"  {'in-process':<36}{figures['in_process_wall_s']:>10.3f}{figures['in_process_wall_s'] / ideal:>10.2f}")
    print(f"  {'ray (2 worker processes)':<36}{figures['ray_wall_s']:>10.3f}{figures['ray_wall_s'] / ideal:>10.2f}")
    print(f"  ray's first swarm (starting workers, building Sparks): {figures['ray_first_swarm_s']:.2f} s")
    print("fixed cost of a task")
    print(f"  bare @ray.remote round trip, one at a time       {figures['ray_bare_task_round_trip_ms']:>8.2f} ms")
    print(f"  one task through the Ray executor (own batch)    {figures['ray_executor_one_task_ms']:>8.2f} ms")
    print(f"  per task, {many} no-op tasks, 200 in flight: ray  {figures['ray_per_task_ms_200_in_flight']:>8.3f} ms, "
          f"in-process {figures['in_process_per_task_ms_200_in_flight']:.3f} ms")
    print(f"start: import ray {figures['ray_import_s']:.2f} s, ray.init (new local cluster) {figures['ray_init_s']:.2f} s")
    figures["in_process_ratio_to_ideal"] = round(figures["in_process_wall_s"] / ideal, 3)
    figures["ray_ratio_to_ideal"] = round(figures["ray_wall_s"] / ideal, 3)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
