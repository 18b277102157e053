"""The async transport under a burst: httpx's own pool (default and raised limits) against
aiohttp's pool behind purpose-agent-http's cap (the transport HTTPBackend uses).

    .venv/bin/python tests/benchmarks/bench_transport.py [--rounds N]

200 chat-completion requests at concurrency 50 through ``OpenAICompatibleBackend.acomplete``
against a minimal asyncio server in its own process that answers each in 100 ms (the server of
``bench_runtime.py``'s swarm), so the ideal wall time is 0.4 s and the rest is client CPU.
Transports alternate within each round so machine noise hits them alike; medians over rounds.
The last line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from bench_runtime import SERVER

REQUESTS, CONCURRENCY, DELAY = 200, 50, 0.1


def burst(make_transport: Callable[[], Any] | None, url: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one burst; ``None`` means the backend's own default."""
    from purpose_agent.models import ChatRequest, Message
    from purpose_agent_http import OpenAICompatibleBackend

    async def run() -> tuple[float, float]:
        transport = make_transport() if make_transport else None
        backend = OpenAICompatibleBackend("bench", base_url=url + "/v1", api_key="k", async_transport=transport)
        request = ChatRequest(messages=[Message(role="user", content="hi")])
        await backend.acomplete(request)  # connect and import once, outside the measurement
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one() -> Any:
            async with gate:
                return await backend.acomplete(request)

        started, cpu = time.perf_counter(), time.process_time()
        replies = await asyncio.gather(*[one() for _ in range(REQUESTS)])
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        await backend.aclose()
        assert all("ok" in r.message.content for r in replies)
        return wall, cpu

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    import httpx

    transports: dict[str, Callable[[], Any] | None] = {
        "httpx default pool": lambda: httpx.AsyncHTTPTransport(),
        "httpx, limits 50/50": lambda: httpx.AsyncHTTPTransport(
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=50)),
        "httpx, no limits": lambda: httpx.AsyncHTTPTransport(
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=None)),
        "purpose-agent-http (aiohttp pool)": None,
    }
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(DELAY)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in transports}
    try:
        url = server.stdout.readline().strip() if server.stdout else ""
        for _ in range(args.rounds):
            for name, make in transports.items():
                samples[name].append(burst(make, url))
    finally:
        if server.stdin:
            server.stdin.close()
        server.wait(timeout=10)
    ideal = REQUESTS / CONCURRENCY * DELAY
    result = {}
    print(f"{REQUESTS} requests, concurrency {CONCURRENCY}, {DELAY * 1000:.0f} ms server (ideal {ideal:.1f} s); "
          f"medians of {args.rounds} rounds")
    for name, values in samples.items():
        wall = statistics.median(w for w, _ in values)
        cpu = statistics.median(c for _, c in values)
        print(f"  {name:36} wall {wall:.3f} s ({wall / ideal:.2f} x ideal)   client CPU {cpu * 1000 / REQUESTS:.2f} ms/request")
        result[name] = {"wall_s": round(wall, 3), "cpu_ms_per_request": round(cpu * 1000 / REQUESTS, 3)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
