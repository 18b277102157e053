"""The lean async HTTP/1.1 transport against a raw loopback server that frames bodies every
way HTTP/1.1 allows, closes connections, and stalls."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
import pytest

from purpose_agent.llm.transport import LeanAsyncTransport

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


def client() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=LeanAsyncTransport(), timeout=httpx.Timeout(2.0, read=0.5))


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
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6; ext=1\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n")
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


def test_a_stale_kept_alive_connection_is_replaced_once() -> None:
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


def test_a_stalled_server_is_a_read_timeout_and_a_cut_body_a_protocol_error() -> None:
    async def responder(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        path = (await reader.readline()).split()[1]
        while await reader.readline() not in (b"\r\n", b""):
            pass
        if path == b"/stall":
            await asyncio.sleep(5)
        else:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this")
            await writer.drain()

    async def scenario(url: str) -> None:
        async with client() as http:
            with pytest.raises(httpx.ReadTimeout):
                await http.get(url + "/stall")
            with pytest.raises(httpx.RemoteProtocolError, match="mid-body"):
                await http.get(url + "/cut")

    asyncio.run(serve(responder, scenario))


def test_nobody_listening_is_a_connect_error() -> None:
    async def scenario() -> None:
        async with client() as http:
            with pytest.raises(httpx.ConnectError):
                await http.get("http://127.0.0.1:1/")

    asyncio.run(scenario())
