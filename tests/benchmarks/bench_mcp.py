"""MCP tool-call overhead: one small tool called in-process, and through our MCP client over stdio
and over streamable HTTP (the SDK's own server, a real process each), as an agent run calls it.

    python tests/benchmarks/bench_mcp.py [--calls 200]

Prints the median time per call of each path and the ratios to the in-process call; the last
line is JSON.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import purpose_agent_mcp
from purpose_agent.testing import make_kernel

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: loopback_http
from loopback_http import free_port

SERVER = textwrap.dedent('''
    import asyncio, sys
    from mcp.server.mcpserver import MCPServer
    server = MCPServer(name="bench", log_level="WARNING")

    @server.tool()
    def add(a: int, b: int) -> str:
        """Add two numbers."""
        return str(a + b)

    if len(sys.argv) > 1:
        asyncio.run(server.run_streamable_http_async(host="127.0.0.1", port=int(sys.argv[1])))
    else:
        server.run()
''')


def add(a: int, b: int) -> str:
    """The same tool, in-process."""
    return str(a + b)


def per_call(function: Any, calls: int) -> float:
    times = []
    for i in range(calls):
        started = time.perf_counter()
        function(i)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def through_mcp(server: dict[str, Any], calls: int) -> float:
    [adapter] = make_kernel({"mcp": purpose_agent_mcp}, config={"plugins": {"mcp": {"servers": {"b": server}}}}).protocols()
    try:
        [tool] = adapter.tools()  # starts the server: not counted
        assert tool.run({"a": 1, "b": 2}).output == "3"

        def call(i: int) -> None:
            observation = tool.run({"a": i, "b": 1})
            assert observation.ok, observation.error

        return per_call(call, calls)
    finally:
        adapter.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "bench_server.py"
        script.write_text(SERVER)
        in_process = per_call(lambda i: add(i, 1), args.calls)
        stdio = through_mcp({"command": sys.executable, "args": [str(script)]}, args.calls)
        port = free_port()
        process = subprocess.Popen([sys.executable, str(script), str(port)], stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)
            http = through_mcp({"url": f"http://127.0.0.1:{port}/mcp"}, args.calls)
        finally:
            process.terminate()
            process.wait(10)
    print(f"in-process call:        {in_process * 1e6:10.1f} µs")
    print(f"MCP over stdio:         {stdio * 1e3:10.2f} ms  ({stdio / in_process:,.0f}x)")
    print(f"MCP over HTTP:          {http * 1e3:10.2f} ms  ({http / in_process:,.0f}x)")
    print(json.dumps({"calls": args.calls, "in_process_us": round(in_process * 1e6, 2),
                      "stdio_ms": round(stdio * 1e3, 3), "http_ms": round(http * 1e3, 3),
                      "stdio_ratio": round(stdio / in_process), "http_ratio": round(http / in_process)}))


if __name__ == "__main__":
    main()
