"""The server side: a team served as an MCP server, over stdio or streamable HTTP.

Tools offered to MCP clients:

* ``run_task(task)`` — a whole team run; progress notifications during it (one per member step,
  when the client sent a progress token), the answer and score at the end;
* ``ask(question)`` — one model call from the team's purpose and knowledge, no tools;
* ``teach(lesson)`` — a lesson screened by every immune scanner, kept only if clean;
* ``search_memory(query, limit)`` — the promoted lessons most relevant to a query;
* ``team_status()`` — roles, model, tools, runs, memory counts.

Everything a client sends is untrusted: task and lesson texts are capped in size, a lesson is
screened before it is kept, and a run's tool outputs are screened as in any run. Malformed
JSON-RPC is answered by the SDK with the protocol's error codes. A bind beyond loopback needs a
bearer token.
"""

# No ``from __future__ import annotations`` here: the SDK reads the tools' annotations at
# registration, and ``Context`` is imported inside :func:`build_server` (on first use).
import asyncio
import json
import socket
from collections.abc import Callable
from typing import Any

from purpose_agent.interfaces import bearer_token_matches, describe_event, is_loopback

#: The longest task, question or lesson a client may send (characters).
MAX_TEXT_CHARS = 20_000
#: Where the streamable HTTP endpoint is mounted.
HTTP_PATH = "/mcp"
#: Default port of ``--http`` when only a host is given.
DEFAULT_PORT = 8765


def _capped(text: str, what: str) -> str:
    """``text`` if it is non-blank and within :data:`MAX_TEXT_CHARS`; else a ``ToolError`` the client reads."""
    from mcp.server.mcpserver.exceptions import ToolError  # the SDK answers any other exception without its text

    if not isinstance(text, str) or not text.strip():
        raise ToolError(f"{what} must be non-blank text")
    if len(text) > MAX_TEXT_CHARS:
        raise ToolError(f"{what} is {len(text)} characters; the limit is {MAX_TEXT_CHARS}")
    return text


def build_server(team: Any) -> Any:
    """The SDK's ``MCPServer`` with the team's tools."""
    from mcp.server.mcpserver import Context, MCPServer
    from mcp.server.mcpserver.exceptions import ToolError

    from purpose_agent import LessonRejected

    server = MCPServer(
        name="purpose-agent",
        instructions=f"A purpose-agent team. Its purpose: {team.purpose}. Roles: {', '.join(team.roles)}.",
        log_level="WARNING",
    )

    @server.tool(description=f"Run a task with the team ({', '.join(team.roles)}) and return its answer. "
                             "Sends progress notifications while the team works.")
    async def run_task(task: str, ctx: Context) -> str:
        handle = team.start(_capped(task, "task"))
        progress = 0
        try:
            async for event in handle.events():
                message = describe_event(event)
                if message is not None:
                    progress += 1
                    await ctx.report_progress(progress, None, message)
            result = await handle.result()
        except asyncio.CancelledError:  # the client cancelled the request: stop the run too
            handle.cancel()
            raise
        except Exception as exc:
            raise ToolError(f"the run failed: {type(exc).__name__}: {exc}") from None
        if result.answer is None:
            raise ToolError(result.no_answer_reason or "the team gave no answer")
        score = f" (score {result.score.value:.1f}/10)" if result.score is not None else ""
        return f"{result.answer}{score}"

    @server.tool(description="Ask the team a question; one model call from its purpose and knowledge, no tools.")
    async def ask(question: str) -> str:
        try:
            return str(await asyncio.to_thread(team.ask, _capped(question, "question")))
        except ToolError:
            raise
        except Exception as exc:  # e.g. no model available: the client gets the sentence, not a bare failure
            raise ToolError(f"the question could not be answered: {type(exc).__name__}: {exc}") from None

    @server.tool(description="Teach the team a lesson. It is screened by every immune scanner and kept only if clean.")
    async def teach(lesson: str) -> str:
        try:
            kept = await asyncio.to_thread(team.teach, _capped(lesson, "lesson"))
        except LessonRejected as exc:
            raise ToolError(str(exc)) from None
        item_id = getattr(kept, "id", None)
        return f"lesson kept (memory item {item_id})" if item_id else "lesson kept as standing knowledge"

    @server.tool(description="Search the team's promoted lessons; returns a JSON list, best match first.")
    async def search_memory(query: str, limit: int = 5) -> str:
        if not 1 <= limit <= 50:
            raise ToolError(f"limit must be between 1 and 50, got {limit}")
        hits = await asyncio.to_thread(team.search_memory, _capped(query, "query"), limit=limit)
        return json.dumps([{"id": hit.item.id, "text": hit.item.text, "kind": hit.item.kind.value,
                            "score": round(hit.score, 4)} for hit in hits], ensure_ascii=False)

    @server.tool(description="The team's roles, model, tools, runs and memory counts, as JSON.")
    async def team_status() -> str:
        return json.dumps(await asyncio.to_thread(team.status), default=str)

    return server


