"""The async transport: httpx-aiohttp's ``AiohttpTransport`` behind a connection cap, a pool
timeout, and one family of errors.

Why aiohttp's pool: a swarm sends hundreds of concurrent requests from one interpreter, and
there the CPU per request bounds the wall time. httpcore's pool scans every connection for every
request (quadratic in a burst); measured on 200 requests at concurrency 50 against a 100 ms
server (``tests/benchmarks/bench_transport.py``), httpx's own transport needed about three times
the CPU of aiohttp's, and raising its limits made it slower still. httpx still builds requests
and responses, so :class:`~purpose_agent_http.http.HTTPBackend`'s retries, error mapping and
streaming are the same on every transport.

What this module adds to ``AiohttpTransport``:

- a cap on open connections (``max_connections``) with a wait for a free one bounded by the
  request's ``pool`` timeout, ending in :class:`httpx.PoolTimeout` that says so;
- every failure as the :mod:`httpx` error that names what happened. httpx-aiohttp maps only some
  of aiohttp's errors (a malformed status line or header escapes as aiohttp's own
  ``ClientResponseError``, a dropped connection becomes ``ConnectTimeout``); here a malformed or
  truncated response is :class:`httpx.RemoteProtocolError`, so the backend retries it and reports
  it like any other broken exchange.

Importing this module imports aiohttp (tens of milliseconds); it loads on the first async request.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

#: The failures of an exchange a transport may raise besides httpx's own errors.
_EXCHANGE_ERRORS = (aiohttp.ClientError, httpx.TransportError, TimeoutError, OSError, ValueError)


def as_httpx_error(exc: BaseException, request: httpx.Request) -> httpx.TransportError:
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
    """The response body: errors mapped, and the connection slot freed when it is closed."""

    def __init__(self, inner: httpx.AsyncByteStream, slots: asyncio.Semaphore, request: httpx.Request) -> None:
        self._inner, self._slots, self._request = inner, slots, request
        self._released = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                yield chunk
        except _EXCHANGE_ERRORS as exc:
            raise as_httpx_error(exc, self._request) from exc

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
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
        verify = ssl_context if ssl_context is not None else True
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections,
                              keepalive_expiry=keepalive_expiry)

        def session() -> aiohttp.ClientSession:
            # Model APIs set no cookies worth keeping; the default jar costs CPU on every exchange.
            connector = aiohttp.TCPConnector(limit=max_connections, keepalive_timeout=keepalive_expiry,
                                             ssl=httpx.create_ssl_context(verify=verify))
            return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())

        self._inner = AiohttpTransport(verify=verify, limits=limits, client=session)
        self._slots: asyncio.Semaphore | None = None
        self._closer: AsyncIterator[None] | None = None
        self._closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._slots is None:  # first use, so bound to this loop from now on
            self._slots = asyncio.Semaphore(self.max_connections)
            self._closer = _close_with_the_loop(self)
            await self._closer.__anext__()
        slots = self._slots
        if slots.locked():  # only a request that must wait pays for a timer
            wait = request.extensions.get("timeout", {}).get("pool") or self.pool_timeout
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
            response = await self._inner.handle_async_request(request)
        except BaseException as exc:
            slots.release()
            if isinstance(exc, _EXCHANGE_ERRORS):
                raise as_httpx_error(exc, request) from exc
            raise
        response.stream = _Body(response.stream, slots, request)  # type: ignore[arg-type]
        return response

    @property
    def is_closed(self) -> bool:
        """Whether :meth:`aclose` ran (the loop it served has ended, or it was closed)."""
        return self._closed

    async def aclose(self) -> None:
        self._closed = True
        await self._inner.aclose()
