"""The websocket frames the hub builds once and writes straight to every socket are byte for
byte what aiohttp's own writer would send."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import WSMsgType
from aiohttp.base_protocol import BaseProtocol
from aiohttp.http_websocket import WebSocketWriter

from server.ws.socket import text_frame


class _Capture(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()

    def write(self, data: Any) -> None:
        self.written += data

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.written += line

    def is_closing(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return 0


@pytest.mark.parametrize("size", [0, 1, 125, 126, 1000, 65535, 65536, 200_000])
async def test_a_prebuilt_frame_is_what_aiohttp_sends(size: int) -> None:
    payload = ("é" * (size // 2) + "x" * (size % 2)).encode()
    transport = _Capture()
    writer = WebSocketWriter(BaseProtocol(asyncio.get_running_loop()), transport, limit=2**30)
    await writer.send_frame(payload, WSMsgType.TEXT)
    assert text_frame(payload) == bytes(transport.written)
