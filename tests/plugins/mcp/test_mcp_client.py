"""Our MCP client against real servers, inside real team runs.

The reference servers ``mcp-server-time`` and ``mcp-server-git`` (installed from the package
index, requirements-dev.txt) run as real subprocesses; so do the small misbehaving servers written
here (garbage on stdout, dying mid-call, hanging), each a real process the client must survive.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import purpose_agent_mcp
from purpose_agent.runtime import events as ev
from purpose_agent.runtime.agents import Team
from purpose_agent.testing import FunctionBackend, ScriptedBackend, make_kernel
from purpose_agent_conformance import ProtocolAdapterConformance

BIN = Path(sys.executable).parent
TIME_SERVER = {"command": str(BIN / "mcp-server-time"), "args": ["--local-timezone", "UTC"]}


def kernel_with(servers: dict[str, Any], **settings: Any) -> Any:
    return make_kernel({"mcp": purpose_agent_mcp}, config={"plugins": {"mcp": {"servers": servers, **settings}}})


def team_on(kernel: Any, model: Any) -> Team:
    return Team("testing", model=model, roles=["assistant"], kernel=kernel, memory=False, learn=False)


def run_collecting(team: Team, task: str) -> tuple[Any, list[Any]]:
    async def main() -> tuple[Any, list[Any]]:
        handle = team.start(task)
        return await handle.result(), [event async for event in handle.events()]

    return asyncio.run(main())


def server_script(tmp_path: Path, name: str, body: str) -> dict[str, Any]:
    """A real MCP server (the SDK's MCPServer over stdio) with the tools in ``body``."""
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent('''
        import os, sys, time
        from mcp.server.mcpserver import MCPServer
        server = MCPServer(name="test")
    ''') + textwrap.dedent(body) + "\nserver.run()\n")
    return {"command": sys.executable, "args": [str(path)]}


# --------------------------------------------------------------------------- reference servers


def test_the_time_servers_tool_answers_inside_a_run_as_spotlighted_untrusted_text() -> None:
    kernel = kernel_with({"time": TIME_SERVER})
    model = ScriptedBackend([ScriptedBackend.tool_call("time__get_current_time", timezone="UTC"),
                             ScriptedBackend.answer("It is late.")])
    result = team_on(kernel, model).run("What time is it in UTC?")
    assert result.answer == "It is late."
    [step, _] = result.trajectory.steps
    observation = step.observation
    assert observation is not None and observation.ok, observation
    assert json.loads(observation.output)["timezone"] == "UTC"
    assert observation.origin.label == "mcp:time/get_current_time" and observation.origin.untrusted
    # The model read the output inside the run's boundary markers, labelled with its origin.
    second_prompt = "\n".join(message.content for message in model.requests[1].messages)
    assert 'origin="mcp:time/get_current_time"' in second_prompt
    [adapter] = kernel.protocols()
    assert adapter.connections["time"]._client is None, "the server must stop when the run ends"


def test_tool_schemas_come_through_unchanged_and_names_are_namespaced() -> None:
    [adapter] = kernel_with({"time": TIME_SERVER}).protocols()
    try:
        tools = {tool.name: tool for tool in adapter.tools()}
    finally:
        adapter.close()
    assert set(tools) == {"time__get_current_time", "time__convert_time"}
    schema = tools["time__convert_time"].parameters
    assert schema["type"] == "object" and {"source_timezone", "time", "target_timezone"} <= set(schema["properties"])


