"""The protocol contract (hook API 1.3): run handles, watch_run, protocol tools and their lifecycle.

The conformance suites for protocol adapters are run here against small in-memory protocols,
so the suites themselves are tested: a client adapter whose tools call a local function, and a
server that speaks a one-line protocol over a loopback TCP socket.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from purpose_agent.interfaces import ProtocolAdapter, ProtocolServer, RunHandle
from purpose_agent.models import Observation, TextOrigin
from purpose_agent.runtime import events as ev
from purpose_agent.runtime.agents import Team
from purpose_agent.testing import FunctionBackend, ScriptedBackend, make_kernel, plugin
from purpose_agent_conformance import ProtocolAdapterConformance, ProtocolServerConformance


class EchoTool:
    """A protocol tool: echoes its text back, as an MCP server's tool would, with its origin."""

    def __init__(self, adapter: EchoAdapter, name: str = "echo.say") -> None:
        self.adapter = adapter
        self.name = name
        self.description = "Echo the text back."
        self.parameters = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}

    def run(self, arguments: dict[str, Any]) -> Observation:
        self.adapter.opened = True
        return Observation(output=f"echo: {arguments.get('text', '')}", origin=TextOrigin(kind="mcp", name=f"{self.name}"))


class EchoAdapter:
    """A client-side protocol adapter that counts how it is used."""

    name = "echo"

    def __init__(self, *, broken: bool = False, problems: tuple[str, ...] = ()) -> None:
        self.broken = broken
        self._problems = list(problems)
        self.listed = 0
        self.closed = 0
        self.opened = False

    def tools(self) -> list[EchoTool]:
        self.listed += 1
        if self.broken:
            raise ConnectionError("server 'echo' exited with status 1 before answering")
        return [EchoTool(self)]

    def problems(self) -> list[str]:
        return list(self._problems)

    def close(self) -> None:
        self.closed += 1
        self.opened = False


def echo_plugin(adapter: EchoAdapter, plugin_id: str = "echo-protocol") -> Any:
    return plugin(plugin_id, register_protocols=lambda register: register("echo", lambda context: adapter))


def answers(*texts: str) -> ScriptedBackend:
    return ScriptedBackend([ScriptedBackend.answer(text) for text in texts])


def team_on(kernel: Any, model: Any, **kwargs: Any) -> Team:
    kwargs.setdefault("roles", ["assistant"])
    return Team("testing", model=model, kernel=kernel, memory=False, learn=False, **kwargs)


# --------------------------------------------------------------------------- run handles


def test_a_started_run_streams_its_events_from_team_started_to_team_finished() -> None:
    team = team_on(make_kernel(), answers("a", "b"), roles=["writer", "editor"])

    async def main() -> tuple[list[Any], Any, Any]:
        handle = team.start("write it")
        assert isinstance(handle, RunHandle)
        seen = [event async for event in handle.events()]
        return seen, await handle.result(), handle

    seen, result, handle = asyncio.run(main())
    types = [event.type for event in seen]
    assert types[0] == ev.TEAM_STARTED and types[-1] == ev.TEAM_FINISHED
    assert types.count(ev.RUN_STARTED) == 2 and types.count(ev.RUN_FINISHED) == 2  # one per member
    members = [event for event in seen if event.type not in (ev.TEAM_STARTED, ev.TEAM_FINISHED)]
    assert {event.parent_run_id for event in members} == {handle.run_id}
    assert {event.run_id for event in members} != {handle.run_id}  # member runs keep their own ids
    assert result.answer == "b" and seen[-1].data["answer"] == "b" and seen[-1].data["members"] == ["writer", "editor"]
    assert handle.done and handle.dropped == 0


def test_a_reader_on_another_threads_loop_gets_every_event_live() -> None:
    team = team_on(make_kernel(), answers("done"))
    collected: list[str] = []
    attached = threading.Event()

    async def main() -> None:
        handle = team.start("task")
        iterator = handle.events(replay=False)

        def read_elsewhere() -> None:
            async def read() -> None:
                attached.set()
                async for event in iterator:
                    collected.append(event.type)

            asyncio.run(read())

        reader = threading.Thread(target=read_elsewhere)
        reader.start()
        await handle.result()
        await asyncio.to_thread(reader.join, 10)
        assert not reader.is_alive(), "the reader in another thread never saw team.finished"

    asyncio.run(main())
    assert attached.is_set()
    assert collected[0] == ev.TEAM_STARTED and collected[-1] == ev.TEAM_FINISHED


