"""The async transport: aiohttp's connection pool behind httpx's request and response types,
with a connection cap, a pool timeout, and one family of errors.

Why aiohttp's pool: a swarm sends hundreds of concurrent requests from one interpreter, and
there the CPU per request bounds the wall time. httpcore's pool scans every connection for every
request (quadratic in a burst); measured on 200 requests at concurrency 50 against a 100 ms
server (``tests/benchmarks/bench_transport.py``), httpx's own transport needed about three times
the CPU of aiohttp's, and raising its limits made it slower still. httpx still builds requests
and responses, so :class:`~purpose_agent_http.http.HTTPBackend`'s retries, error mapping and
streaming are the same on every transport.

Why not httpx-aiohttp's ``AiohttpTransport`` (used here before): its adaptation costs about as
much CPU per request as aiohttp's own exchange (it re-parses the URL, copies httpx's headers
through a generic mapping, builds a timeout object per request, and streams every body through
two async generators), and in the swarm benchmark that was the difference between 1.3 and 1.5 x
the ideal wall time (docs/providers.md, "Transport"). The adaptation here is the same handful of
calls on aiohttp's public API with those costs taken out.

What this module adds to aiohttp:

- a cap on open connections (``max_connections``) with a wait for a free one bounded by the
  request's ``pool`` timeout, ending in :class:`httpx.PoolTimeout` that says so;
- every failure as the :mod:`httpx` error that names what happened: a malformed or truncated
  response is :class:`httpx.RemoteProtocolError`, so the backend retries it and reports it like
  any other broken exchange;
- a whole-body read for callers that would read the body anyway (the ``READ_WHOLE_BODY``
  request extension), which frees the connection before the response is handed back;
- :meth:`PooledAsyncTransport.request_whole`, the same exchange for a non-streamed JSON call
  without httpx's request and response objects at all (``HTTPBackend.apost_json``, every
  non-streamed model call): building them was the largest share of the client's own CPU per
  call left in a swarm.

Importing this module imports aiohttp (tens of milliseconds); it loads on the first async request.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx
from multidict import CIMultiDict
from yarl import URL

from .http import PARSED_HEADERS, READ_WHOLE_BODY, WholeResponse

#: The failures of an exchange a transport may raise besides httpx's own errors.
_EXCHANGE_ERRORS = (aiohttp.ClientError, httpx.TransportError, TimeoutError, OSError, ValueError)


def as_httpx_error(exc: BaseException, request: httpx.Request | None = None) -> httpx.TransportError:
    """The httpx error for a failed exchange, judged by aiohttp's original error where there is one."""
    original = exc.__cause__ if isinstance(exc, httpx.HTTPError) and exc.__cause__ is not None else exc
    # aiohttp's parser errors span lines (the offending bytes under the message): one line here
    said = " ".join(str(original).split())
    detail = f"{type(original).__name__}: {said[:200]}{'…' if len(said) > 200 else ''}"
    error: type[httpx.TransportError]
    if isinstance(original, aiohttp.ConnectionTimeoutError):
        error = httpx.ConnectTimeout
    elif isinstance(original, TimeoutError):  # aiohttp's socket and server timeouts are TimeoutErrors
        error = httpx.ReadTimeout
    elif isinstance(original, aiohttp.ClientConnectorError):
        error = httpx.ConnectError
    elif isinstance(original, aiohttp.ServerDisconnectedError):
        error, detail = httpx.RemoteProtocolError, f"the server closed the connection before the response was complete ({detail})"
    elif isinstance(original, aiohttp.ClientResponseError | aiohttp.ClientPayloadError | ValueError):
        # a status line, header or body framing that is not HTTP/1.1 (bad chunk size, bad or
        # short Content-Length, non-numeric status, garbage)
        error, detail = httpx.RemoteProtocolError, f"malformed response ({detail})"
    elif isinstance(original, OSError):
        error = httpx.ReadError
    elif isinstance(exc, httpx.TransportError):
        return exc
    else:
        error = httpx.RemoteProtocolError
    return error(detail, request=request)


