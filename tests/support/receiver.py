"""A real HTTP server in the test process that receives webhooks: it records every post and
answers what the test tells it to (say, 500 twice for each delivery, then 200)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

__all__ = ["Post", "Receiver", "verify"]


def verify(secret: str, header: str, body: bytes) -> bool:
    """Check a ``Stampede-Signature`` header as a receiver would."""
    parts = dict(part.split("=", 1) for part in header.split(","))
    signed = parts["t"].encode() + b"." + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


@dataclass
class Post:
    path: str
    body: bytes
    headers: dict[str, str]
    answered: int

    @property
    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass
class Receiver:
    """``answer(post_number_for_this_delivery_id) -> status``; by default 200."""

    answer: Callable[[int], int] = lambda _n: 200
    delay: float = 0.0  # seconds before each answer (a slow endpoint)
    posts: list[Post] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    url: str = ""
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self, port: int = 0) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        bound = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{bound}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        delivery = request.headers.get("Stampede-Delivery", "")
        seen = sum(1 for p in self.posts if p.headers.get("Stampede-Delivery") == delivery)
        status = self.answer(seen + 1)
        self.posts.append(Post(request.path, body, dict(request.headers), status))
        self.arrived.set()
        await asyncio.sleep(self.delay)
        if 300 <= status < 400:
            return web.Response(status=status, headers={"Location": self.url + "/elsewhere"})
        return web.Response(status=status, text="ok" if status < 300 else "no")

    def delivered(self) -> list[Post]:
        """The posts answered 2xx."""
        return [p for p in self.posts if 200 <= p.answered < 300]

    async def wait_for(
        self, count: int, seconds: float = 15.0, answered: bool = True
    ) -> list[Post]:
        """Wait until ``count`` posts were answered 2xx (or, not ``answered``, were received
        at all); the posts answered 2xx."""
        async with asyncio.timeout(seconds):
            while len(self.delivered() if answered else self.posts) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.delivered()
