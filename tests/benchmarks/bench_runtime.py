"""Runtime costs: kernel overhead per step, retrieval at 10,000 memories, and a swarm.

    .venv/bin/python tests/benchmarks/bench_runtime.py [--swarm-only [--rounds N]]

1. **Overhead per step**: a 200-step run with an instant scripted backend and a no-op tool;
   time inside the backend and the tool is measured and subtracted, so what remains is the
   kernel's own work (prompt building, parsing, events, checkpoint-free loop). Target <= 1 ms.
2. **Retrieval at 10,000 stored memories** (SQLite store, FTS5): the per-run cost of choosing
   lessons, and the per-step overhead of a 10-step run that includes it.
3. **Swarm**: 200 one-step tasks against an OpenAI-compatible server on loopback that answers
   each request after 100 ms, concurrency 50. Ideal wall time 200/50 x 0.1 s = 0.4 s; target
   <= 1.3 x ideal. The median of five swarms (each its own event loop and connection pool, as
   every ``pa.swarm`` call is): one swarm on 2 shared cores varies by +-15 %. Also the client's
   CPU per task (``time.process_time`` over the swarms, this process only: the server runs in
   its own), which other jobs on the machine move far less than the wall time.

   Instructions per task, a figure load does not move at all (needs valgrind; the server is a
   child process and not counted)::

       valgrind --tool=callgrind --callgrind-out-file=/dev/null .venv/bin/python tests/benchmarks/bench_runtime.py --swarm-only --rounds 1
       (the same with --rounds 3)

   then (instructions of 3 rounds - instructions of 1 round) / 400 tasks.

The last line is JSON.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import purpose_agent as pa
from purpose_agent.models import ChatRequest, ChatResponse, MemoryItem, MemoryStatus, Message, Scope, Usage
from purpose_agent.runtime.actor import Actor
from purpose_agent.runtime.loop import Budget, Runner


class TimedInstantBackend:
    """Replies instantly from a fixed list, and records the time spent inside itself."""

    name = "instant:bench"
    supports_tools = False

    def __init__(self, steps: int) -> None:
        self.steps = steps
        self.calls = 0
        self.seconds = 0.0
        self.tool_reply = json.dumps({"thought": "", "action": "tool", "tool": "noop", "arguments": {"x": 1}})
        self.answer = json.dumps({"thought": "", "action": "answer", "answer": "done"})

    async def acomplete(self, request: ChatRequest) -> ChatResponse:
        started = time.perf_counter()
        self.calls += 1
        content = self.tool_reply if self.calls < self.steps else self.answer
        response = ChatResponse(message=Message(role="assistant", content=content), usage=Usage(prompt_tokens=10, completion_tokens=5))
        self.seconds += time.perf_counter() - started
        return response


tool_seconds = 0.0


@pa.tool
def noop(x: int) -> str:
    """Do nothing."""
    global tool_seconds
    started = time.perf_counter()
    out = str(x)
    tool_seconds += time.perf_counter() - started
    return out


def overhead_per_step_ms(steps: int, lessons: list[str] | None = None) -> float:
    global tool_seconds
    tool_seconds = 0.0
    backend = TimedInstantBackend(steps)
    runner = Runner(actor=Actor(backend=backend, tools=[noop], lessons=lessons or []), budget=Budget(max_steps=steps + 1))
    started = time.perf_counter()
    result = runner.run("benchmark task")
    elapsed = time.perf_counter() - started
    assert len(result.trajectory.steps) == steps, result.stopped
    return (elapsed - backend.seconds - tool_seconds) / steps * 1000


def retrieval_ms(store: Any, queries: list[str]) -> list[float]:
    from purpose_agent.memory.retrieval import RetrievalPolicy, RunScope, retrieve

    times = []
    for query in queries:
        started = time.perf_counter()
        retrieve(store, query, scope=RunScope(purpose="bench"), policy=RetrievalPolicy())
        times.append((time.perf_counter() - started) * 1000)
    return times


SERVER = """
import asyncio, json, sys

