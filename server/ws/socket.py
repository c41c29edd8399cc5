"""One live websocket: its subscriptions, what it was last sent per event, and its own writer
for the times it lags (then it keeps only the newest unsent state per event); and, once it has
said who it is, its user's own messages, in order."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque

from aiohttp import WSCloseCode, WSMsgType, web

__all__ = ["BACKLOG", "SEND_TIMEOUT", "Frame", "Subscription", "text_frame"]

log = logging.getLogger("stampede.live")

SEND_TIMEOUT = 10.0  # a socket that cannot take one message in this long is closed
BACKLOG = 16 * 1024  # bytes waiting in a socket's buffer: past this it gets its own writer
# (far below the transport's 64 KiB high-water mark, so a direct write never waits to drain)
PERSONAL_BACKLOG = 100  # a user's own messages waiting for a socket that lags: the oldest go

Frame = tuple[int, bytes]  # (seq, the message as UTF-8 JSON, encoded once for every socket)


def text_frame(payload: bytes) -> bytes:
    """An unmasked, final websocket text frame (RFC 6455 section 5.2), as a server sends it."""
    size = len(payload)
    if size < 126:
        header = bytes((0x81, size))
    elif size < 1 << 16:
        header = bytes((0x81, 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((0x81, 127)) + size.to_bytes(8, "big")
    return header + payload


class Subscription:
    def __init__(self, ws: web.WebSocketResponse, transport: asyncio.Transport | None) -> None:
        self.ws = ws
        self.events: set[int] = set()
        self.user_id: int | None = None  # whose own messages it gets (once authenticated)
        self._transport = transport
        self._personal: deque[bytes] = deque(maxlen=PERSONAL_BACKLOG)
        self._pending: dict[int, Frame] = {}
        self._sent: dict[int, int] = {}
        self._wake = asyncio.Event()
        self._writer = asyncio.create_task(self._write())

    def _news(self, event_id: int, frame: Frame) -> bool:
        newest = max(self._sent.get(event_id, -1), self._pending.get(event_id, (-1, b""))[0])
        return frame[0] > newest

    def offer(self, event_id: int, frame: Frame) -> None:
        """Keep ``frame`` for the writer if it is the newest this socket has seen."""
        if self._news(event_id, frame):
            self._pending[event_id] = frame
            self._wake.set()

    def tell(self, message: bytes) -> None:
        """Queue one of its user's own messages (JSON) for the writer."""
        self._personal.append(message)
        self._wake.set()

    def write_now(self, event_id: int, frame: Frame, wire: bytes) -> bool:
        """Write ``wire`` (the frame, prebuilt) straight to the transport if the socket keeps
        up and has nothing queued, so the write never waits; else False."""
        if self._pending or not self._news(event_id, frame):
            return False
        transport = self._transport
        if (
            transport is None
            or transport.is_closing()
            or self.ws.closed
            or transport.get_write_buffer_size() >= BACKLOG
        ):
            return False
        transport.write(wire)
        self._sent[event_id] = frame[0]
        return True

    async def send_now(self, message: bytes) -> None:
        """Send one JSON message (UTF-8) as a text frame: a browser gets binary frames as
        Blobs, so not ``send_json_bytes``, which sends binary."""
        await asyncio.wait_for(self.ws.send_frame(message, WSMsgType.TEXT), SEND_TIMEOUT)

    async def _write(self) -> None:
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                pending, self._pending = self._pending, {}
                for event_id, (seq, data) in pending.items():
                    if event_id in self.events and seq > self._sent.get(event_id, -1):
                        self._sent[event_id] = seq
                        await asyncio.wait_for(
                            self.ws.send_frame(data, WSMsgType.TEXT), SEND_TIMEOUT
                        )
                while self._personal:
                    message = self._personal.popleft()
                    await asyncio.wait_for(
                        self.ws.send_frame(message, WSMsgType.TEXT), SEND_TIMEOUT
                    )
        except (TimeoutError, ConnectionError, RuntimeError):
            log.info("closing a websocket that stopped reading")
            await self.ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"too slow")

    async def close(self) -> None:
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer
