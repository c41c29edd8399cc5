"""A real SMTP server (aiosmtpd) that keeps every mail it accepts, for tests to read."""

from __future__ import annotations

import asyncio
import time
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller

from server.embedded.ports import free_port


class _Collector:
    def __init__(self, delay: float) -> None:
        self.messages: list[Message] = []
        self.receiving = 0  # mails whose data arrived and are not yet accepted
        self._delay = delay

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.receiving += 1
        try:
            await asyncio.sleep(self._delay)  # a slow (or, with a long delay, hung) server
        finally:
            self.receiving -= 1
        self.messages.append(message_from_bytes(envelope.original_content))
        return "250 Message accepted for delivery"


class SmtpSink:
    """``start()`` it, point SMTP_URL at ``url``, read ``messages``; ``stop()`` to make it vanish."""

    def __init__(self, delay: float = 0.0) -> None:
        """``delay``: seconds the server takes to accept each mail."""
        self.port = free_port()
        self._collector = _Collector(delay)
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[Message]:
        return self._collector.messages

    @property
    def receiving(self) -> int:
        return self._collector.receiving

    def start(self) -> None:
        self._controller = Controller(self._collector, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    async def wait_for(self, count: int, seconds: float = 10.0) -> list[Message]:
        deadline = time.monotonic() + seconds
        while len(self.messages) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} mail(s), got {len(self.messages)}")
            await asyncio.sleep(0.05)
        return self.messages