def parse_http_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (or ``HOST``, or ``:PORT``) for ``--http``; a readable ``ValueError`` otherwise."""
    host, sep, port_text = text.rpartition(":") if ":" in text else (text, "", "")
    host = host.strip("[]") or "127.0.0.1"
    if not sep:
        return host, DEFAULT_PORT
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ValueError(f"--http {text!r}: the port must be a number from 0 to 65535 (HOST:PORT, e.g. 127.0.0.1:8765)")
    return host, int(port_text)


def _require_bearer(app: Any, token: str) -> Any:
    """An ASGI app that answers 401 unless ``Authorization: Bearer <token>`` is sent."""

    async def guarded(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            sent = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not bearer_token_matches(sent, token):
                body = b'{"error": "a bearer token is required (Authorization: Bearer ...)"}'
                await send({"type": "http.response.start", "status": 401,
                            "headers": [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")]})
                await send({"type": "http.response.body", "body": body})
                return
        await app(scope, receive, send)

    return guarded


async def serve(team: Any, *, ready: Callable[[str], None] | None = None, transport: str = "stdio",
                host: str = "127.0.0.1", port: int = DEFAULT_PORT, token: str | None = None) -> None:
    """Serve ``team`` until cancelled: over this process's stdin/stdout, or streamable HTTP at
    ``http://HOST:PORT/mcp`` (``port=0`` picks a free port; ``ready`` gets the real address)."""
    server = build_server(team)
    if transport == "stdio":
        if ready is not None:
            ready("stdio")
        await server.run_stdio_async()
        return
    if transport != "http":
        raise ValueError(f"transport must be 'stdio' or 'http', got {transport!r}")
    if not is_loopback(host) and not token:
        raise ValueError(f"refusing to serve on {host!r}, which other machines can reach, without a bearer token; "
                         "set one with --token-env VAR (or bind 127.0.0.1)")
    import uvicorn

    app = server.streamable_http_app(streamable_http_path=HTTP_PATH, host=host)
    if token:
        app = _require_bearer(app, token)
    # Bound, started and stopped as purpose_agent_a2a.server.serve does: uvicorn's lifecycle stays in
    # each plugin, since the kernel (all the two share) has no ASGI server and should not get one.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    bound = listener.getsockname()[1]
    web = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    running = asyncio.ensure_future(web.serve(sockets=[listener]))
    try:
        while not web.started:
            if running.done():
                running.result()  # raises why it could not start
                return
            await asyncio.sleep(0.02)
        if ready is not None:
            shown = f"[{host}]" if ":" in host else host
            ready(f"http://{shown}:{bound}{HTTP_PATH}")
        await asyncio.shield(running)
    finally:
        web.should_exit = True
        await asyncio.wait({running}, timeout=10)
        listener.close()
