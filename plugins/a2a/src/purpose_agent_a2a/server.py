"""Serve a team as an A2A 1.0 agent, on the official ``a2a-sdk`` server classes.

This module imports the SDK: the plugin loads it only when a server is built. The SDK does the protocol (JSON-RPC ``SendMessage``, ``SendStreamingMessage`` over SSE,
``GetTask``, ``CancelTask``, the agent card, error codes); this module supplies what is ours:

- :class:`TeamExecutor`, the ``AgentExecutor`` that runs the team on a message's text and
  reports progress (one ``working`` status per step, tool call and score) and the answer (an
  artifact named ``answer``, then ``completed``; ``failed`` with the reason when there is none);
- :func:`agent_card`, the card built from the team (purpose, roles, tools);
- two ASGI guards in front of the JSON-RPC endpoint: a bearer token (required for any bind that
  is not loopback) and a request size limit, both answering with JSON-RPC errors.

A client's task comes from outside the operator's principals: unless the operator trusts its
clients (``trust_clients``), every active immune scanner reads it before the run starts, and a
task they flag is ``rejected`` with the scanners' reasons (:func:`task_refusal`). Only the text
parts of the message are the task; data and file parts are not given to the team.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from a2a.server.agent_execution import AgentExecutor

from purpose_agent.interfaces import bearer_token_matches, describe_event, is_loopback

#: JSON-RPC 2.0 "Invalid Request": what an oversized body is answered with (the SDK does the same).
INVALID_REQUEST = -32600
#: Server error range, used for a missing or wrong bearer token.
UNAUTHENTICATED = -32001

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

def task_refusal(kernel: Any, task: str) -> str:
    """``""`` when a client's ``task`` may run; else the sentence naming the scanners that flagged it.

    Every active scanner reads it as a prompt, under the kernel's deadline and fail-closed rules.
    With no scanner active nothing can screen it, and it runs (like untrusted tool output then)."""
    why = "" if kernel is None else kernel.blocking_reasons(task, source="prompt")
    if not why:
        return ""
    return (f"the immune scanners flagged this task ({why}), so it was not run; rephrase it, or have the operator "
            "set [plugins.a2a.server] trust_clients = true for clients it trusts")


def agent_card(team: Any, url: str, *, version: str, token_required: bool) -> Any:
    """The team's Agent Card: one skill for its purpose, tagged with its roles and tools."""
    from a2a.types import (
        AgentCapabilities,
        AgentCard,
        AgentInterface,
        AgentSkill,
        HTTPAuthSecurityScheme,
        SecurityRequirement,
        SecurityScheme,
        StringList,
    )

    purpose = str(team.purpose)
    tools = [str(getattr(t, "name", t)) for t in getattr(team, "tools", [])]
    skill = AgentSkill(
        id="task",
        name=purpose[:80],
        description=f"A team ({', '.join(team.roles)}) whose purpose is: {purpose}. Send a task in words; "
        "the answer comes back as a text artifact named 'answer'.",
        tags=["purpose-agent", *team.roles, *tools],
        examples=[],
        input_modes=["text/plain"],
        output_modes=["text/plain"],
    )
    card = AgentCard(
        name=f"purpose-agent: {purpose[:60]}",
        description=f"A purpose-agent team. Purpose: {purpose}",
        version=version,
        supported_interfaces=[AgentInterface(protocol_binding="JSONRPC", url=url, protocol_version="1.0")],
        capabilities=AgentCapabilities(streaming=True),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain"],
        skills=[skill],
    )
    if token_required:
        card.security_schemes["bearer"].CopyFrom(
            SecurityScheme(http_auth_security_scheme=HTTPAuthSecurityScheme(scheme="Bearer")))
        card.security_requirements.append(SecurityRequirement(schemes={"bearer": StringList()}))
    return card


class TeamExecutor(AgentExecutor):
    """Runs the team for each A2A task (``team.start``); its events become ``working`` updates."""

    def __init__(self, team: Any, *, max_task_chars: int = 50_000, kernel: Any = None) -> None:
        self.team = team
        self.max_task_chars = max_task_chars
        self.kernel = kernel  # screens clients' tasks; None when the operator trusts its clients
        self._runs: dict[str, Any] = {}  # A2A task id -> the team run's handle

    async def execute(self, context: Any, event_queue: Any) -> None:
        from a2a.helpers import new_task, new_text_part
        from a2a.server.tasks import TaskUpdater
        from a2a.types import TaskState

        task = context.current_task
        if task is None:  # a new task; an empty message still gets one, to be rejected with a reason
            history = [context.message] if context.message is not None else []
            task = new_task(context.task_id, context.context_id, TaskState.TASK_STATE_SUBMITTED, history=history)
            await event_queue.enqueue_event(task)
        updater = TaskUpdater(event_queue, task.id, task.context_id)
        text = context.get_user_input().strip()
        if not text:
            await updater.reject(updater.new_agent_message([new_text_part("send the task as a non-empty text part")]))
            return
        if len(text) > self.max_task_chars:
            await updater.reject(updater.new_agent_message([new_text_part(
                f"the task is {len(text)} characters; this agent takes at most {self.max_task_chars}")]))
            return
        refusal = await asyncio.to_thread(task_refusal, self.kernel, text)
        if refusal:
            await updater.reject(updater.new_agent_message([new_text_part(refusal)]))
            return
        await updater.start_work()
        run = self.team.start(text)
        self._runs[task.id] = run
        try:
            async for event in run.events():
                line = describe_event(event)
                if line is not None:
                    metadata = {"event": event.type, "step": event.step}
                    await updater.update_status(
                        TaskState.TASK_STATE_WORKING,
                        updater.new_agent_message([new_text_part(line)], metadata=metadata))
            try:
                result = await run.result()
            except Exception as exc:  # the team failed: the task fails with the reason, never a traceback
                await updater.failed(updater.new_agent_message([new_text_part(
                    f"the team failed: {type(exc).__name__}: {exc}")]))
                return
        finally:
            self._runs.pop(task.id, None)
        if result.answer:
            await updater.add_artifact([new_text_part(result.answer)], name="answer",
                                       metadata={"score": result.score.value if result.score is not None else None})
            await updater.complete()
        else:
            await updater.failed(updater.new_agent_message([new_text_part(result.no_answer_reason or "no answer")]))

    async def cancel(self, context: Any, event_queue: Any) -> None:
        from a2a.server.tasks import TaskUpdater

        run = self._runs.get(context.task_id)
        if run is not None:
            run.cancel()  # the team stops after the step in progress; no later member starts
        # The SDK cancels the coroutine running execute() right after this returns.
        await TaskUpdater(event_queue, context.task_id, context.context_id or "").cancel()


