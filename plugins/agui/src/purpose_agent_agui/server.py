"""The AG-UI server: runs a team, streams its runs as AG-UI events over SSE, serves the live page.

Endpoints (one Starlette app; no build step, the page is one static HTML file):

``GET /``                        the live view of runs and the memory browser
``POST /agent``                  the AG-UI endpoint: a ``RunAgentInput`` in, that run's events out (SSE)
``POST /runs``                   ``{"task": "..."}``: start a run in the background, answer its ids
``GET /events``                  every run's events (SSE): recent history first, then live
``GET /api/status``              the team (purpose, roles, tools, memory) and stream counters
``GET /api/memory``              memory items (``?status=promoted&limit=50``)
``GET /api/memory/{id}/history`` every version of one item (why it was rejected, when)

Each subscriber has a bounded queue, like the runtime's event bus: a slow browser never slows a
run; when its queue is full, events are dropped *for that subscriber* and counted
(``/api/status``: ``dropped``). Input from an AG-UI client is untrusted: bodies are size-limited,
a task is capped and screened (:mod:`purpose_agent_agui.untrusted`), everything else the client
sends reaches a run only as screened tool output, and a malformed body gets a 400/422 with a
sentence, never a traceback.

Runs this server did not start (another server or a script in the same process, on any team)
reach the page too: the plugin's ``watch_run`` hook hands each team run to every live hub.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import threading
import uuid
import weakref
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from .mapping import RunMapper

TERMINAL = ("RUN_FINISHED", "RUN_ERROR")

#: The hubs serving in this process, for the ``watch_run`` hook (a hub leaves when its app is gone).
HUBS: weakref.WeakSet[RunHub] = weakref.WeakSet()


def watch(run: Any) -> None:
    """Show a team run started anywhere in this process on every live page (``watch_run``)."""
    for hub in list(HUBS):
        hub.watch(run)


def learning_status(team: Any) -> str:
    """``on``, or ``off: why``: whether the team's runs can teach it (drawn on the page instead of 0)."""
    memory = getattr(team, "status", None)
    if getattr(team, "learner", None) is None:
        return "off: the team has no memory store" if memory is not None else "off"
    if getattr(team, "critic", None) is None:
        return "off: the team has no critic, so runs are not scored"
    if not getattr(team, "learn", False):
        return "off: learning is turned off for this team"
    return "on"


@dataclass
class Subscriber:
    """One SSE client: a bounded queue, optionally only one run's events."""

    queue: asyncio.Queue[tuple[str, str, str]]
    run_id: str | None = None
    dropped: int = 0


