"""A2A round trip on loopback, and AG-UI events per second from a long run.

A2A: a team answering at once (scripted model) served by purpose-agent-a2a on 127.0.0.1; the
round trip of (a) the a2a-sdk client reusing one connection (SendMessage, blocking) and (b) our
remote-agent tool, which opens a client per call and reads the card once. AG-UI: one run of many
tool-calling steps streamed through ``POST /agent``; events received by an httpx reader per
second of wall time, and how many were dropped (the per-subscriber queue is bounded).

Run: ``python tests/benchmarks/bench_protocols_a2a_agui.py [--calls 200] [--steps 2000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: loopback_http
from loopback_http import loopback_server

import purpose_agent as pa
from purpose_agent.testing import ScriptedBackend, make_kernel


def a2a_round_trip(calls: int) -> dict[str, Any]:
    from a2a.client import A2ACardResolver, ClientConfig, ClientFactory
    from a2a.types import Message, Part, Role, SendMessageRequest

    from purpose_agent_a2a.client import RemoteAgentTool
    from purpose_agent_a2a.server import build_app
    from purpose_agent_a2a.settings import RemoteAgentSettings

    team = pa.Team("echo", model=ScriptedBackend([ScriptedBackend.answer("pong")], repeat_last=True),
                   kernel=make_kernel(), roles=["echo"], tools=[], critic=None, memory=False)

    async def sdk(url: str) -> list[float]:
        times = []
        async with httpx.AsyncClient(timeout=30) as http:
            card = await A2ACardResolver(http, url).get_agent_card()
            client = ClientFactory(ClientConfig(streaming=False, httpx_client=http)).create(card)
            for _ in range(calls):
                started = time.perf_counter()
                request = SendMessageRequest(message=Message(role=Role.ROLE_USER, parts=[Part(text="ping")],
                                                             message_id=uuid.uuid4().hex))
                [_reply] = [r async for r in client.send_message(request)]
                times.append(time.perf_counter() - started)
        return times

    with loopback_server(lambda url: build_app(team, url=url, token=None)) as url:
        sdk_times = asyncio.run(sdk(url))
        tool = RemoteAgentTool("echo", RemoteAgentSettings(url=url))
        tool_times = []
        for _ in range(calls):
            started = time.perf_counter()
            assert tool.run({"message": "ping"}).output == "pong"
            tool_times.append(time.perf_counter() - started)
    return {"a2a_calls": calls, "a2a_sdk_client_p50_ms": round(statistics.median(sdk_times) * 1000, 2),
            "a2a_sdk_client_p90_ms": round(sorted(sdk_times)[int(calls * 0.9)] * 1000, 2),
            "a2a_tool_p50_ms": round(statistics.median(tool_times) * 1000, 2),
            "a2a_tool_p90_ms": round(sorted(tool_times)[int(calls * 0.9)] * 1000, 2)}


def agui_events_per_second(steps: int) -> dict[str, Any]:
    from purpose_agent_agui.server import build_app

    @pa.tool
    def noop(i: int) -> str:
        """Do nothing."""
        return "ok"

    replies = [ScriptedBackend.tool_call("noop", i=i) for i in range(steps)] + [ScriptedBackend.answer("done")]
    team = pa.Team("long", model=ScriptedBackend(replies), kernel=make_kernel(), roles=["worker"], tools=[noop],
                   critic=None, memory=False, budget=pa.Budget(max_steps=steps + 1))
    body = {"threadId": "t", "runId": "long-run", "messages": [{"id": "m", "role": "user", "content": "go"}]}
    with loopback_server(lambda url: build_app(team)) as url:
        started = time.perf_counter()
        received = 0
        with httpx.stream("POST", url + "/agent", json=body, timeout=600) as response:
            for line in response.iter_lines():
                if line.startswith("data: "):
                    received += 1
        elapsed = time.perf_counter() - started
        dropped = httpx.get(url + "/api/status").json()["dropped"]
    return {"agui_steps": steps, "agui_events": received, "agui_events_per_s": round(received / elapsed),
            "agui_dropped": dropped, "agui_seconds": round(elapsed, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--steps", type=int, default=2000)
    args = parser.parse_args()
    figures = a2a_round_trip(args.calls)
    print(f"A2A round trip on loopback over {args.calls} calls: a2a-sdk client p50 {figures['a2a_sdk_client_p50_ms']} ms "
          f"(p90 {figures['a2a_sdk_client_p90_ms']}); our remote-agent tool p50 {figures['a2a_tool_p50_ms']} ms "
          f"(p90 {figures['a2a_tool_p90_ms']})")
    figures.update(agui_events_per_second(args.steps))
    print(f"AG-UI: a {args.steps}-step run streamed {figures['agui_events']} events in {figures['agui_seconds']} s "
          f"= {figures['agui_events_per_s']} events/s received; dropped {figures['agui_dropped']}")
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
