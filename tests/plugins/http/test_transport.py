"""The async transport (aiohttp's pool behind a connection cap and a pool timeout) and the client's
handling of malformed HTTP, against raw loopback servers that frame bodies every way HTTP/1.1
allows, send broken framing, close connections, and stall."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator

import httpx
import pytest

from purpose_agent.errors import ProviderUnavailableError
from purpose_agent.models import ChatRequest, Message
from purpose_agent_http import OpenAICompatibleBackend
from purpose_agent_http.transport import PooledAsyncTransport

Responder = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def read_request(reader: asyncio.StreamReader) -> bytes:
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return await reader.readexactly(length)


async def serve(responder: Responder, scenario: Callable[[str], Awaitable[None]]) -> int:
    connections = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        try:
            await responder(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    async with server:
        await scenario(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}")
    return connections


def client(**options: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=PooledAsyncTransport(**options), timeout=httpx.Timeout(2.0, read=0.5))  # type: ignore[arg-type]


def test_content_length_bodies_reuse_one_connection() -> None:
    async def responder(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            body = await read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            await writer.drain()

    async def scenario(url: str) -> None:
        async with client() as http:
            for i in range(3):
                response = await http.post(url + "/echo", content=f"hello {i}".encode())
                assert response.status_code == 200 and response.text == f"hello {i}"

    assert asyncio.run(serve(responder, scenario)) == 1


def test_chunked_and_close_delimited_bodies_and_no_content() -> None:
    async def responder(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n")
        await read_request(reader)
        writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end")
        await writer.drain()

    async def scenario(url: str) -> None:
        async with client() as http:
            assert (await http.get(url)).text == "hello world"
            assert (await http.get(url)).status_code == 204
            assert (await http.get(url)).text == "until the end"

    asyncio.run(serve(responder, scenario))


def test_a_stale_kept_alive_connection_is_replaced() -> None:
    async def responder(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        # then the server drops the idle connection, as servers do after a keep-alive timeout

    async def scenario(url: str) -> None:
        async with client() as http:
            assert (await http.get(url)).text == "ok"
            await asyncio.sleep(0.05)
            assert (await http.get(url)).text == "ok"

    assert asyncio.run(serve(responder, scenario)) == 2


def test_a_stalled_server_is_a_read_timeout_and_nobody_listening_a_connect_error() -> None:
    async def responder(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(5)

    async def scenario(url: str) -> None:
        async with client() as http:
            with pytest.raises(httpx.ReadTimeout):
                await http.get(url + "/stall")
            with pytest.raises(httpx.ConnectError):
                await http.get("http://127.0.0.1:1/")

    asyncio.run(serve(responder, scenario))


def test_the_connection_cap_holds_and_a_request_waits_for_a_free_connection() -> None:
    open_now = most = 0

    async def responder(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal open_now, most
        open_now += 1
        most = max(most, open_now)
        try:
            while await read_request(reader) is not None:
                await asyncio.sleep(0.05)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        finally:
            open_now -= 1

    async def scenario(url: str) -> None:
        async with client(max_connections=2) as http:
            replies = await asyncio.gather(*[http.get(url) for _ in range(8)])
            assert [r.text for r in replies] == ["ok"] * 8

    assert asyncio.run(serve(responder, scenario)) == 2
    assert most == 2


def test_a_request_that_finds_every_connection_busy_past_the_pool_timeout_fails_saying_so() -> None:
    async def responder(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(0.4)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()

    async def scenario(url: str) -> None:
        async with httpx.AsyncClient(transport=PooledAsyncTransport(max_connections=1),
                                     timeout=httpx.Timeout(2.0, pool=0.1)) as http:
            slow = asyncio.create_task(http.get(url))
            await asyncio.sleep(0.05)
            with pytest.raises(httpx.PoolTimeout, match="all 1 connections stayed busy for 0.1 s"):
                await http.get(url)
            assert (await slow).text == "ok"  # and the slot it held is free again afterwards
            assert (await http.get(url)).text == "ok"

    asyncio.run(serve(responder, scenario))


def test_a_whole_body_read_frees_its_connection_and_decodes_like_a_stream() -> None:
    """The READ_WHOLE_BODY path (every non-streamed backend call): the slot and the connection go
    back before the response is handed over, and the body is decoded as httpx decodes a stream."""
    import gzip

    from purpose_agent_http.http import READ_WHOLE_BODY

    body = gzip.compress(b"zipped ok")

    async def responder(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: "
                         + str(len(body)).encode() + b"\r\n\r\n" + body)
            await writer.drain()

    async def scenario(url: str) -> None:
        transport = PooledAsyncTransport(max_connections=1, pool_timeout=0.2)
        try:
            for _ in range(3):  # a slot not given back would make the second wait and time out
                request = httpx.Request("GET", url, extensions={"timeout": {"connect": 2.0, "read": 1.0},
                                                                READ_WHOLE_BODY: True})
                response = await transport.handle_async_request(request)
                assert response.content == b"zipped ok"
        finally:
            await transport.aclose()

    assert asyncio.run(serve(responder, scenario)) == 1


def test_a_non_streamed_call_skips_httpx_objects_and_sends_and_reads_as_httpx_would() -> None:
    """Every non-streamed async model call goes through ``request_whole``, with no httpx request or
    response: the bytes sent are what httpx would send for the same body, gzip and a named charset
    are decoded as httpx decodes them, a 429's Retry-After and rate-limit headers are read, and the
    one connection slot is back before each call returns (a slot kept would time out the next)."""
    import gzip
    import json

    from purpose_agent_http import ProviderSettings

    def reply(content: str) -> bytes:
        return json.dumps({"choices": [{"message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                           "usage": {"prompt_tokens": 1, "completion_tokens": 1}}, ensure_ascii=False).encode("utf-8")

    zipped = gzip.compress(reply("déjà zipped"))
    latin = reply("ça").decode("utf-8").encode("latin-1")
    replies = [
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s"
        % (len(zipped), zipped),
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=ISO-8859-1\r\nContent-Length: %d\r\n\r\n%s"
        % (len(latin), latin),
        b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 0\r\nx-ratelimit-remaining-requests: 0\r\n"
        b"Content-Length: 2\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nx-ratelimit-remaining-requests: 7\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(reply("fine")), reply("fine")),
    ]
    heads: list[bytes] = []
    bodies: list[bytes] = []

    async def responder(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while replies:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))
            heads.append(head.lower())
            bodies.append(await reader.readexactly(length))
            writer.write(replies.pop(0))
            await writer.drain()

    ask = ChatRequest(messages=[Message(role="user", content="naïve \u2603")])

    async def scenario(url: str) -> None:
        settings = ProviderSettings(max_connections=1, pool_timeout=0.2, retry_base_delay=0.0, max_retries=1)
        backend = OpenAICompatibleBackend("m", base_url=url + "/v1", api_key="k", settings=settings)
        try:
            answers = [(await backend.acomplete(ask)).message.content for _ in range(3)]
        finally:
            await backend.aclose()
        assert answers == ["déjà zipped", "ça", "fine"]
        assert backend.rate_limit.requests_remaining == 7
        expected = httpx.Request("POST", url + "/v1/chat/completions", json=backend.build_body(ask, stream=False))
        assert bodies == [expected.content] * 4
        for head in heads:
            assert head.startswith(b"post /v1/chat/completions http/1.1\r\n")
            assert b"content-type: application/json\r\n" in head and b"authorization: bearer k\r\n" in head
            assert b"accept-encoding: gzip" in head  # so a compressed reply must be (and is) decoded

    assert asyncio.run(serve(responder, scenario)) == 1


def test_max_connections_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="max_connections must be at least 1, not 0"):
        PooledAsyncTransport(max_connections=0)


# --------------------------------------------------------------------------- malformed framing

GOOD_REPLY = (b'{"choices": [{"index": 0, "message": {"role": "assistant", "content": "fine"}, '
              b'"finish_reason": "stop"}], "usage": {"prompt_tokens": 1, "completion_tokens": 1}}')

MALFORMED = {
    "bad chunk size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    "non-numeric Content-Length": b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\nhello",
    "conflicting Content-Length": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!",
    "non-numeric status": b"HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\nok",
    "truncated body": b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{\"choices\": ",
    "truncated chunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n100\r\nshort",
    "cut in the headers": b"HTTP/1.1 200 OK\r\nContent-Le",
    "garbage": b"\x00\x01 this is not HTTP at all\r\n\r\n",
}


class RawServer:
    """A threaded loopback server that answers each connection with the next scripted bytes
    (then closes it); after the script, a valid chat-completions reply."""

    def __init__(self, script: list[bytes]) -> None:
        self.script = list(script)
        self.requests = 0
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}/v1"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                while len(body) < length:
                    body += conn.recv(65536)
                self.requests += 1
                reply = self.script.pop(0) if self.script else (
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s"
                    % (len(GOOD_REPLY), GOOD_REPLY))
                conn.sendall(reply)

    def close(self) -> None:
        self._sock.close()


@pytest.fixture
def raw_server(request: pytest.FixtureRequest) -> Iterator[Callable[[list[bytes]], RawServer]]:
    servers: list[RawServer] = []

    def start(script: list[bytes]) -> RawServer:
        servers.append(RawServer(script))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def backend(url: str, retries: int) -> OpenAICompatibleBackend:
    from purpose_agent_http import ProviderSettings

    settings = ProviderSettings(max_retries=retries, retry_base_delay=0.0, timeout=2.0)
    return OpenAICompatibleBackend("m", base_url=url, api_key="k", settings=settings)


ASK = ChatRequest(messages=[Message(role="user", content="hi")])


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_framing_is_retried_then_a_valid_reply_is_used(raw_server: Callable[[list[bytes]], RawServer],
                                                                  case: str, mode: str) -> None:
    server = raw_server([MALFORMED[case]])
    client = backend(server.url, retries=1)
    if mode == "sync":
        reply = client.complete(ASK)
    else:
        async def call() -> object:
            try:
                return await client.acomplete(ASK)
            finally:
                await client.aclose()

        reply = asyncio.run(call())
    assert reply.message.content == "fine"  # type: ignore[attr-defined]
    assert server.requests == 2


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("case", ["bad chunk size", "non-numeric status", "truncated body"])
def test_malformed_framing_that_persists_is_a_provider_error_naming_it(raw_server: Callable[[list[bytes]], RawServer],
                                                                       case: str, mode: str) -> None:
    server = raw_server([MALFORMED[case]] * 3)
    client = backend(server.url, retries=2)
    with pytest.raises(ProviderUnavailableError) as caught:
        if mode == "sync":
            client.complete(ASK)
        else:
            async def call() -> None:
                try:
                    await client.acomplete(ASK)
                finally:
                    await client.aclose()

            asyncio.run(call())
    message = str(caught.value)
    assert "sent a response that is not valid HTTP" in message and "after 3 attempt(s)" in message
    assert "\n" not in message
    assert caught.value.retryable  # a fallback chain moves on to the next backend
    assert server.requests == 3