@dataclass(eq=False)  # hashed by identity: HUBS holds it
class RunHub:
    """Runs the team and fans its AG-UI events out to subscribers."""

    team: Any
    queue_size: int = 10_000
    history_size: int = 5_000
    max_task_chars: int = 50_000
    history: deque[tuple[str, str, str]] = field(init=False)
    subscribers: list[Subscriber] = field(default_factory=list)
    mappers: dict[str, RunMapper] = field(default_factory=dict)
    tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    published: int = 0
    dropped_total: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _loop_thread: int | None = None
    _starting: int | None = None

    def __post_init__(self) -> None:
        self.history = deque(maxlen=self.history_size)
        HUBS.add(self)

    # ------------------------------------------------------------------ fan-out

    def _own_loop(self) -> None:
        """Remember the loop that owns the queues (events from other threads are handed to it)."""
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()

    def subscribe(self, run_id: str | None = None, *, replay: bool = False) -> Subscriber:
        self._own_loop()
        subscriber = Subscriber(asyncio.Queue(self.queue_size), run_id)
        if replay:
            for item in self.history:
                self._offer(subscriber, item)
        self.subscribers.append(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        if subscriber in self.subscribers:
            self.subscribers.remove(subscriber)

    def publish(self, run_id: str, events: list[Any]) -> None:
        from ag_ui.encoder import EventEncoder

        encoder = EventEncoder()
        for event in events:
            # Runs interleave on /events: every event names its run in metadata (open by key in AG-UI).
            event.metadata = {**(event.metadata or {}), "run_id": run_id}
            item = (run_id, event.type.value, encoder.encode(event))
            self.history.append(item)
            self.published += 1
            for subscriber in list(self.subscribers):
                if subscriber.run_id is None or subscriber.run_id == run_id:
                    self._offer(subscriber, item)

    def _offer(self, subscriber: Subscriber, item: tuple[str, str, str]) -> None:
        try:
            subscriber.queue.put_nowait(item)
        except asyncio.QueueFull:
            subscriber.dropped += 1
            self.dropped_total += 1

    def _route(self, run_id: str, event: Any) -> None:
        mapper = self.mappers[run_id]
        try:
            events = mapper.map(event)
        except Exception as exc:  # the view must never break the run it watches; say so on the stream
            from ag_ui.core import CustomEvent

            events = [CustomEvent(name="purpose_agent.ui.mapping_error",
                                  value={"event": event.type, "error": f"{type(exc).__name__}: {exc}"})]
        if events:
            self._on_loop(self.publish, run_id, events)

    def _on_loop(self, function: Any, *args: Any) -> None:
        """Call ``function(*args)`` on the loop that owns the queues: now if this is its thread (or
        there is no loop yet), else as soon as that loop gets to it, in order."""
        if threading.get_ident() == self._loop_thread or self._loop is None:
            function(*args)
        else:  # emitted from a worker thread
            self._loop.call_soon_threadsafe(function, *args)

    # ------------------------------------------------------------------ runs

    def start(self, task: str, *, thread_id: str | None = None, run_id: str | None = None,
              material: str = "") -> RunMapper:
        """Start a team run (``team.start``) on the running loop; return its mapper (ids).

        The AG-UI run id is the client's when it gave one (``POST /agent``), else the team run's.
        ``material`` is what the client sent besides the task: the run gets it only through the
        ``client_context`` tool, as untrusted text (:mod:`purpose_agent_agui.untrusted`)."""
        from .untrusted import NOTE, team_with_material

        self._own_loop()
        team = team_with_material(self.team, material)
        self._starting = threading.get_ident()  # watch_run fires inside team.start: not a foreign run
        try:
            handle = team.start(task + NOTE if team is not self.team else task)
        finally:
            self._starting = None
        mapper = RunMapper(thread_id=thread_id or uuid.uuid4().hex, run_id=run_id or handle.run_id,
                           purpose=str(self.team.purpose), roles=list(self.team.roles),
                           learning=learning_status(self.team))
        self.mappers[mapper.run_id] = mapper
        self.publish(mapper.run_id, mapper.started(task))
        handle.listen(lambda event: self._route(mapper.run_id, event))
        self.tasks[mapper.run_id] = asyncio.get_running_loop().create_task(self._finish(mapper, handle))
        return mapper

    def watch(self, run: Any) -> None:
        """Show a run this hub did not start (``watch_run``, in the thread that starts the run).

        Its mapper is made at ``team.started`` (which names the team's purpose and roles); its end
        comes from the run's result, awaited on this hub's loop. Before any page or client has
        connected, the hub has no loop yet, and such runs are not shown."""
        if self._starting == threading.get_ident() or self._loop is None:
            return

        def route(event: Any) -> None:
            if event.type == "team.started":
                mapper = RunMapper(thread_id=run.run_id, run_id=run.run_id, purpose=str(event.data.get("purpose", "")),
                                   roles=[str(r) for r in event.data.get("roles", [])], learning="unknown")
                self.mappers[run.run_id] = mapper
                self._on_loop(self._watched, mapper, run, mapper.started(run.task))
            elif run.run_id in self.mappers:
                self._route(run.run_id, event)

        run.listen(route)

    def _watched(self, mapper: RunMapper, run: Any, started: list[Any]) -> None:
        self.publish(mapper.run_id, started)
        self.tasks[mapper.run_id] = asyncio.get_running_loop().create_task(self._finish(mapper, run))

    async def _finish(self, mapper: RunMapper, handle: Any) -> None:
        try:
            result = await handle.result()
        except Exception as exc:  # the stream says why; the server stays up
            self.publish(mapper.run_id, mapper.failed(f"{type(exc).__name__}: {exc}"))
        else:
            self.publish(mapper.run_id, mapper.finished(result))
        finally:
            self.tasks.pop(mapper.run_id, None)


# ---------------------------------------------------------------------- HTTP


class BadRequest(Exception):
    """A client sent something unusable; the message says what and how to fix it."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


async def read_json(request: Any, limit: int) -> Any:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BadRequest(f"request body is {declared} bytes; this server takes at most {limit}", 413)
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BadRequest(f"request body is over {limit} bytes", 413)
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequest(f"the body is not JSON ({getattr(exc, 'msg', exc)}); send a JSON object") from None


def build_app(team: Any, *, token: str | None = None, max_request_bytes: int = 1_000_000,
              max_task_chars: int = 50_000, queue_size: int = 10_000, heartbeat_s: float = 15.0,
              kernel: Any = None, trust_clients: bool = False) -> Any:
    """The Starlette app serving the team: see the module docstring for the endpoints.

    ``kernel`` screens the tasks clients send (default: the team's own); ``trust_clients=True``
    runs them unscreened, for an operator who vouches for every client."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
    from starlette.routing import Route

    from .untrusted import split_input, task_refusal

    hub = RunHub(team, queue_size=queue_size, max_task_chars=max_task_chars)
    screening_kernel = None if trust_clients else (kernel if kernel is not None else getattr(team, "kernel", None))
    page = resources.files(__package__).joinpath("page.html").read_text(encoding="utf-8")

    async def checked_task(text: Any) -> str:
        if not isinstance(text, str) or not text.strip():
            raise BadRequest("give the task as non-empty text", 422)
        if len(text) > max_task_chars:
            raise BadRequest(f"the task is {len(text)} characters; this server takes at most {max_task_chars}", 422)
        refusal = await asyncio.to_thread(task_refusal, screening_kernel, text)
        if refusal:
            raise BadRequest(refusal, 422)
        return text.strip()

    async def stream(subscriber: Subscriber, *, until_done: str | None = None) -> AsyncIterator[str]:
        try:
            while True:
                try:
                    run_id, type_, line = await asyncio.wait_for(subscriber.queue.get(), heartbeat_s)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                yield line
                if until_done is not None and run_id == until_done and type_ in TERMINAL:
                    return
        finally:
            hub.unsubscribe(subscriber)

    def sse(body: AsyncIterator[str]) -> Response:
        return StreamingResponse(body, media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    async def agent(request: Request) -> Response:
        from ag_ui.core import RunAgentInput
        from pydantic import ValidationError

        body = await read_json(request, max_request_bytes)
        try:
            run_input = RunAgentInput.model_validate(body)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "body"
            raise BadRequest(f"not an AG-UI RunAgentInput: {where}: {first['msg']}", 422) from None
        if not any(m.role == "user" for m in run_input.messages):
            raise BadRequest("the messages hold no user message; the last user message is the task", 422)
        text, material = split_input(run_input)
        task = await checked_task(text)
        if run_input.run_id in hub.mappers:
            raise BadRequest(f"run {run_input.run_id!r} already exists; use a new runId", 409)
        subscriber = hub.subscribe(run_input.run_id)
        hub.start(task, thread_id=run_input.thread_id, run_id=run_input.run_id, material=material)
        return sse(stream(subscriber, until_done=run_input.run_id))

    async def runs(request: Request) -> Response:
        body = await read_json(request, max_request_bytes)
        if not isinstance(body, dict):
            raise BadRequest('send a JSON object: {"task": "..."}', 422)
        mapper = hub.start(await checked_task(body.get("task")))
        return JSONResponse({"thread_id": mapper.thread_id, "run_id": mapper.run_id}, status_code=202)

    async def events(request: Request) -> Response:
        return sse(stream(hub.subscribe(replay=True)))

    async def status(request: Request) -> Response:
        return JSONResponse({"team": json.loads(json.dumps(team.status(), default=str)),
                             "events_published": hub.published, "dropped": hub.dropped_total,
                             "running": sorted(hub.tasks)})

    def store() -> Any:
        if getattr(team, "store", None) is None:
            raise BadRequest("this team has no memory store", 404)
        return team.store

    def item_json(item: Any) -> dict[str, Any]:
        return {"id": item.id, "text": item.text, "kind": item.kind.value, "status": item.status.value,
                "version": item.version, "reason": item.status_reason, "trust": item.provenance.trust,
                "updated_at": item.updated_at}

    async def memory(request: Request) -> Response:
        from purpose_agent.models import MemoryStatus

        status_name = request.query_params.get("status") or None
        try:
            wanted = MemoryStatus(status_name) if status_name else None
            limit = int(request.query_params.get("limit", "100"))
        except ValueError:
            choices = ", ".join(s.value for s in MemoryStatus)
            raise BadRequest(f"status must be one of {choices}, and limit a whole number", 422) from None
        items = await asyncio.to_thread(store().list, status=wanted, limit=max(1, min(limit, 1000)))
        return JSONResponse({"items": [item_json(i) for i in items]})

    async def history(request: Request) -> Response:
        versions = await asyncio.to_thread(store().history, request.path_params["item_id"])
        if not versions:
            raise BadRequest(f"no memory item {request.path_params['item_id']!r}", 404)
        return JSONResponse({"versions": [item_json(v) for v in versions]})

    async def index(request: Request) -> Response:
        return HTMLResponse(page, headers={"Content-Security-Policy": "default-src 'self'; "
                                           "style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'"})

    async def bad_request(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, BadRequest)
        return JSONResponse({"error": str(exc)}, status_code=exc.status)

    app = Starlette(routes=[
        Route("/", index), Route("/agent", agent, methods=["POST"]), Route("/runs", runs, methods=["POST"]),
        Route("/events", events), Route("/api/status", status), Route("/api/memory", memory),
        Route("/api/memory/{item_id}/history", history),
    ], exception_handlers={BadRequest: bad_request})
    app.state.hub = hub
    return Guard(app, token) if token else app


class Guard:
    """Bearer token on every request (header, or ``?token=`` for the page's EventSource)."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            from urllib.parse import parse_qs

            from purpose_agent.interfaces import bearer_token_matches

            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
            query = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token", [""])[0]
            # The header check is the one every serving plugin makes; the query parameter is this
            # plugin's own (a browser's EventSource cannot send headers).
            if not (bearer_token_matches(headers.get("authorization", ""), self.token)
                    or hmac.compare_digest(query.encode(), self.token.encode())):
                body = b'{"error": "missing or wrong token: send Authorization: Bearer <token>, or ?token=<token>"}'
                await send({"type": "http.response.start", "status": 401,
                            "headers": [(b"content-type", b"application/json")]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