def test_a_slow_reader_loses_events_but_never_the_final_one() -> None:
    tool_calls = [ScriptedBackend.tool_call("noop") for _ in range(5)]
    team = team_on(make_kernel(), ScriptedBackend([*tool_calls, ScriptedBackend.answer("done")]), tools=[NoopTool()])

    async def main() -> tuple[list[str], int]:
        handle = team.start("task")
        iterator = handle.events(replay=False, queue_size=2)
        await handle.result()  # the reader reads nothing while the run goes on
        return [event.type async for event in iterator], handle.dropped

    seen, dropped = asyncio.run(main())
    assert seen[-1] == ev.TEAM_FINISHED and len(seen) == 3  # two buffered, plus the final event
    assert dropped > 10


class NoopTool:
    name = "noop"
    description = "Do nothing."
    parameters: dict[str, Any] = {"type": "object", "properties": {}}

    def run(self, arguments: dict[str, Any]) -> Observation:
        return Observation(output="nothing")


def test_a_late_reader_gets_the_whole_run_replayed() -> None:
    team = team_on(make_kernel(), answers("done"))

    async def main() -> list[str]:
        handle = team.start("task")
        await handle.result()
        return [event.type async for event in handle.events()]

    seen = asyncio.run(main())
    assert seen[0] == ev.TEAM_STARTED and seen[-1] == ev.TEAM_FINISHED and ev.RUN_STARTED in seen


def test_cancel_stops_the_run_after_the_step_in_progress_and_it_still_finishes() -> None:
    started, released = threading.Event(), threading.Event()
    # Offline backends answer on the event loop's thread; the waiting is done by a tool (tools
    # run in worker threads), so the run is mid-step when it is cancelled and cannot hit its budget.
    waiting = GateTool(started, released)
    model = FunctionBackend(lambda request: FunctionBackend.tool_call("wait"))
    team = team_on(make_kernel(), model, roles=["first", "second"], tools=[waiting])

    async def main() -> tuple[Any, Any]:
        handle = team.start("loop forever")
        assert await asyncio.to_thread(started.wait, 10)
        handle.cancel()
        released.set()
        result = await asyncio.wait_for(handle.result(), 10)
        finished = [event async for event in handle.events()][-1]
        return result, finished

    result, finished = asyncio.run(main())
    assert list(result.members) == ["first"]  # the second member never started
    assert result.members["first"].stopped == "cancelled"
    assert len(result.members["first"].trajectory.steps) == 1
    assert finished.type == ev.TEAM_FINISHED and finished.data["cancelled"] is True


class GateTool:
    """A tool that signals it started, then waits (in its worker thread) until released."""

    name = "wait"
    description = "Wait."
    parameters: dict[str, Any] = {"type": "object", "properties": {}}

    def __init__(self, started: threading.Event, released: threading.Event) -> None:
        self.started, self.released = started, released

    def run(self, arguments: dict[str, Any]) -> Observation:
        self.started.set()
        self.released.wait(10)
        return Observation(output="waited")


def test_a_run_that_fails_to_start_still_finishes_its_stream_and_raises_from_result() -> None:
    team = Team("testing", kernel=make_kernel(), memory=False)  # no model anywhere

    async def main() -> tuple[list[Any], BaseException | None]:
        handle = team.start("task")
        seen = [event async for event in handle.events()]
        try:
            await handle.result()
        except Exception as exc:
            return seen, exc
        return seen, None

    seen, error = asyncio.run(main())
    assert error is not None
    assert [event.type for event in seen] == [ev.TEAM_STARTED, ev.ERROR, ev.TEAM_FINISHED]
    assert seen[-1].data["error"] and seen[-1].data["answer"] is None


def test_start_outside_an_event_loop_says_what_to_do() -> None:
    team = team_on(make_kernel(), answers("done"))
    with pytest.raises(RuntimeError, match=r"running event loop.*team\.run\(\)"):
        team.start("task")