def test_the_git_server_reads_a_real_repository_in_a_run(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    (repo / "a.txt").write_text("a\n")
    subprocess.run([*git, "add", "a.txt"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "Add the first file"], check=True)
    kernel = kernel_with({"git": {"command": str(BIN / "mcp-server-git"), "args": ["--repository", str(repo)]}})
    model = ScriptedBackend([ScriptedBackend.tool_call("git__git_log", repo_path=str(repo)),
                             ScriptedBackend.answer("one commit")])
    result = team_on(kernel, model).run("What is in the log?")
    observation = result.trajectory.steps[0].observation
    assert observation is not None and observation.ok, observation
    assert "Add the first file" in observation.output
    assert observation.origin.label == "mcp:git/git_log"


def test_a_server_is_started_once_per_run_and_reused_by_every_call() -> None:
    kernel = kernel_with({"time": TIME_SERVER})
    [adapter] = kernel.protocols()
    clients: list[int] = []

    def model(request: Any) -> str:
        client = adapter.connections["time"]._client
        if client is not None:
            clients.append(id(client))
        calls = sum("<untrusted-text id=" in m.content for m in request.messages)
        return FunctionBackend.tool_call("time__get_current_time", timezone="UTC") if calls < 3 else FunctionBackend.answer("ok")

    assert team_on(kernel, FunctionBackend(model)).run("three calls").answer == "ok"
    assert len(clients) >= 2 and len(set(clients)) == 1


# --------------------------------------------------------------------------- misbehaving servers


def test_a_server_that_cannot_start_is_reported_and_the_run_goes_on() -> None:
    kernel = kernel_with({"time": TIME_SERVER, "ghost": {"command": "no-such-mcp-server-here"}})
    model = ScriptedBackend([ScriptedBackend.tool_call("time__get_current_time", timezone="UTC"),
                             ScriptedBackend.answer("done")])
    result, events = run_collecting(team_on(kernel, model), "task")
    assert result.answer == "done" and result.trajectory.steps[0].observation.ok
    [problem] = [e for e in events if e.type == ev.PROTOCOL_UNAVAILABLE]
    assert problem.data["protocol"] == "mcp"
    assert "MCP server 'ghost'" in problem.data["reason"] and "could not be started" in problem.data["reason"]


def test_a_server_that_writes_garbage_is_stopped_at_the_handshake_deadline(tmp_path: Path) -> None:
    script = tmp_path / "garbage.py"
    script.write_text("import sys, time\nprint('booting the garbage server', file=sys.stderr, flush=True)\n"
                      "while True:\n    print('this is not JSON-RPC', flush=True)\n    time.sleep(0.05)\n")
    kernel = kernel_with({"garbage": {"command": sys.executable, "args": [str(script)]}}, startup_timeout_s=3)
    started = time.monotonic()
    result, events = run_collecting(team_on(kernel, ScriptedBackend([ScriptedBackend.answer("done")])), "task")
    assert result.answer == "done" and time.monotonic() - started < 15
    [problem] = [e.data["reason"] for e in events if e.type == ev.PROTOCOL_UNAVAILABLE]
    assert "did not complete the MCP handshake within 3 s" in problem
    assert "booting the garbage server" in problem  # the tail of its stderr says what it was doing


def test_a_server_that_dies_mid_call_fails_that_call_and_the_run_goes_on(tmp_path: Path) -> None:
    dying = server_script(tmp_path, "dying", '''
        @server.tool()
        def crash() -> str:
            """Exit without answering."""
            print("about to die", file=sys.stderr, flush=True)
            os._exit(3)
    ''')
    kernel = kernel_with({"dying": dying, "time": TIME_SERVER}, call_timeout_s=20)
    model = ScriptedBackend([ScriptedBackend.tool_call("dying__crash"), ScriptedBackend.tool_call("dying__crash"),
                             ScriptedBackend.tool_call("time__get_current_time", timezone="UTC"),
                             ScriptedBackend.answer("survived")])
    result = team_on(kernel, model).run("task")
    assert result.answer == "survived"
    first, second, third, _ = (step.observation for step in result.trajectory.steps)
    assert not first.ok and "MCP server 'dying'" in first.error and "calling 'crash'" in first.error
    assert not second.ok and second.error == first.error  # marked failed: no restart loop within the run
    assert third.ok  # the other server is unaffected


def test_a_server_that_hangs_in_a_call_times_out_and_is_stopped(tmp_path: Path) -> None:
    hanging = server_script(tmp_path, "hanging", '''
        @server.tool()
        def wait_forever() -> str:
            """Never answer."""
            time.sleep(3600)
            return "never"
    ''')
    kernel = kernel_with({"hanging": hanging}, call_timeout_s=2)
    model = ScriptedBackend([ScriptedBackend.tool_call("hanging__wait_forever"), ScriptedBackend.answer("moved on")])
    started = time.monotonic()
    result = team_on(kernel, model).run("task")
    assert result.answer == "moved on" and time.monotonic() - started < 30
    observation = result.trajectory.steps[0].observation
    assert not observation.ok and "did not answer within 2 s" in observation.error


def test_a_tool_error_from_the_server_comes_back_as_a_failed_observation() -> None:
    [adapter] = kernel_with({"time": TIME_SERVER}).protocols()
    try:
        tool = {t.name: t for t in adapter.tools()}["time__get_current_time"]
        observation = tool.run({"timezone": "Not/A_Zone"})
    finally:
        adapter.close()
    assert not observation.ok and "reported an error" in observation.error and "Not/A_Zone" in observation.error


# --------------------------------------------------------------------------- secrets and HTTP


def test_secrets_reach_the_server_through_named_environment_variables(tmp_path: Path, monkeypatch: Any) -> None:
    echo = server_script(tmp_path, "echoenv", '''
        @server.tool()
        def token() -> str:
            """Say the token the server was given."""
            return os.environ.get("SERVICE_TOKEN", "(none)")
    ''')
    echo["env"] = {"SERVICE_TOKEN_env": "TEST_MCP_SECRET"}
    monkeypatch.setenv("TEST_MCP_SECRET", "s3cr3t-value")
    [adapter] = kernel_with({"echoenv": echo}).protocols()
    try:
        assert {t.name: t for t in adapter.tools()}["echoenv__token"].run({}).output == "s3cr3t-value"
    finally:
        adapter.close()
    monkeypatch.delenv("TEST_MCP_SECRET")
    [adapter] = kernel_with({"echoenv": echo}).protocols()
    assert adapter.tools() == []
    [problem] = adapter.problems()
    assert "TEST_MCP_SECRET" in problem and "is not set" in problem


def test_a_server_without_a_transport_is_a_settings_error_naming_the_key() -> None:
    kernel = make_kernel({"mcp": purpose_agent_mcp}, config={"plugins": {"mcp": {"servers": {"x": {"args": ["a"]}}}}})
    record = kernel.records["mcp"]
    assert record.status == "failed" and "exactly one of 'command'" in record.reason


def _serve_in_background(team: Any, **options: Any) -> tuple[str, Any]:
    """Our MCP server over HTTP in a thread; returns its address and a stop function."""
    from purpose_agent_mcp.server import serve

    loop = asyncio.new_event_loop()
    address: list[str] = []
    started = threading.Event()

    def ready(where: str) -> None:
        address.append(where)
        started.set()

    task = loop.create_task(serve(team, ready=ready, transport="http", host="127.0.0.1", port=0, **options))

    def run() -> None:
        try:
            loop.run_until_complete(task)
        except asyncio.CancelledError:
            pass  # stopped by the test

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(20), "the HTTP server did not start"

    def stop() -> None:
        loop.call_soon_threadsafe(task.cancel)
        thread.join(10)

    return address[0], stop


def test_our_client_reaches_a_streamable_http_server_with_a_bearer_token(monkeypatch: Any) -> None:
    served = Team("Answer questions", model=ScriptedBackend(["Over HTTP."] * 3), roles=["assistant"],
                  kernel=make_kernel(), memory=False, learn=False)
    url, stop = _serve_in_background(served, token="t0ken")
    try:
        monkeypatch.setenv("TEST_MCP_TOKEN", "t0ken")
        [adapter] = kernel_with({"remote": {"url": url, "bearer_token_env": "TEST_MCP_TOKEN"}}).protocols()
        try:
            tools = {t.name: t for t in adapter.tools()}
            assert {"remote__run_task", "remote__ask", "remote__teach", "remote__search_memory"} <= set(tools)
            observation = tools["remote__ask"].run({"question": "How do you answer?"})
            assert observation.ok and observation.output == "Over HTTP."
            assert observation.origin.label == "mcp:remote/ask"
        finally:
            adapter.close()
        [refused] = kernel_with({"remote": {"url": url}}).protocols()
        assert refused.tools() == []
        [problem] = refused.problems()
        assert "MCP server 'remote'" in problem and "could not be started" in problem
        import httpx

        initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}}
        accept = {"Accept": "application/json, text/event-stream"}
        wrong = httpx.post(url, json=initialize, headers={**accept, "Authorization": "Bearer t0ke"})
        assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
        assert "bearer token is required" in wrong.json()["error"]
        any_case = httpx.post(url, json=initialize, headers={**accept, "Authorization": "bearer t0ken"})
        assert any_case.status_code == 200  # the scheme is case-insensitive (RFC 7235)
    finally:
        stop()


