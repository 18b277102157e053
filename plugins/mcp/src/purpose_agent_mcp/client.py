"""The client side: MCP servers' tools as agent tools.

Each configured server becomes a :class:`ServerConnection`, started on first use (listing its
tools or calling one), reused by every later call, and closed when the adapter is closed (the
kernel does that when the last run using the tools ends). All connections of one adapter live on
one asyncio loop in a background thread, because the SDK's sessions are async and tools are
called from the runner's worker threads.

A server that cannot start, dies, hangs or answers garbage is marked failed with a sentence that
says which and why (with the last lines it wrote to stderr); its tools then answer with that
sentence at once, and the run goes on with the other servers. ``close()`` clears the mark, so
the next run tries again.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import tempfile
import threading
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import IO, Any, TypeVar

from purpose_agent.models import Observation, TextOrigin

from .settings import McpSettings, ServerConfig

T = TypeVar("T")

#: How much of a server's stderr an error quotes.
STDERR_TAIL_CHARS = 600

#: A function name every native tool-calling API accepts (OpenAI's chat completions and Anthropic's
#: messages refuse anything else with HTTP 400, so a dot in ``time.get_current_time`` would fail).
WIRE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def tool_name(server: str, tool: str) -> str:
    """The agent tool name of MCP tool ``tool`` of ``server``: ``SERVER__tool``.

    A server's own name may hold characters or a length that function-calling APIs refuse (MCP
    allows ``.`` and ``/``): then those characters become ``_`` and a short hash of the original
    name is appended, so two such names never collide; the call still uses the server's name."""
    plain = f"{server}__{tool}"
    if WIRE_NAME.match(plain):
        return plain
    digest = hashlib.sha256(tool.encode()).hexdigest()[:8]
    return f"{_UNSAFE.sub('_', plain)[:55]}_{digest}"  # at most 64 characters


class ServerUnavailable(Exception):
    """A server could not be used; the message is the sentence to show."""


class _LoopThread:
    """One asyncio loop in a daemon thread: where every connection of an adapter lives."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None

    def _ensure(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self.loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="purpose-agent-mcp", daemon=True)
                thread.start()
                self.loop = loop
            return self.loop

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coroutine`` on the loop and wait for it from this (other) thread."""
        future = asyncio.run_coroutine_threadsafe(coroutine, self._ensure())
        return future.result(timeout)


@dataclass
class ListedTool:
    """A tool as the server described it."""

    name: str
    description: str
    input_schema: dict[str, Any]