class _Body(httpx.AsyncByteStream):
    """aiohttp's response body as httpx's stream: errors mapped, the connection slot freed on close."""

    def __init__(self, response: aiohttp.ClientResponse, slots: asyncio.Semaphore, request: httpx.Request) -> None:
        self._response, self._slots, self._request = response, slots, request
        self._released = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            # what has arrived, as it arrives: a whole small reply at once, a stream event by event
            async for chunk in self._response.content.iter_any():
                yield chunk
        except _EXCHANGE_ERRORS as exc:
            raise as_httpx_error(exc, self._request) from exc

    async def aclose(self) -> None:
        try:
            # back to the pool if the body was read to the end, closed otherwise
            self._response.release()
        except _EXCHANGE_ERRORS:
            pass  # the connection is gone either way; aiohttp does not reuse a broken one
        finally:
            if not self._released:
                self._released = True
                self._slots.release()


async def _close_with_the_loop(transport: PooledAsyncTransport) -> AsyncIterator[None]:
    """Parked at its first ``yield`` for as long as the event loop runs.

    aiohttp reports a session that was never closed ("Unclosed client session") when it is
    garbage-collected, and a backend cannot know when the loop it served ends (``pa.swarm`` runs
    each swarm in its own ``asyncio.run``). Every asyncio runner closes the loop's pending async
    generators before closing the loop, which runs this ``finally`` while the loop still runs.
    """
    try:
        yield
    finally:
        await transport.aclose()