# --------------------------------------------------------------------------- CLI, conformance, import cost


def test_mcp_tools_lists_each_servers_tools_and_says_why_one_has_none(tmp_path: Path) -> None:
    (tmp_path / "purpose-agent.toml").write_text(textwrap.dedent(f'''
        [plugins.mcp.servers.time]
        command = "{BIN / 'mcp-server-time'}"
        [plugins.mcp.servers.ghost]
        command = "no-such-mcp-server-here"
    '''))
    env = {"PATH": str(BIN) + ":/usr/bin:/bin", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
           "PURPOSE_AGENT_PLUGINS": "mcp"}
    done = subprocess.run([str(BIN / "purpose-agent"), "mcp", "tools"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1, done.stderr  # one server is unavailable
    assert "time__get_current_time" in done.stdout and "time__convert_time" in done.stdout
    assert "ghost (stdio: no-such-mcp-server-here): unavailable: MCP server 'ghost'" in done.stdout


def test_importing_the_plugin_does_not_import_the_sdk() -> None:
    code = "import sys, purpose_agent_mcp; purpose_agent_mcp.settings_model(); print('mcp' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


class TestTimeServerThroughTheAdapterConforms(ProtocolAdapterConformance):
    plugin = purpose_agent_mcp
    plugin_id = "mcp"
    config = {"plugins": {"mcp": {"servers": {"time": TIME_SERVER}}}}
    protocol_name = "mcp"
    tool_name = "time__get_current_time"
    tool_arguments = {"timezone": "UTC"}


@pytest.fixture(autouse=True)
def _no_leftover_servers() -> Any:
    """Every test stops what it started: no mcp-server process outlives its test by long."""
    yield
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        alive = subprocess.run(["pgrep", "-f", f"{BIN}/mcp-server-"], capture_output=True, text=True).stdout.split()
        if not alive:
            return
        time.sleep(0.2)
    pytest.fail(f"MCP server processes still running after the test: {alive}")


# --------------------------------------------------------------------------- tool names on the wire

#: What OpenAI's chat completions (and Anthropic's messages) accept as a function name.
WIRE_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def test_tool_names_are_valid_function_names_for_native_tool_calling(tmp_path: Path) -> None:
    """A name like ``time.get_current_time`` is refused with HTTP 400 by OpenAI-style APIs: every
    MCP tool name must be a valid function name, even when the server's own name is not."""
    odd = server_script(tmp_path, "odd", '''
        @server.tool(name="files.read/v2")
        def read_file(path: str) -> str:
            """Read a file."""
            return "read " + path

        @server.tool(name="x" * 70)
        def long_name() -> str:
            """A tool with a long name."""
            return "long"
    ''')
    kernel = kernel_with({"time": TIME_SERVER, "odd": odd})
    [adapter] = kernel.protocols()
    try:
        names = [tool.name for tool in adapter.tools()]
        assert "time__get_current_time" in names
        assert all(WIRE_TOOL_NAME.match(name) for name in names), names
        assert len(set(names)) == len(names)
        read = next(tool for tool in adapter.tools() if tool.name.startswith("odd__files_read_v2"))
        observation = read.run({"path": "a.txt"})
        assert observation.ok and observation.output == "read a.txt"  # the server's own name is called
        assert observation.origin.label == "mcp:odd/files.read/v2"
    finally:
        adapter.close()


def test_an_openai_compatible_backend_calls_an_mcp_tool_by_its_wire_name() -> None:
    """Native tool calling end to end: the request a chat-completions server receives names the MCP
    tools validly, and the tool call it answers with reaches the MCP server."""
    from purpose_agent_http import OpenAICompatibleBackend
    from purpose_agent_http.testing import FakeLLMServer, FakeResponse

    def reply(message: dict[str, Any]) -> FakeResponse:
        return FakeResponse(json_body={"choices": [{"message": message, "finish_reason": "stop"}],
                                       "usage": {"prompt_tokens": 1, "completion_tokens": 1}})

    call = {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1", "type": "function", "function": {
        "name": "time__get_current_time", "arguments": json.dumps({"timezone": "UTC"})}}]}
    with FakeLLMServer() as server:
        server.queue("/v1/chat/completions", reply(call), reply({"role": "assistant", "content": "It is late."}))
        backend = OpenAICompatibleBackend("fake-model", base_url=server.url + "/v1", api_key="k")
        result = team_on(kernel_with({"time": TIME_SERVER}), backend).run("What time is it in UTC?")
        sent = [request.body for request in server.requests if request.path == "/v1/chat/completions"]
    names = [tool["function"]["name"] for tool in sent[0]["tools"]]
    assert "time__get_current_time" in names and all(WIRE_TOOL_NAME.match(name) for name in names), names
    observation = result.trajectory.steps[0].observation
    assert observation is not None and observation.ok and json.loads(observation.output)["timezone"] == "UTC"
