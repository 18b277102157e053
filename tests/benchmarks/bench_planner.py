"""Parallel tool plans against the step loop: wall time and model calls for independent calls.

    .venv/bin/python tests/benchmarks/bench_planner.py [--calls 6] [--tool-ms 200] [--model-ms 0,300] [--repeats 3]

The task needs ``--calls`` independent calls of a tool that sleeps ``--tool-ms`` (a slow API).
A function backend plays the model and answers correctly whichever way it is asked:

* **step loop** (``Runner``): one JSON action per step — the next lookup until every city has
  been looked up, then the answer: ``calls + 1`` model calls, the tool calls one after another;
* **planner** (``Planner``): one plan with all the lookups (no ``$k`` references, so all are
  independent), then the joiner's answer: 2 model calls, the tool calls concurrently.

Each model call takes ``--model-ms`` (a sleep in the backend; run once per value given), so the
figure shows both what the parallel tools save and what the fewer model calls save. Immune
screening is off (no kernel): the tools' latency and the model's are what is compared. Printed:
median wall time of ``--repeats`` runs, model calls, tokens (prompt + completion; the offline
backend counts words, so read the ratio, not the absolutes) and the ratios (step loop / planner).
The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

from purpose_agent.models import ChatRequest
from purpose_agent.runtime.actor import Actor
from purpose_agent.runtime.loop import Budget, Runner
from purpose_agent.runtime.planner import Planner
from purpose_agent.runtime.tools import FunctionTool
from purpose_agent.testing import FunctionBackend

CITIES = ("Paris", "Rome", "Oslo", "Lima", "Cairo", "Hanoi", "Quito", "Accra", "Dakar", "Perth", "Riga", "Sofia")


def lookup_tool(tool_ms: int) -> FunctionTool:
    def population(city: str) -> str:
        """Look up a city's population."""
        time.sleep(tool_ms / 1000)
        return f"{city}: {len(city)} million"

    return FunctionTool(population)


def model(cities: tuple[str, ...], model_ms: int) -> FunctionBackend:
    """Plays the model: a plan when asked for one, a join answer, or the step loop's next action."""

    def reply(request: ChatRequest) -> str:
        time.sleep(model_ms / 1000)
        system = request.messages[0].content
        if "Plan every tool call" in system:
            return json.dumps({"thought": "all lookups are independent", "plan": [
                {"id": i, "tool": "population", "arguments": {"city": c}} for i, c in enumerate(cities, start=1)]})
        if "Your tool calls have run" in system:
            return json.dumps({"action": "answer", "answer": f"{len(cities)} populations found"})
        done = sum(1 for m in request.messages if m.role == "user" and m.content.startswith("Observation from"))
        if done < len(cities):
            return json.dumps({"thought": "", "action": "tool", "tool": "population",
                               "arguments": {"city": cities[done]}})
        return json.dumps({"thought": "", "action": "answer", "answer": f"{len(cities)} populations found"})

    return FunctionBackend(reply)


def measure(kind: str, cities: tuple[str, ...], tool_ms: int, model_ms: int) -> tuple[float, int, str | None, int]:
    backend = model(cities, model_ms)
    runner = Runner(actor=Actor(backend=backend, tools=[lookup_tool(tool_ms)]), budget=Budget(max_steps=len(cities) + 2))
    task = "What are the populations of " + ", ".join(cities) + "?"
    started = time.perf_counter()
    result = Planner(runner).run(task) if kind == "planner" else runner.run(task)
    elapsed = time.perf_counter() - started
    assert result.tool_calls == len(cities), f"{kind}: {result.tool_calls} tool calls, expected {len(cities)}"
    return elapsed, len(backend.requests), result.answer, result.usage.total_tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=6)
    parser.add_argument("--tool-ms", type=int, default=200)
    parser.add_argument("--model-ms", default="0,300", help="comma-separated model latencies to try (ms)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    cities = CITIES[: args.calls]
    figures: dict[str, Any] = {"calls": args.calls, "tool_ms": args.tool_ms, "repeats": args.repeats, "runs": []}
    for model_ms in (int(v) for v in args.model_ms.split(",")):
        row: dict[str, Any] = {"model_ms": model_ms}
        for kind in ("step_loop", "planner"):
            samples = [measure(kind, cities, args.tool_ms, model_ms) for _ in range(args.repeats)]
            answers = {sample[2] for sample in samples}
            assert answers == {f"{len(cities)} populations found"}, f"{kind} answered {answers}"
            row[f"{kind}_s"] = round(statistics.median(sample[0] for sample in samples), 3)
            row[f"{kind}_model_calls"] = samples[0][1]
            row[f"{kind}_tokens"] = samples[0][3]
        row["latency_ratio"] = round(row["step_loop_s"] / row["planner_s"], 2)
        row["model_call_ratio"] = round(row["step_loop_model_calls"] / row["planner_model_calls"], 2)
        row["token_ratio"] = round(row["step_loop_tokens"] / row["planner_tokens"], 2)
        figures["runs"].append(row)
        print(f"{args.calls} independent calls of {args.tool_ms} ms, model {model_ms} ms per call: "
              f"step loop {row['step_loop_s']:.3f} s / {row['step_loop_model_calls']} model calls, "
              f"planner {row['planner_s']:.3f} s / {row['planner_model_calls']} model calls -> "
              f"{row['latency_ratio']}x faster, {row['model_call_ratio']}x fewer model calls, "
              f"{row['token_ratio']}x fewer tokens ({row['step_loop_tokens']} / {row['planner_tokens']})")
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