class ServerConnection:
    """One MCP server: started on first use, reused, closed on :meth:`aclose`."""

    def __init__(self, name: str, config: ServerConfig, settings: McpSettings) -> None:
        self.name = name
        self.config = config
        self.startup_timeout_s = config.startup_timeout_s or settings.startup_timeout_s
        self.call_timeout_s = config.call_timeout_s or settings.call_timeout_s
        self.failed: str | None = None
        self._client: Any = None
        self._holder: asyncio.Task[None] | None = None
        self._stop: asyncio.Event | None = None
        self._stderr: IO[str] | None = None
        self._opening: asyncio.Lock | None = None

    # ------------------------------------------------------------------ describing

    def describe(self) -> str:
        """``stdio: mcp-server-time --local-timezone UTC`` or ``http: https://…`` (for messages)."""
        if self.config.url is not None:
            return f"http: {self.config.url}"
        return "stdio: " + " ".join([self.config.command or "", *self.config.args]).strip()

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        try:
            self._stderr.flush()
            self._stderr.seek(0)
            text = self._stderr.read()[-STDERR_TAIL_CHARS:].strip()
        except (OSError, ValueError):
            return ""
        return f" Its stderr ends: {text!r}." if text else ""

    # ------------------------------------------------------------------ lifecycle

    def _target(self) -> Any:
        from mcp import StdioServerParameters
        from mcp.client.stdio import stdio_client
        from mcp.client.streamable_http import streamable_http_client
        from mcp.shared._httpx_utils import create_mcp_http_client

        try:
            if self.config.url is not None:
                http = create_mcp_http_client(headers=self.config.resolved_headers())
                return streamable_http_client(self.config.url, http_client=http)
            env = self.config.resolved_env()
        except LookupError as exc:
            raise ServerUnavailable(f"MCP server '{self.name}' was not started: {exc}; set it and run again.") from None
        params = StdioServerParameters(command=self.config.command or "", args=list(self.config.args), env=env or None,
                                       cwd=self.config.cwd)
        self._stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")
        return stdio_client(params, errlog=self._stderr)

    async def _open(self) -> None:
        from mcp import Client

        target = self._target()
        started: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._stop = stop = asyncio.Event()

        async def hold() -> None:
            # The SDK's client is entered and left in this one task (anyio's cancel scopes
            # require it); calls from other tasks use it in between.
            try:
                async with Client(target, read_timeout_seconds=self.call_timeout_s) as client:
                    self._client = client
                    started.set_result(None)
                    await stop.wait()
            except BaseException as exc:
                if not started.done():
                    started.set_exception(exc)
                elif self.failed is None and not stop.is_set():
                    self.failed = f"MCP server '{self.name}' ({self.describe()}) stopped: {_reason(exc)}."
                if isinstance(exc, asyncio.CancelledError):
                    raise
            finally:
                self._client = None

        self._holder = asyncio.get_running_loop().create_task(hold(), name=f"mcp server {self.name}")
        try:
            await asyncio.wait_for(asyncio.shield(started), self.startup_timeout_s)
        except TimeoutError:
            await self._kill()
            raise ServerUnavailable(
                f"MCP server '{self.name}' ({self.describe()}) did not complete the MCP handshake within "
                f"{self.startup_timeout_s:g} s (it hangs, or writes something other than MCP messages).{self._stderr_tail()}"
            ) from None
        except Exception as exc:
            await self._kill()
            raise ServerUnavailable(
                f"MCP server '{self.name}' ({self.describe()}) could not be started: {_reason(exc)}.{self._stderr_tail()}"
            ) from None

    async def _ensure(self) -> Any:
        if self.failed is not None:
            raise ServerUnavailable(self.failed)
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:  # two tools of one server called at once start it once
            if self._client is None:
                try:
                    await self._open()
                except ServerUnavailable as exc:
                    self.failed = str(exc)
                    raise
        return self._client

    async def _kill(self) -> None:
        if self._stop is not None:
            self._stop.set()
        holder, self._holder = self._holder, None
        if holder is not None and not holder.done():
            done, _ = await asyncio.wait({holder}, timeout=5)
            if not done:  # the transport did not shut down: cancel it (the SDK kills the process tree)
                holder.cancel()
                await asyncio.wait({holder}, timeout=5)
        self._client = None

    async def aclose(self) -> None:
        """Stop the server (if running) and forget a failure, so the next use starts it anew."""
        await self._kill()
        self.failed = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    # ------------------------------------------------------------------ requests

    async def list_tools(self) -> list[ListedTool]:
        """Every tool the server offers (all pages)."""
        client = await self._ensure()
        listed: list[ListedTool] = []
        cursor: str | None = None
        try:
            async with asyncio.timeout(self.call_timeout_s):
                while True:
                    if cursor is None:
                        page = await client.list_tools()
                    else:
                        from mcp.types import PaginatedRequestParams

                        page = await client.list_tools(params=PaginatedRequestParams(cursor=cursor))
                    for tool in page.tools:
                        schema = dict(tool.input_schema or {})
                        schema.setdefault("type", "object")
                        listed.append(ListedTool(tool.name, tool.description or "", schema))
                    cursor = page.next_cursor
                    if not cursor:
                        return listed
        except Exception as exc:
            raise self._broke("listing its tools", exc) from None

    async def call_tool(self, tool: str, arguments: dict[str, Any]) -> Any:
        """The raw ``CallToolResult`` of one call."""
        client = await self._ensure()
        try:
            async with asyncio.timeout(self.call_timeout_s):
                return await client.call_tool(tool, arguments)
        except Exception as exc:
            raise self._broke(f"calling '{tool}'", exc) from None

    def _broke(self, doing: str, exc: BaseException) -> ServerUnavailable:
        """Mark the server failed after an error while ``doing``; return the error to raise."""
        if isinstance(exc, TimeoutError):
            why = f"it did not answer within {self.call_timeout_s:g} s"
        else:
            why = _reason(exc)
        self.failed = self.failed or (
            f"MCP server '{self.name}' ({self.describe()}) failed while {doing}: {why}; its tools are unavailable "
            f"until the run ends.{self._stderr_tail()}"
        )
        # Stop it now: a server that hangs or answers garbage must not keep running.
        asyncio.get_running_loop().create_task(self._kill())
        return ServerUnavailable(self.failed)