# --------------------------------------------------------------------------- watch_run


def test_watch_run_sees_every_team_run_from_its_start() -> None:
    watched: list[Any] = []
    events: list[str] = []

    def watch_run(run: Any) -> None:
        watched.append(run)
        run.listen(lambda event: events.append(event.type))

    kernel = make_kernel(plugin("watcher", watch_run=watch_run))
    result = team_on(kernel, answers("done")).run("task")
    assert result.answer == "done"
    [handle] = watched
    assert handle.task == "task" and handle.done
    assert events[0] == ev.TEAM_STARTED and events[-1] == ev.TEAM_FINISHED


def test_a_watcher_that_raises_is_disabled_and_the_run_goes_on() -> None:
    def watch_run(run: Any) -> None:
        raise RuntimeError("watcher broke")

    kernel = make_kernel(plugin("watcher", watch_run=watch_run))
    assert team_on(kernel, answers("done")).run("task").answer == "done"
    record = kernel.records["watcher"]
    assert record.status == "failed" and "watcher broke" in record.reason


def test_on_event_observers_can_group_member_runs_by_parent_run_id() -> None:
    seen: list[Any] = []
    kernel = make_kernel(plugin("observer", on_event=lambda event: seen.append(event)))
    team_on(kernel, answers("a", "b"), roles=["writer", "editor"]).run("task")
    [team_run_id] = {event.run_id for event in seen if event.type == ev.TEAM_STARTED}
    member_runs = {event.run_id for event in seen if event.parent_run_id == team_run_id}
    assert len(member_runs) == 2


# --------------------------------------------------------------------------- protocol tools


def test_a_team_gets_the_protocol_tools_for_a_run_and_they_are_closed_after_it() -> None:
    adapter = EchoAdapter()
    kernel = make_kernel(echo_plugin(adapter))
    model = ScriptedBackend([ScriptedBackend.tool_call("echo.say", text="hi"), ScriptedBackend.answer("done")])
    team = team_on(kernel, model)
    assert adapter.listed == 0  # nothing is started when the team is built
    result = team.run("say hi")
    [step, _] = result.trajectory.steps
    assert step.observation is not None and step.observation.output == "echo: hi"
    assert step.observation.origin.label == "mcp:echo.say"
    assert adapter.listed == 1 and adapter.closed == 1 and not adapter.opened


def test_overlapping_runs_share_the_tools_and_the_last_one_out_closes_them() -> None:
    adapter = EchoAdapter()
    entered, gate = threading.Event(), threading.Event()
    kernel = make_kernel(echo_plugin(adapter), plugin("waiting", register_tools=lambda register: register(
        "wait", lambda context: GateTool(entered, gate))))
    slow_model = ScriptedBackend([ScriptedBackend.tool_call("wait"), ScriptedBackend.answer("slow done")])

    async def main() -> None:
        slow_run = team_on(kernel, slow_model, tools=None).start("slow")
        assert await asyncio.to_thread(entered.wait, 10)  # the slow run holds the tools from here on
        fast = await team_on(kernel, answers("fast done")).arun("fast")
        assert fast.answer == "fast done"
        assert adapter.closed == 0, "closed while another run still used the tools"
        gate.set()
        await slow_run.result()

    asyncio.run(main())
    assert adapter.closed == 1


def test_a_protocol_that_cannot_list_tools_is_reported_and_the_run_goes_on() -> None:
    kernel = make_kernel(echo_plugin(EchoAdapter(broken=True)))

    async def main() -> tuple[Any, list[Any]]:
        handle = team_on(kernel, answers("done anyway")).start("task")
        return await handle.result(), [event async for event in handle.events()]

    result, seen = asyncio.run(main())
    assert result.answer == "done anyway"
    [unavailable] = [event for event in seen if event.type == ev.PROTOCOL_UNAVAILABLE]
    assert unavailable.data["protocol"] == "echo"
    assert "server 'echo' exited with status 1" in unavailable.data["reason"]