# A minimal asyncio HTTP/1.1 server (keep-alive, Content-Length bodies) answering every chat
# completion after a fixed delay: the server must not be the bottleneck being measured.
delay = float(sys.argv[1])
content = json.dumps({"thought": "", "action": "answer", "answer": "ok"})
body = json.dumps({"id": "x", "object": "chat.completion", "model": "bench", "choices": [
    {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}).encode()
reply = b"HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\nContent-Length: " + str(len(body)).encode() + b"\\r\\n\\r\\n" + body


async def handle(reader, writer):
    try:
        while True:
            length = 0
            while True:
                line = await reader.readline()
                if not line:
                    return
                if line in (b"\\r\\n", b"\\n"):
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            await asyncio.sleep(delay)
            writer.write(reply)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=512)
    print("http://127.0.0.1:%d" % server.sockets[0].getsockname()[1], flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


asyncio.run(main())
"""


def swarm_seconds(tasks: int = 200, concurrency: int = 50, delay: float = 0.1, rounds: int = 5) -> tuple[list[float], float]:
    """Wall times of ``rounds`` swarms against a server in its own process (as a real local server
    would be), and this process's CPU milliseconds per task over them."""
    import subprocess

    from purpose_agent.testing import make_kernel
    from purpose_agent_openai.backend import OpenAIBackend

    server = subprocess.Popen([sys.executable, "-c", SERVER, str(delay)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    try:
        url = server.stdout.readline().strip() if server.stdout else ""
        backend = OpenAIBackend("bench", base_url=url + "/v1", api_key="local")
        spark = pa.Spark(role="worker", model=backend, tools=[], kernel=make_kernel(), budget=Budget(max_steps=2))
        pa.swarm(["warm-up"], spark, concurrency=1)
        walls = []
        cpu_started = time.process_time()
        for _ in range(rounds):
            started = time.perf_counter()
            results = pa.swarm([f"task {i}" for i in range(tasks)], spark, concurrency=concurrency)
            walls.append(time.perf_counter() - started)
            failures = [r for r in results if isinstance(r, Exception) or r.answer != "ok"]
            assert not failures, failures[:3]
    finally:
        if server.stdin:
            server.stdin.close()
        server.wait(timeout=10)
        cpu_ms_per_task = (time.process_time() - cpu_started) * 1000 / (rounds * tasks)
    return walls, cpu_ms_per_task


def main() -> None:
    if "--swarm-only" in sys.argv[1:]:  # for side-by-side runs of two checkouts (docs/providers.md)
        rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 5
        walls, cpu = swarm_seconds(rounds=rounds)
        wall = statistics.median(walls)
        print(f"swarm: {wall:.3f} s = {wall / 0.4:.2f} x ideal (median of {len(walls)}: "
              f"{' '.join(f'{w:.3f}' for w in walls)}); client CPU {cpu:.3f} ms per task")
        print(json.dumps({"swarm_wall_s": round(wall, 3), "swarm_ratio_to_ideal": round(wall / 0.4, 3),
                          "swarm_cpu_ms_per_task": round(cpu, 3)}))
        return
    # Per-step cost is the slope between a short and a long run; what is left at zero steps is
    # the fixed cost of a run (event loop, worker thread, first prompt).
    short = statistics.median(overhead_per_step_ms(10) for _ in range(5)) * 10
    long = statistics.median(overhead_per_step_ms(200) for _ in range(5)) * 200
    overhead = (long - short) / 190
    fixed = short - 10 * overhead
    print(f"kernel overhead per step (model and tool time excluded): {overhead:.3f} ms (target <= 1); "
          f"fixed cost per run {fixed:.1f} ms")

    from purpose_agent.testing import make_kernel
    from purpose_agent_sqlite import sqlite_plugin

    with tempfile.TemporaryDirectory() as tmp:
        store = make_kernel({"sqlite": sqlite_plugin}).memory_store("sqlite", path=str(Path(tmp) / "m.db"))
        topics = ["fibonacci", "fizzbuzz", "factorial", "sorting", "parsing", "http", "sql", "regex", "files", "dates"]
        for i in range(10_000):
            topic = topics[i % len(topics)]
            store.add(MemoryItem(text=f"When handling {topic} case {i}, check input {i % 97} and edge value {i % 13} first.",
                                 status=MemoryStatus.PROMOTED, scope=Scope(level="purpose", value="bench")))
        times = retrieval_ms(store, [f"write {t} code for case {n}" for n in range(20) for t in topics])
        p50 = statistics.median(times)
        lessons = [item.item.text for item in store.search("fibonacci", limit=10)]
        with_memory = statistics.median(overhead_per_step_ms(10, lessons) for _ in range(5)) + p50 / 10
        store.close()
    print(f"retrieval at 10,000 memories: p50 {p50:.2f} ms per run")
    print(f"overhead per step of a 10-step run with 10 lessons and retrieval amortised: {with_memory:.3f} ms (target <= 1)")

    walls, cpu = swarm_seconds()
    wall = statistics.median(walls)
    print(f"swarm: 200 tasks, concurrency 50, 100 ms server: {wall:.3f} s = {wall / 0.4:.2f} x ideal 0.4 s (target <= 1.3); "
          f"median of {len(walls)}, range {min(walls):.3f}-{max(walls):.3f} s; client CPU {cpu:.3f} ms per task")
    print(json.dumps({
        "overhead_ms_per_step": round(overhead, 4),
        "fixed_ms_per_run": round(fixed, 2),
        "retrieval_p50_ms_10k": round(p50, 3),
        "overhead_ms_per_step_with_10k_memories": round(with_memory, 4),
        "swarm_wall_s": round(wall, 3),
        "swarm_ratio_to_ideal": round(wall / 0.4, 3),
        "swarm_cpu_ms_per_task": round(cpu, 3),
    }))


if __name__ == "__main__":
    sys.exit(main())
