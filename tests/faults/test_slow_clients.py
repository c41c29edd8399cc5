"""Clients that hold connections open without finishing a request: a slowloris trickling
headers, a body that never arrives, a connection that says nothing. Each is cut off after
IDLE_TIMEOUT while everyone else is served; a quiet websocket is not (heartbeats keep it)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator

import aiohttp
import pytest

from tests.support.process import ServerProcess

IDLE_TIMEOUT = 1


@pytest.fixture
def server(database_url: str) -> Iterator[ServerProcess]:
    process = ServerProcess({"DATABASE_URL": database_url, "IDLE_TIMEOUT": str(IDLE_TIMEOUT)})
    process.start()
    try:
        process.wait_healthy()
        yield process
    finally:
        process.close()


async def _connect(server: ServerProcess) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", server.port)


async def _closed_after(reader: asyncio.StreamReader) -> tuple[float, bytes]:
    """Seconds until the server closed the connection, and what it sent before."""
    started = time.monotonic()
    received = await asyncio.wait_for(reader.read(), timeout=10)
    return time.monotonic() - started, received


async def _healthy(server: ServerProcess) -> int:
    async with aiohttp.ClientSession() as session, session.get(server.url + "/api/health") as r:
        return r.status


async def test_a_slowloris_is_cut_off_while_others_are_served(server: ServerProcess) -> None:
    reader, writer = await _connect(server)
    writer.write(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")

    async def trickle() -> None:
        with contextlib.suppress(OSError):  # the server ends the connection under us
            for _ in range(200):
                writer.write(b"X")  # one byte of an endless header, four times a second
                await writer.drain()
                await asyncio.sleep(0.25)
                assert await _healthy(server) == 200

    trickling = asyncio.create_task(trickle())
    seconds, received = await _closed_after(reader)
    trickling.cancel()
    assert received == b""  # no response: the request never completed
    assert seconds < IDLE_TIMEOUT + 2
    assert await _healthy(server) == 200
    writer.close()


async def test_a_silent_connection_is_closed(server: ServerProcess) -> None:
    reader, writer = await _connect(server)
    seconds, received = await _closed_after(reader)
    assert received == b""
    assert seconds < IDLE_TIMEOUT + 2
    writer.close()


async def test_a_body_that_never_arrives_is_408(server: ServerProcess) -> None:
    reader, writer = await _connect(server)
    writer.write(
        b"POST /api/auth/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
        b'{"username"'
    )
    await writer.drain()
    started = time.monotonic()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
    assert time.monotonic() - started < IDLE_TIMEOUT + 2
    assert head.startswith(b"HTTP/1.1 408 "), head
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    body = await reader.readexactly(length)
    assert b'"code":"request_timeout"' in body
    writer.close()


async def test_a_quiet_websocket_outlives_the_idle_timeout(server: ServerProcess) -> None:
    async with aiohttp.ClientSession() as session, session.ws_connect(server.url + "/ws") as ws:
        await asyncio.sleep(IDLE_TIMEOUT * 2.5)
        await ws.send_str("not json")
        message = await ws.receive(timeout=2)
        assert message.type == aiohttp.WSMsgType.TEXT
        assert message.json()["code"] == "bad_request"