def test_an_adapters_problems_become_events() -> None:
    kernel = make_kernel(echo_plugin(EchoAdapter(problems=("MCP server 'git' did not start: no such command",))))

    async def main() -> list[Any]:
        handle = team_on(kernel, answers("done")).start("task")
        await handle.result()
        return [event async for event in handle.events() if event.type == ev.PROTOCOL_UNAVAILABLE]

    [event] = asyncio.run(main())
    assert event.data == {"protocol": "echo", "reason": "MCP server 'git' did not start: no such command"}


def test_explicit_tools_replace_the_protocol_tools() -> None:
    adapter = EchoAdapter()
    kernel = make_kernel(echo_plugin(adapter))
    team_on(kernel, answers("done"), tools=[]).run("task")
    assert adapter.listed == 0 and adapter.closed == 0


def test_a_protocol_tool_never_shadows_a_tool_of_the_same_name() -> None:
    adapter = EchoAdapter()
    kernel = make_kernel(echo_plugin(adapter), plugin("tools", register_tools=lambda register: register(
        "echo.say", lambda context: NamedNoop("echo.say"))))
    model = ScriptedBackend([ScriptedBackend.tool_call("echo.say", text="x"), ScriptedBackend.answer("done")])
    result = team_on(kernel, model).run("task")
    assert result.trajectory.steps[0].observation.output == "nothing"


class NamedNoop(NoopTool):
    def __init__(self, name: str) -> None:
        self.name = name


def test_a_spark_on_its_own_also_gets_protocol_tools() -> None:
    from purpose_agent.runtime.agents import Spark

    adapter = EchoAdapter()
    kernel = make_kernel(echo_plugin(adapter))
    model = ScriptedBackend([ScriptedBackend.tool_call("echo.say", text="hi"), ScriptedBackend.answer("done")])
    result = Spark(model=model, kernel=kernel).run("say hi")
    assert result.trajectory.steps[0].observation.output == "echo: hi"
    assert adapter.closed == 1


# --------------------------------------------------------------------------- the conformance suites, run


class TestEchoAdapterConforms(ProtocolAdapterConformance):
    plugin = echo_plugin(EchoAdapter())
    protocol_name = "echo"
    tool_name = "echo.say"
    tool_arguments: dict[str, Any] = {"text": "hello"}
    extra_plugins: list[Any] = []


class LineProtocol:
    """A server side: one task per TCP line, the answer back as one line, on loopback."""

    name = "line"

    def tools(self) -> list[Any]:
        return []

    async def serve(self, team: Any, *, ready: Any = None, host: str = "127.0.0.1", port: int = 0) -> None:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = (await reader.readline()).decode().strip()
            result = await team.start(task).result()
            writer.write((result.answer or "").encode() + b"\n")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(handle, host, port)
        async with server:
            address = server.sockets[0].getsockname()
            if ready is not None:
                ready(f"tcp://{address[0]}:{address[1]}")
            await server.serve_forever()


class TestLineServerConforms(ProtocolServerConformance):
    plugin = plugin("line-protocol", register_protocols=lambda register: register("line", lambda context: LineProtocol()))
    protocol_name = "line"
    serve_options: dict[str, Any] = {"host": "127.0.0.1", "port": 0}

    async def call_run(self, address: str, task: str) -> str:
        host, port = address.removeprefix("tcp://").rsplit(":", 1)
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(task.encode() + b"\n")
        await writer.drain()
        answer = (await reader.readline()).decode().strip()
        writer.close()
        return answer


def test_the_example_adapters_satisfy_the_protocol_shapes() -> None:
    assert isinstance(EchoAdapter(), ProtocolAdapter)
    assert isinstance(LineProtocol(), ProtocolServer)


def test_servers_build_their_team_from_the_shared_command_line_options() -> None:
    import argparse

    import purpose_agent as pa

    parser = argparse.ArgumentParser()
    pa.add_team_arguments(parser)
    args = parser.parse_args(["--purpose", "Answer questions about git", "--roles", "researcher, analyst",
                              "--no-memory", "--no-learn"])
    team = pa.team_from_arguments(args, make_kernel())
    assert team.purpose == "Answer questions about git" and team.roles == ("researcher", "analyst")
    assert team.store is None and team.learn is False
    default = pa.team_from_arguments(parser.parse_args([]), make_kernel())
    assert default.purpose and default.roles