class PooledAsyncTransport(httpx.AsyncBaseTransport):
    """aiohttp's connection pool with a cap and a pool timeout (see the module docstring).

    Args:
        ssl_context: TLS settings for ``https`` (the process-wide context, see ``shared_ssl_context``).
        max_connections: at most this many connections open at once; more requests wait.
        pool_timeout: seconds a request may wait for a free connection when the request's own
            ``pool`` timeout is not set.
        keepalive_expiry: seconds an idle connection is kept for reuse.

    Bound to the event loop it is first used on, like every async connection pool.
    """

    def __init__(self, *, ssl_context: ssl.SSLContext | None = None, max_connections: int = 100,
                 pool_timeout: float = 30.0, keepalive_expiry: float = 30.0) -> None:
        if max_connections < 1:
            raise ValueError(f"max_connections must be at least 1, not {max_connections}")
        self.max_connections = max_connections
        self.pool_timeout = pool_timeout
        self.keepalive_expiry = keepalive_expiry
        self._ssl_context = ssl_context if ssl_context is not None else httpx.create_ssl_context()
        self._session: aiohttp.ClientSession | None = None
        self._slots: asyncio.Semaphore | None = None
        self._closer: AsyncIterator[None] | None = None
        self._closed = False
        # Per-request conversions that give the same answer every time (a swarm sends hundreds
        # of requests to one URL with one timeout): parsed once.
        self._urls: dict[str, URL] = {}
        self._timeouts: dict[tuple[float | None, float | None], aiohttp.ClientTimeout] = {}

    async def _open(self) -> aiohttp.ClientSession:
        """The session and the connection slots, bound to the running loop from now on."""
        self._slots = asyncio.Semaphore(self.max_connections)
        # Model APIs set no cookies worth keeping; the default jar costs CPU on every exchange.
        connector = aiohttp.TCPConnector(limit=self.max_connections, keepalive_timeout=self.keepalive_expiry,
                                         ssl=self._ssl_context)
        self._session = aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
                                              auto_decompress=False)  # httpx decodes Content-Encoding
        self._closer = _close_with_the_loop(self)
        await self._closer.__anext__()
        return self._session

    def _url(self, text: str) -> URL:
        parsed = self._urls.get(text)
        if parsed is None:
            if len(self._urls) >= 256:  # a client that sends to ever new URLs gains nothing here
                self._urls.clear()
            parsed = self._urls[text] = URL(text, encoded=True)
        return parsed

    def _timeout(self, connect: float | None, read: float | None) -> aiohttp.ClientTimeout:
        key = (connect, read)
        timeout = self._timeouts.get(key)
        if timeout is None:
            if len(self._timeouts) >= 64:
                self._timeouts.clear()
            # a connection's wait for a free slot is bounded here (the semaphore), not by aiohttp
            timeout = self._timeouts[key] = aiohttp.ClientTimeout(sock_connect=connect, sock_read=read)
        return timeout

    async def _send(self, method: str, url: URL, headers: CIMultiDict[str], data: Any, *,
                    connect: float | None, read: float | None, pool: float | None, server_hostname: Any = None,
                    request: httpx.Request | None = None) -> tuple[aiohttp.ClientResponse, asyncio.Semaphore]:
        """Wait for a connection slot (at most ``pool`` seconds, else the transport's pool timeout)
        and send; the response's head is read, its body is not. Releasing the slot is the caller's."""
        session = self._session if self._session is not None else await self._open()
        slots = self._slots
        assert slots is not None
        if slots.locked():  # only a request that must wait pays for a timer
            wait = pool or self.pool_timeout
            try:
                async with asyncio.timeout(wait):
                    await slots.acquire()
            except TimeoutError as exc:
                raise httpx.PoolTimeout(
                    f"all {self.max_connections} connections stayed busy for {wait:g} s", request=request
                ) from exc
        else:
            await slots.acquire()
        try:
            response = await session.request(
                method, url, headers=headers, data=data, allow_redirects=False, compress=False,
                timeout=self._timeout(connect, read), server_hostname=server_hostname,
            )
        except BaseException as exc:
            slots.release()
            if isinstance(exc, _EXCHANGE_ERRORS):
                raise as_httpx_error(exc, request) from exc
            raise
        return response, slots

    def json_headers(self, headers: httpx.Headers) -> CIMultiDict[str]:
        """``headers`` (a client's merged set) plus the type of a JSON body, as :meth:`request_whole`
        takes them; aiohttp adds Host and Content-Length and copies the mapping, so one can be
        kept and reused for every request with the same headers."""
        prepared = CIMultiDict(headers.multi_items())
        prepared["Content-Type"] = "application/json"
        return prepared

    async def request_whole(self, method: str, url: str, headers: CIMultiDict[str], content: bytes, *,
                            connect: float | None, read: float | None, pool: float | None) -> WholeResponse:
        """Send ``content`` and read the whole reply, with the connection and its slot given back
        before returning; no httpx request or response is built.

        Errors are the same :mod:`httpx` errors :meth:`handle_async_request` raises (without a
        request attached), and a body with a ``Content-Encoding`` is decoded as httpx would.
        """
        response, slots = await self._send(method, self._url(url), headers, content or None,
                                           connect=connect, read=read, pool=pool)
        try:
            body = await response.read()
        except _EXCHANGE_ERRORS as exc:
            raise as_httpx_error(exc) from exc
        finally:
            response.release()
            slots.release()
        if response.headers.get("content-encoding", "identity").lower() != "identity":
            # gzip and the like: httpx's decoders, as the streamed path uses them (rare for a model API)
            body = httpx.Response(status_code=response.status, headers=response.raw_headers, content=body).content
        return WholeResponse(response.status, response.headers, body)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            data: Any = request.content or None
        except httpx.RequestNotRead:  # a streamed upload: aiohttp frames it itself
            data = request.stream
            request.headers.pop("transfer-encoding", None)
        # httpx has already set every header (Host, Accept, Content-Length, ...); a
        # CIMultiDict is taken as it is, where any other mapping would be copied first.
        headers = CIMultiDict([(key.decode("latin-1"), value.decode("latin-1")) for key, value in request.headers.raw])
        given = request.extensions.get("timeout", {})
        response, slots = await self._send(
            request.method, self._url(str(request.url)), headers, data, connect=given.get("connect"),
            read=given.get("read"), pool=given.get("pool"), server_hostname=request.extensions.get("sni_hostname"),
            request=request,
        )
        extensions: dict[str, Any] = {"http_version": b"HTTP/1.1", PARSED_HEADERS: response.headers}
        if response.reason:
            extensions["reason_phrase"] = response.reason.encode("latin-1", "replace")
        if request.extensions.get(READ_WHOLE_BODY):
            # The caller reads the whole body anyway: one read here and the connection back to
            # the pool, instead of httpx's chain of async generators over a stream.
            try:
                content = await response.read()
            except _EXCHANGE_ERRORS as exc:
                raise as_httpx_error(exc, request) from exc
            finally:
                response.release()
                slots.release()
            return httpx.Response(status_code=response.status, headers=response.raw_headers, content=content,
                                  request=request, extensions=extensions)
        return httpx.Response(status_code=response.status, headers=response.raw_headers,
                              stream=_Body(response, slots, request), request=request, extensions=extensions)

    @property
    def is_closed(self) -> bool:
        """Whether :meth:`aclose` ran (the loop it served has ended, or it was closed)."""
        return self._closed

    async def aclose(self) -> None:
        self._closed = True
        if self._session is not None:
            await self._session.close()
