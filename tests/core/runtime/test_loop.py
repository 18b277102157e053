"""The actor and the step loop, driven by scripted backends (no model, no network)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any

import purpose_agent as pa
from purpose_agent.models import ChatRequest, ChatResponse, Event, Message, ToolCall, Usage
from purpose_agent.runtime import events as ev
from purpose_agent.runtime.actor import Actor
from purpose_agent.runtime.events import EventBus, JsonlTrace, read_trace
from purpose_agent.runtime.loop import Budget, Runner
from purpose_agent.testing import FunctionBackend, ScriptedBackend


@pa.tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def tool_reply(name: str, **arguments: Any) -> str:
    return json.dumps({"thought": "use a tool", "action": "tool", "tool": name, "arguments": arguments})


def answer_reply(text: str) -> str:
    return json.dumps({"thought": "done", "action": "answer", "answer": text})


def runner(replies: list[Any], *, tools: list[Any] | None = None, **kwargs: Any) -> tuple[Runner, list[Event]]:
    seen: list[Event] = []
    bus = EventBus()
    bus.listen(seen.append)
    actor = Actor(backend=ScriptedBackend(replies), tools=[add] if tools is None else tools)
    return Runner(actor=actor, bus=bus, **kwargs), seen


def test_tool_then_answer() -> None:
    run, seen = runner([tool_reply("add", a=2, b=3), answer_reply("5")])
    result = run.run("what is 2 + 3?")
    assert result.answer == "5" and result.stopped == "answer"
    first = result.trajectory.steps[0]
    assert first.action.tool == "add" and first.observation.output == "5"
    types = [e.type for e in seen]
    assert types[0] == ev.RUN_STARTED and types[-1] == ev.RUN_FINISHED
    assert types.count(ev.STEP_STARTED) == 2 and ev.TOOL_CALLED in types and ev.TOOL_FINISHED in types
    assert all(e.run_id == result.trajectory.run_id for e in seen)


def test_the_observation_is_shown_to_the_model_next_step() -> None:
    backend = ScriptedBackend([tool_reply("add", a=20, b=22), answer_reply("42")])
    Runner(actor=Actor(backend=backend, tools=[add])).run("sum")
    last_prompt = backend.requests[-1].messages[-1].content
    assert "Observation from add" in last_prompt and "42" in last_prompt


def test_unparseable_output_gets_one_repair() -> None:
    backend = ScriptedBackend(["I think the answer is five", answer_reply("5")])
    run = Runner(actor=Actor(backend=backend, tools=[add]))
    result = run.run("2+3")
    assert result.answer == "5"
    assert "could not be used: the reply was not valid JSON" in backend.requests[1].messages[-1].content


def test_garbage_twice_is_a_safe_done_never_an_action() -> None:
    calls: list[Any] = []

    @pa.tool
    def dangerous(path: str) -> str:
        """Would delete a path."""
        calls.append(path)
        return "deleted"

    run, seen = runner(["{not json", json.dumps({"action": "tool", "tool": "rm_rf", "arguments": {}})], tools=[dangerous])
    result = run.run("clean up")
    assert calls == []
    assert result.stopped.startswith("done: stopped safely")
    assert "'tool' must be one of: dangerous" in result.stopped
    assert result.answer is None
    assert any(e.type == ev.MODEL_REPAIR and e.data["recovered"] is False for e in seen)


def test_invalid_tool_arguments_come_back_as_an_observation() -> None:
    run, _ = runner([tool_reply("add", a="two", b=3), answer_reply("gave up")])
    result = run.run("x")
    observation = result.trajectory.steps[0].observation
    assert not observation.ok and "invalid arguments for tool 'add'" in observation.error and "a:" in observation.error


class NativeBackend(ScriptedBackend):
    supports_tools = True


def test_native_tool_calls_are_used_when_the_backend_has_them() -> None:
    backend = NativeBackend([
        Message(role="assistant", tool_calls=[ToolCall(id="c1", name="add", arguments={"a": 1, "b": 1})]),
        "The answer is 2.",
    ])
    result = Runner(actor=Actor(backend=backend, tools=[add])).run("1+1")
    assert result.answer == "The answer is 2."
    assert backend.requests[0].tools[0].name == "add" and backend.requests[0].response_schema is None
    replay = backend.requests[1].messages
    assert replay[-2].tool_calls[0].name == "add" and replay[-1].role == "tool"
    # the result, as data inside the run's boundary markers (docs/immune.md, "Provenance")
    opening, value, closing = replay[-1].content.splitlines()
    assert opening.startswith('<untrusted-text id="') and value == "2" and closing.startswith("</untrusted-text")


def test_json_mode_sends_the_action_schema() -> None:
    backend = ScriptedBackend([answer_reply("ok")])
    Runner(actor=Actor(backend=backend, tools=[add])).run("x")
    assert backend.requests[0].response_schema["properties"]["action"]["enum"] == ["tool", "answer"]


def test_step_budget() -> None:
    run, _ = runner([tool_reply("add", a=1, b=1)] * 10, budget=Budget(max_steps=3))
    result = run.run("loop forever")
    assert result.stopped == "budget: 3 steps" and len(result.trajectory.steps) == 3


def test_token_budget() -> None:
    run, _ = runner([tool_reply("add", a=1, b=1)] * 10, budget=Budget(max_tokens=1))
    result = run.run("loop")
    assert result.stopped == "budget: 1 tokens" and len(result.trajectory.steps) == 1


def test_wall_time_budget_interrupts_a_slow_model() -> None:
    class Slow(ScriptedBackend):
        async def acomplete(self, request: ChatRequest) -> ChatResponse:
            await asyncio.sleep(5)
            return self.complete(request)

    run = Runner(actor=Actor(backend=Slow([answer_reply("late")]), tools=[]), budget=Budget(max_seconds=0.2))
    started = time.monotonic()
    result = run.run("x")
    assert result.stopped == "budget: wall time" and time.monotonic() - started < 2


def test_cost_budget() -> None:
    priced = ChatResponse(message=Message(role="assistant", content=tool_reply("add", a=1, b=1)),
                          usage=Usage(prompt_tokens=1, completion_tokens=1, cost_usd=0.6))
    run, _ = runner([priced] * 5, budget=Budget(max_cost_usd=1.0))
    assert run.run("x").stopped == "budget: $1"


def test_cancellation_from_another_thread() -> None:
    started = threading.Event()

    @pa.tool
    def wait(seconds: float) -> str:
        """Wait."""
        started.set()
        time.sleep(seconds)
        return "waited"

    run, _ = runner([tool_reply("wait", seconds=0.3)] * 50, tools=[wait])
    threading.Thread(target=lambda: (started.wait(5), run.cancel())).start()
    result = run.run("x")
    assert result.stopped == "cancelled" and len(result.trajectory.steps) <= 2


def test_a_tool_that_raises_is_retried_then_reported() -> None:
    attempts: list[int] = []

    class Flaky:
        name, description = "flaky", "sometimes fails"
        parameters: dict[str, Any] = {"type": "object", "properties": {}}

        def run(self, arguments: dict[str, Any]) -> Any:
            attempts.append(1)
            if len(attempts) == 1:
                raise ConnectionError("transient")
            return pa.models.Observation(output="fine")

    run, seen = runner([tool_reply("flaky"), answer_reply("ok")], tools=[Flaky()], tool_retries=1)
    result = run.run("x")
    assert len(attempts) == 2 and result.trajectory.steps[0].observation.output == "fine"
    assert [e.data["attempt"] for e in seen if e.type == ev.TOOL_CALLED] == [1, 2]


def test_a_backend_outage_ends_the_run_with_a_reason() -> None:
    def down(request: ChatRequest) -> str:
        raise ConnectionError("provider down")

    run = Runner(actor=Actor(backend=FunctionBackend(down), tools=[]))
    result = run.run("x")
    assert result.stopped == "error: ConnectionError: provider down"


def test_lessons_are_capped_by_count_and_tokens() -> None:
    actor = Actor(backend=ScriptedBackend([]), lessons=[f"lesson {i}" for i in range(30)])
    assert len(actor.injected_lessons()) == 10
    long = Actor(backend=ScriptedBackend([]), lessons=["x" * 2000, "short"], lesson_token_budget=100)
    assert long.injected_lessons() == []
    assert "cannot grant permissions" in Actor(backend=ScriptedBackend([]), lessons=["a"]).system_prompt()


def test_critic_scores_the_run_and_a_broken_critic_does_not_lose_it() -> None:
    class Judge:
        name = "judge"

        def score(self, trajectory: Any) -> Any:
            return pa.models.Score(value=7, reason="fine")

    run, seen = runner([answer_reply("x")], critic=Judge())
    assert run.run("t").score.value == 7
    assert any(e.type == ev.CRITIC_SCORED and e.data["score"] == 7 for e in seen)

    class Broken:
        name = "broken"

        def score(self, trajectory: Any) -> Any:
            raise RuntimeError("judge down")

    result = runner([answer_reply("x")], critic=Broken())[0].run("t")
    assert result.answer == "x" and result.score.value == 0 and "judge down" in result.score.reason


class DictCheckpointer:
    def __init__(self) -> None:
        self.saved: dict[str, Any] = {}

    def save(self, checkpoint: Any) -> None:
        self.saved[checkpoint.run_id] = checkpoint.model_copy(deep=True)

    def latest(self, run_id: str) -> Any:
        return self.saved.get(run_id)


def test_resume_continues_from_the_last_completed_step_without_rerunning_tools() -> None:
    calls: list[int] = []

    @pa.tool
    def count(n: int) -> int:
        """Record a call."""
        calls.append(n)
        return n

    store = DictCheckpointer()
    first = Runner(actor=Actor(backend=ScriptedBackend([tool_reply("count", n=1), tool_reply("count", n=2)]), tools=[count]),
                   checkpointer=store, budget=Budget(max_steps=2))
    result = first.run("t", run_id="run-1")
    assert calls == [1, 2] and result.stopped == "budget: 2 steps"
    second = Runner(actor=Actor(backend=ScriptedBackend([tool_reply("count", n=3), answer_reply("3")]), tools=[count]),
                    checkpointer=store, budget=Budget(max_steps=10))
    resumed = second.run("t", run_id="run-1", resume=True)
    assert calls == [1, 2, 3]
    assert [s.index for s in resumed.trajectory.steps] == [0, 1, 2, 3] and resumed.answer == "3"
    assert store.latest("run-1").completed_tool_calls == ["run-1:0", "run-1:1", "run-1:2"]


def test_slow_async_subscriber_never_blocks_and_drops_are_counted() -> None:
    async def scenario() -> tuple[dict[str, int], float, list[str]]:
        bus = EventBus(queue_size=2)
        got: list[str] = []

        async def slow(event: Event) -> None:
            await asyncio.sleep(0.05)
            got.append(event.type)

        bus.subscribe(slow, name="slow-ui")
        actor = Actor(backend=ScriptedBackend([tool_reply("add", a=1, b=1)] * 5 + [answer_reply("2")]), tools=[add])
        started = time.monotonic()
        await Runner(actor=actor, bus=bus).arun("x")
        elapsed = time.monotonic() - started
        dropped = bus.dropped
        await bus.drain()
        return dropped, elapsed, got

    dropped, elapsed, got = asyncio.run(scenario())
    assert dropped["slow-ui"] > 0
    assert elapsed < 0.5, "the loop waited for a slow subscriber"
    assert got and got[0] == ev.RUN_STARTED


def test_jsonl_trace_round_trips(tmp_path: Path) -> None:
    trace = JsonlTrace(tmp_path / "trace.jsonl")
    run, _ = runner([answer_reply("x")])
    run.bus.listen(trace)
    run.run("t")
    trace.close()
    with (tmp_path / "trace.jsonl").open("a") as handle:
        handle.write('{"type": "trunc')  # a crash mid-line
    events = read_trace(tmp_path / "trace.jsonl")
    assert next(e["type"] for e in events) == ev.RUN_STARTED and events[-1]["type"] == ev.RUN_FINISHED


def test_events_are_built_only_while_someone_receives_them(monkeypatch: Any) -> None:
    """A run nobody watches builds no event objects (a swarm's short runs would spend a seventh of
    their CPU on them); an observer plugin or a callback added mid-run gets every event from then on."""
    from purpose_agent.runtime import loop
    from purpose_agent.testing import make_kernel, plugin

    built: list[str] = []

    class CountedEvent(Event):
        def __init__(self, **data: Any) -> None:
            super().__init__(**data)
            built.append(self.type)

    monkeypatch.setattr(loop, "Event", CountedEvent)
    actor = Actor(backend=ScriptedBackend([answer_reply("ok")]), tools=[add])
    assert Runner(actor=actor, bus=EventBus(kernel=make_kernel())).run("t").answer == "ok"
    assert built == []

    observed: list[str] = []
    kernel = make_kernel(plugin("watcher", on_event=lambda event: observed.append(event.type)))
    actor = Actor(backend=ScriptedBackend([answer_reply("ok")]), tools=[add])
    Runner(actor=actor, bus=EventBus(kernel=kernel)).run("t")
    assert observed[0] == ev.RUN_STARTED and observed[-1] == ev.RUN_FINISHED and built == observed

    built.clear()
    late: list[str] = []
    bus = EventBus()
    backend = FunctionBackend(lambda request: (bus.listen(lambda event: late.append(event.type)),
                                               answer_reply("ok"))[1])
    Runner(actor=Actor(backend=backend, tools=[add]), bus=bus).run("t")
    assert late == [ev.MODEL_FINISHED, ev.STEP_FINISHED, ev.RUN_FINISHED] == built
