"""A team served over MCP by our server, run as a real process: ``python served_team.py MEMORY_DB
[stdio|http HOST PORT]``. Its model is scripted (two tool steps, then the answer), its memory is a
real SQLite store, and one small scanner screens lessons, so every served tool does real work.
For HTTP it prints the address on stderr once it accepts requests."""

from __future__ import annotations

import asyncio
import sys

import purpose_agent as pa
import purpose_agent_mcp
from purpose_agent.models import Finding, Severity
from purpose_agent.testing import FunctionBackend, make_kernel, plugin
from purpose_agent_mcp.server import serve

ANSWER = "The answer is 42."


def scan(request):  # type: ignore[no-untyped-def]
    if "ignore previous instructions" in request.text.lower():
        return [Finding(scanner="tiny-scanner", category="injection", severity=Severity.HIGH,
                        explanation="asks the model to ignore its instructions")]
    return []


@pa.tool
def count(n: int) -> str:
    """Count to n."""
    return " ".join(str(i) for i in range(1, n + 1))


def model(request):  # type: ignore[no-untyped-def]
    # Two tool steps (so a client sees progress), then the answer; questions get one line.
    text = "\n".join(m.content for m in request.messages)
    if "You answer questions" in text:
        return "Our team counts carefully."
    steps = text.count("<untrusted-text id=")
    return FunctionBackend.tool_call("count", n=3) if steps < 2 else FunctionBackend.answer(ANSWER)


def main() -> None:
    memory_db, transport = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "stdio"
    kernel = make_kernel({"mcp": purpose_agent_mcp}, plugin("tiny-scanner", scan=scan), builtins=True,
                         config={"memory": {"path": memory_db}})
    team = pa.Team("Count things", model=FunctionBackend(model), roles=["assistant"], tools=[count], kernel=kernel,
                   memory="sqlite")
    options: dict = {"transport": transport}
    if transport == "http":
        options.update(host=sys.argv[3], port=int(sys.argv[4]))

    def ready(address: str) -> None:
        print(f"READY {address}", file=sys.stderr, flush=True)

    asyncio.run(serve(team, ready=ready, **options))


if __name__ == "__main__":
    main()