def _jsonrpc_error(code: int, message: str) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": code, "message": message}}).encode()


async def _reply(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


class Guard:
    """ASGI middleware: bearer-token check (except on the public card) and a request size limit."""

    def __init__(self, app: ASGIApp, *, token: str | None, max_request_bytes: int, public_paths: tuple[str, ...]) -> None:
        self.app = app
        self.token = token
        self.max_request_bytes = max_request_bytes
        self.public_paths = public_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if self.token is not None and scope.get("path") not in self.public_paths:
            if not bearer_token_matches(headers.get("authorization", ""), self.token):
                await _reply(send, 401, _jsonrpc_error(
                    UNAUTHENTICATED, "missing or wrong bearer token: send 'Authorization: Bearer <token>'"),
                    [(b"www-authenticate", b"Bearer")])
                return
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_request_bytes:
            await _reply(send, 413, _jsonrpc_error(
                INVALID_REQUEST, f"request body is {declared} bytes; this server takes at most {self.max_request_bytes}"))
            return
        await self.app(scope, self._limited(receive, send), send)

    def _limited(self, receive: Receive, send: Send) -> Receive:
        """A receive that stops a body (chunked, or lying about its length) past the limit."""
        seen = 0
        limit = self.max_request_bytes

        async def limited() -> MutableMapping[str, Any]:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    from starlette.exceptions import HTTPException

                    raise HTTPException(413, f"request body over {limit} bytes")  # the SDK answers -32600
            return message

        return limited


def build_app(team: Any, *, url: str, token: str | None, max_request_bytes: int = 1_000_000,
              max_task_chars: int = 50_000, version: str = "0.1.0", kernel: Any = None,
              trust_clients: bool = False) -> Any:
    """The ASGI app: the card at ``/.well-known/agent-card.json`` and JSON-RPC at ``/``.

    ``kernel`` screens clients' tasks (default: the team's own); ``trust_clients=True`` runs them
    unscreened."""
    from a2a.server.request_handlers import DefaultRequestHandler
    from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes
    from a2a.server.tasks import InMemoryTaskStore
    from a2a.utils.constants import AGENT_CARD_WELL_KNOWN_PATH
    from starlette.applications import Starlette

    card = agent_card(team, url, version=version, token_required=token is not None)
    screening = None if trust_clients else (kernel if kernel is not None else getattr(team, "kernel", None))
    handler = DefaultRequestHandler(agent_executor=TeamExecutor(team, max_task_chars=max_task_chars, kernel=screening),
                                    task_store=InMemoryTaskStore(), agent_card=card)
    routes = [*create_agent_card_routes(card), *create_jsonrpc_routes(handler, "/")]
    return Guard(Starlette(routes=routes), token=token, max_request_bytes=max_request_bytes,
                 public_paths=(AGENT_CARD_WELL_KNOWN_PATH,))


async def serve(team: Any, *, ready: Callable[[str], None] | None = None, host: str = "127.0.0.1", port: int = 0,
                token: str | None = None, public_url: str | None = None, max_request_bytes: int = 1_000_000,
                max_task_chars: int = 50_000, version: str = "0.1.0", kernel: Any = None,
                trust_clients: bool = False) -> None:
    """Serve ``team`` over A2A until cancelled; ``ready(url)`` once accepting (the real port for 0)."""
    import socket

    import uvicorn

    if not is_loopback(host) and token is None:
        raise PermissionError(f"refusing to serve A2A on {host!r} without a bearer token; give a token or bind 127.0.0.1")
    # Bound, started and stopped as purpose_agent_mcp.server.serve does: uvicorn's lifecycle stays in
    # each plugin, since the kernel (all the two share) has no ASGI server and should not get one.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound = sock.getsockname()[1]
    url = public_url or f"http://{f'[{host}]' if ':' in host else host}:{bound}"
    app = build_app(team, url=url, token=token, max_request_bytes=max_request_bytes, max_task_chars=max_task_chars,
                    version=version, kernel=kernel, trust_clients=trust_clients)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    serving = asyncio.ensure_future(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if serving.done():
                serving.result()  # raises why it could not start
                raise RuntimeError(f"the A2A server on {url} stopped before accepting connections")
            await asyncio.sleep(0.01)
        if ready is not None:
            ready(url)
        await asyncio.shield(serving)
    finally:  # cancelled (or failed): stop accepting, close streams, and return promptly
        server.should_exit = True
        server.force_exit = True
        await asyncio.wait({serving}, timeout=5)
        sock.close()