def _reason(exc: BaseException) -> str:
    """An exception as a clause; groups (anyio task groups) are unwrapped to their first cause."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def result_text(result: Any, max_chars: int) -> tuple[bool, str]:
    """``(ok, text)`` from a ``CallToolResult``: text blocks joined, other blocks named, structured
    content as JSON when there is no text; cut at ``max_chars`` (and says so)."""
    parts: list[str] = []
    for block in getattr(result, "content", None) or []:
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(block.text)
        elif kind in ("image", "audio"):
            parts.append(f"[{kind}: {getattr(block, 'mime_type', '')}]")
        elif kind == "resource_link":
            parts.append(f"[resource: {getattr(block, 'uri', '')}]")
        elif kind == "resource":
            inner = getattr(block, "resource", None)
            parts.append(getattr(inner, "text", None) or f"[resource: {getattr(inner, 'uri', '')}]")
    structured = getattr(result, "structured_content", None)
    if not parts and structured is not None:
        parts.append(json.dumps(structured, ensure_ascii=False))
    text = "\n".join(parts)
    if len(text) > max_chars:
        text = text[:max_chars] + f"\n[output cut at {max_chars} characters]"
    is_error = bool(getattr(result, "is_error", None))
    return not is_error, text


class McpTool:
    """One MCP server tool as an agent tool, named ``SERVER__tool`` (:func:`tool_name`); its output is
    untrusted text."""

    def __init__(self, adapter: McpAdapter, server: str, listed: ListedTool) -> None:
        self.adapter = adapter
        self.server = server
        self.tool = listed.name
        self.name = tool_name(server, listed.name)
        self.description = listed.description or f"The '{listed.name}' tool of MCP server '{server}'."
        self.parameters = listed.input_schema

    def run(self, arguments: dict[str, Any]) -> Observation:
        origin = TextOrigin(kind="mcp", name=f"{self.server}/{self.tool}")
        connection = self.adapter.connections[self.server]
        try:
            result = self.adapter.loop.run(connection.call_tool(self.tool, dict(arguments)))
        except ServerUnavailable as exc:
            return Observation(ok=False, error=str(exc), origin=origin)
        except Exception as exc:  # the SDK rejecting a reply, a protocol error: reported, not raised
            return Observation(ok=False, error=f"MCP tool '{self.name}' failed: {_reason(exc)}", origin=origin)
        ok, text = result_text(result, self.adapter.settings.max_output_chars)
        if ok:
            return Observation(output=text, origin=origin)
        return Observation(ok=False, output=text, error=f"MCP tool '{self.name}' reported an error: {text}", origin=origin)


class McpAdapter:
    """The ``mcp`` protocol adapter: every configured server's tools; serves a team too (server.py)."""

    name = "mcp"

    def __init__(self, settings: McpSettings | None) -> None:
        self.settings = settings or McpSettings()
        self.loop = _LoopThread()
        self.connections = {name: ServerConnection(name, config, self.settings)
                            for name, config in sorted(self.settings.servers.items())}
        self._listed: dict[str, list[McpTool]] = {}  # kept across runs: a later run starts a server on first call
        self._problems: list[str] = []

    def tools(self) -> Sequence[McpTool]:
        """The tools of every server that can be listed; the others are in :meth:`problems`."""
        self._problems = []
        pending = [name for name in self.connections if name not in self._listed]
        if pending:
            outcomes = self.loop.run(self._list_all(pending))
            for name, outcome in zip(pending, outcomes, strict=True):
                if isinstance(outcome, BaseException):
                    self._problems.append(str(outcome) if isinstance(outcome, ServerUnavailable)
                                          else f"MCP server '{name}' could not be listed: {_reason(outcome)}")
                else:
                    self._listed[name] = [McpTool(self, name, listed) for listed in outcome]
        return [tool for name in self.connections for tool in self._listed.get(name, [])]

    async def _list_all(self, names: list[str]) -> list[Any]:
        # Servers start side by side: a slow one does not hold up the others.
        return list(await asyncio.gather(*(self.connections[n].list_tools() for n in names), return_exceptions=True))

    def problems(self) -> list[str]:
        """Why each server missing from the last :meth:`tools` is missing."""
        return list(self._problems)

    def listing(self) -> dict[str, list[ListedTool] | str]:
        """``{server: its tools, or why it has none}`` (``purpose-agent mcp tools``)."""
        self.tools()
        found: dict[str, list[ListedTool] | str] = {}
        for name in self.connections:
            if name in self._listed:
                found[name] = [ListedTool(t.tool, t.description, t.parameters) for t in self._listed[name]]
            else:
                found[name] = next((p for p in self._problems if f"'{name}'" in p), "unavailable")
        return found

    def close(self) -> None:
        """Stop every running server; the next use starts it anew."""
        if self.loop.loop is None:
            return

        async def close_all() -> None:
            await asyncio.gather(*(c.aclose() for c in self.connections.values()), return_exceptions=True)

        self.loop.run(close_all(), timeout=30)

    async def serve(self, team: Any, *, ready: Any = None, **options: Any) -> None:
        """Serve ``team`` as an MCP server (see :mod:`purpose_agent_mcp.server`)."""
        from .server import serve

        await serve(team, ready=ready, **options)
