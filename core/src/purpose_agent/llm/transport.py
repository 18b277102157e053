"""A lean HTTP/1.1 transport for httpx's async client, on plain asyncio streams.

Why: a swarm sends hundreds of concurrent requests from one interpreter, and there the CPU per
request is what bounds the wall time. httpcore's pool scans every connection for every request
and runs each byte through the h11 state machine and anyio; measured here that was ~2 ms of CPU
per request (tests/benchmarks/bench_runtime.py). This transport keeps an idle list per host and
parses HTTP/1.1 directly: status line, headers, then a body framed by ``Content-Length``,
``chunked`` or connection close. httpx still builds requests and responses, so retries, error
mapping and streaming in :mod:`purpose_agent.llm.http` are unchanged.

What it does not do: HTTP/2, proxies (the backend falls back to httpx's own transport when a
proxy is configured in the environment), ``Expect: 100-continue``, or upgrades.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from typing import Any

import httpx

_NO_BODY_STATUSES = {204, 304}
_CHUNK = 65536


class _Connection:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def close(self) -> None:
        try:
            self.writer.close()
        except Exception:  # already gone; nothing to release
            pass


async def _timed(awaitable: Any, seconds: float | None, error: type[httpx.TimeoutException], request: httpx.Request) -> Any:
    if seconds is None:
        return await awaitable
    try:
        # asyncio.timeout, unlike wait_for, does not wrap the awaitable in a new task.
        async with asyncio.timeout(seconds):
            return await awaitable
    except TimeoutError as exc:
        raise error(f"no data within {seconds} s", request=request) from exc


class _Body(httpx.AsyncByteStream):
    """The response body; the connection goes back to the pool once the body was read whole."""

    def __init__(self, transport: LeanAsyncTransport, key: tuple[str, str, int], conn: _Connection,
                 request: httpx.Request, length: int | None, chunked: bool, keep_alive: bool, read_timeout: float | None) -> None:
        self._transport, self._key, self._conn, self._request = transport, key, conn, request
        self._length, self._chunked, self._keep_alive, self._timeout = length, chunked, keep_alive, read_timeout
        self._done = False

    async def _read(self, awaitable: Any) -> Any:
        try:
            return await _timed(awaitable, self._timeout, httpx.ReadTimeout, self._request)
        except asyncio.IncompleteReadError as exc:
            raise httpx.RemoteProtocolError("the server closed the connection mid-body", request=self._request) from exc
        except (ConnectionError, OSError) as exc:
            raise httpx.ReadError(str(exc) or type(exc).__name__, request=self._request) from exc

    async def __aiter__(self) -> AsyncIterator[bytes]:
        reader = self._conn.reader
        if self._chunked:
            while True:
                size_line = await self._read(reader.readline())
                if not size_line:
                    raise httpx.RemoteProtocolError("the server closed the connection mid-chunk", request=self._request)
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while (await self._read(reader.readline())) not in (b"\r\n", b"\n", b""):
                        pass  # trailers are ignored
                    break
                yield await self._read(reader.readexactly(size))
                await self._read(reader.readexactly(2))
        elif self._length is not None:
            remaining = self._length
            while remaining:
                data = await self._read(reader.read(min(remaining, _CHUNK)))
                if not data:
                    raise httpx.RemoteProtocolError("the server closed the connection mid-body", request=self._request)
                remaining -= len(data)
                yield data
        else:
            self._keep_alive = False  # the body ends when the connection does
            while data := await self._read(reader.read(_CHUNK)):
                yield data
        self._done = True

    async def aclose(self) -> None:
        if self._done and self._keep_alive:
            self._transport._release(self._key, self._conn)
        else:
            self._conn.close()


class LeanAsyncTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 over asyncio streams with per-host keep-alive (see the module docstring)."""

    def __init__(self, *, ssl_context: ssl.SSLContext | None = None, max_idle_per_host: int = 128) -> None:
        self._ssl = ssl_context
        self._max_idle = max_idle_per_host
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}

    def _release(self, key: tuple[str, str, int], conn: _Connection) -> None:
        idle = self._idle.setdefault(key, [])
        if len(idle) < self._max_idle and not conn.reader.at_eof():
            idle.append(conn)
        else:
            conn.close()

    async def _connect(self, request: httpx.Request, key: tuple[str, str, int], timeout: float | None) -> _Connection:
        scheme, host, port = key
        context = None
        if scheme == "https":
            context = self._ssl or ssl.create_default_context()
        try:
            reader, writer = await _timed(asyncio.open_connection(host, port, ssl=context, limit=2**20),
                                          timeout, httpx.ConnectTimeout, request)
        except (ConnectionError, OSError) as exc:
            raise httpx.ConnectError(str(exc) or type(exc).__name__, request=request) from exc
        return _Connection(reader, writer)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        key = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        timeouts = request.extensions.get("timeout", {})
        body = b"".join([part async for part in request.stream])  # type: ignore[union-attr]
        head = [f"{request.method} ".encode() + url.raw_path + b" HTTP/1.1\r\n"]
        head += [name + b": " + value + b"\r\n" for name, value in request.headers.raw]
        payload = b"".join(head) + b"\r\n" + body
        idle = self._idle.get(key)
        reused = bool(idle)
        conn = idle.pop() if idle else await self._connect(request, key, timeouts.get("connect"))
        try:
            status, headers = await self._exchange(conn, request, payload, timeouts)
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
            conn.close()
            if not reused:
                raise
            # A kept-alive connection the server had closed meanwhile: one fresh attempt.
            conn = await self._connect(request, key, timeouts.get("connect"))
            status, headers = await self._exchange(conn, request, payload, timeouts)
        except BaseException:
            conn.close()
            raise
        names = {name.lower(): value for name, value in headers}
        keep_alive = names.get(b"connection", b"").lower() != b"close"
        chunked = b"chunked" in names.get(b"transfer-encoding", b"").lower()
        length = None if chunked else int(names[b"content-length"]) if b"content-length" in names else None
        if request.method == "HEAD" or status in _NO_BODY_STATUSES or 100 <= status < 200:
            length, chunked = 0, False
        stream = _Body(self, key, conn, request, length, chunked, keep_alive, timeouts.get("read"))
        return httpx.Response(status, headers=headers, stream=stream, extensions={"http_version": b"HTTP/1.1"})

    async def _exchange(self, conn: _Connection, request: httpx.Request, payload: bytes,
                        timeouts: dict[str, Any]) -> tuple[int, list[tuple[bytes, bytes]]]:
        try:
            conn.writer.write(payload)
            await _timed(conn.writer.drain(), timeouts.get("write"), httpx.WriteTimeout, request)
        except (ConnectionError, OSError) as exc:
            raise httpx.WriteError(str(exc) or type(exc).__name__, request=request) from exc
        read = timeouts.get("read")
        try:
            status_line = await _timed(conn.reader.readline(), read, httpx.ReadTimeout, request)
            if not status_line:
                raise httpx.RemoteProtocolError("the server closed the connection without a response", request=request)
            parts = status_line.split(b" ", 2)
            if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
                raise httpx.RemoteProtocolError(f"not an HTTP/1.x status line: {status_line[:80]!r}", request=request)
            headers: list[tuple[bytes, bytes]] = []
            while True:
                line = await _timed(conn.reader.readline(), read, httpx.ReadTimeout, request)
                if line in (b"\r\n", b"\n"):
                    break
                if not line:
                    raise httpx.RemoteProtocolError("the server closed the connection mid-headers", request=request)
                name, _, value = line.partition(b":")
                headers.append((name.strip(), value.strip()))
        except (ConnectionError, OSError) as exc:
            raise httpx.ReadError(str(exc) or type(exc).__name__, request=request) from exc
        return int(parts[1]), headers

    async def aclose(self) -> None:
        for connections in self._idle.values():
            for conn in connections:
                conn.close()
        self._idle.clear()
