"""Live availability: this instance's sockets and the events they watch, fed by this
instance's commits (``Publisher``) and, through Redis, by the other instances' (``relay``);
and each user's own messages, to the sockets that said who they are (``Messenger``).

The parts: ``socket.Subscription`` (one socket's writer), ``fanout.FanOut`` (the local
fan-out), ``publisher.Publisher`` (load once per commit, deliver, publish),
``personal.Messenger`` (a user's messages, here and through Redis) and ``relay.relay`` (the
Redis listener, with resync after an outage). Without Redis the fan-out is local.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import asyncpg
from aiohttp import web
from redis.asyncio import Redis

from server.actors.transaction import BatchResult
from server.db import Queries
from server.ws import availability
from server.ws.availability import load_availability
from server.ws.fanout import FanOut
from server.ws.personal import Messenger, batch_messages
from server.ws.publisher import Publisher
from server.ws.relay import relay
from server.ws.socket import Frame, Subscription

__all__ = ["QUERIES", "Hub"]

QUERIES = availability.QUERIES


class Hub:
    def __init__(
        self, pool: asyncpg.Pool, queries: Queries, redis: Redis | None, interval: float
    ) -> None:
        self._pool = pool
        self._q = queries
        self._redis = redis
        self._fanout = FanOut(interval)
        self._publisher = Publisher(self.load, self._fanout, redis)
        self._messenger = Messenger(self._fanout, redis)
        self._relay: asyncio.Task[None] | None = None

    async def load(self, event_id: int) -> Frame | None:
        return await load_availability(self._pool, self._q, event_id)

    def changed(self, event_id: int, seq: int | None = None) -> None:
        """A change to the event was committed: its new state goes to every watcher."""
        self._publisher.changed(event_id)

    def tell(self, user_id: int, message: bytes) -> None:
        """One of a user's own messages (JSON), to their sockets on every instance."""
        self._messenger.tell(user_id, message)

    def tell_batch(self, event_id: int, result: BatchResult) -> None:
        """What a committed batch did, on the sockets of the users it concerns."""
        for user_id, message in batch_messages(event_id, result):
            self.tell(user_id, message)

    def tell_here(self, user_id: int, message: bytes) -> None:
        """One of a user's own messages, to their sockets on this instance only (each
        instance sends its reminders to its own sockets)."""
        self._fanout.tell(user_id, message)

    def connections(self) -> int:
        """Open sockets on this instance."""
        return self._fanout.connections()

    def time_passes(self, observe: Callable[[float], None]) -> None:
        """Each fan-out pass's duration, to ``observe`` (the metrics)."""
        self._fanout.on_pass = observe

    def users_here(self) -> list[int]:
        """The users with an authenticated socket on this instance."""
        return self._fanout.people()

    def identify(self, subscription: Subscription, user_id: int) -> None:
        """The socket gets this user's own messages from now on."""
        self._fanout.identify(subscription, user_id)

    @contextlib.asynccontextmanager
    async def connected(
        self, ws: web.WebSocketResponse, transport: asyncio.Transport | None
    ) -> AsyncIterator[Subscription]:
        """A prepared socket's subscriptions, for as long as it is open."""
        subscription = Subscription(ws, transport)
        self._fanout.connect(ws)
        try:
            yield subscription
        finally:
            for event_id in list(subscription.events):
                self._fanout.unwatch(event_id, subscription)
            self._fanout.forget_user(subscription)
            await subscription.close()
            self._fanout.disconnect(ws)

    async def watch(self, event_id: int, subscription: Subscription) -> bool:
        """Subscribe and queue the current state first; False when the event does not exist."""
        frame = await self.load(event_id)
        if frame is None:
            return False
        self._fanout.watch(event_id, subscription, frame)
        return True

    def unwatch(self, event_id: int, subscription: Subscription) -> None:
        self._fanout.unwatch(event_id, subscription)

    def start(self) -> None:
        if self._redis is not None:
            self._relay = asyncio.create_task(
                relay(self._redis, self._fanout, self._publisher, self._messenger),
                name="live-relay",
            )

    async def close_sockets(self) -> None:
        """Close every socket with 1001 (going away): the first phase of shutdown."""
        await self._fanout.close_sockets()

    async def stop(self) -> None:
        """Stop listening and publishing."""
        if self._relay is not None:
            self._relay.cancel()
            await asyncio.gather(self._relay, return_exceptions=True)
        await self._publisher.stop()
        await self._messenger.stop()
        await self._fanout.stop()
