"""Live availability: after each committed change, every watching socket gets the event's state.

The instance that committed a change loads the event's state once (at most once per
``interval`` per event), encodes it once, hands it to its own subscribers and publishes it on
Redis, where every other instance picks it up for theirs. Each socket has its own writer and
keeps only the newest state per event, so a slow reader never delays the others; states older
than what a socket already has (by ``seq``) are dropped. Without Redis the fan-out is local.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable

import asyncpg
import orjson
from aiohttp import WSCloseCode, web
from redis.asyncio import Redis
from redis.exceptions import RedisError

from server.db import DATABASE_ERRORS, Queries

__all__ = ["CHANNEL_PREFIX", "QUERIES", "Hub", "Subscription"]

log = logging.getLogger("stampede.live")

QUERIES = ("event_availability",)
CHANNEL_PREFIX = "stampede:availability:"
SEND_TIMEOUT = 10.0  # a socket that cannot take one message in this long is closed
BACKLOG = 16 * 1024  # bytes waiting in a socket's buffer: past this it gets its own writer
# (far below the transport's 64 KiB high-water mark, so a direct write never waits to drain)
RECONNECT_DELAYS = (0.1, 0.25, 0.5, 1.0, 2.0)

Frame = tuple[int, str]  # (seq, JSON text)


class Subscription:
    """One websocket's subscriptions: the newest unsent state per event, and its own writer.

    A state is written at once, by the hub's fan-out pass, when the socket is keeping up (its
    transport's buffer is small) and its last message is at least ``interval`` old; otherwise
    it waits here as the newest pending state for the event, for this socket's own writer.
    """

    def __init__(
        self, ws: web.WebSocketResponse, transport: asyncio.Transport | None, interval: float
    ) -> None:
        self.ws = ws
        self.events: set[int] = set()
        self._transport = transport
        self._interval = interval
        self._pending: dict[int, Frame] = {}
        self._sent: dict[int, int] = {}
        self._quiet_until = 0.0  # loop time before which this socket gets nothing new
        self._wake = asyncio.Event()
        self._writer = asyncio.create_task(self._write())

    def _news(self, event_id: int, frame: Frame) -> bool:
        newest = max(self._sent.get(event_id, -1), self._pending.get(event_id, (-1, ""))[0])
        return frame[0] > newest

    def offer(self, event_id: int, frame: Frame) -> None:
        """Keep ``frame`` for the writer if it is the newest this socket has seen."""
        if self._news(event_id, frame):
            self._pending[event_id] = frame
            self._wake.set()

    def take_now(self, event_id: int, frame: Frame, now: float) -> bool:
        """Claim ``frame`` for an immediate write if the socket is idle and keeping up."""
        keeping_up = self._transport is None or self._transport.get_write_buffer_size() < BACKLOG
        if self._pending or now < self._quiet_until or not keeping_up:
            return False
        if not self._news(event_id, frame):
            return False  # offer() drops it too
        self._sent[event_id] = frame[0]
        self._quiet_until = now + self._interval
        return True

    async def send_now(self, text: str) -> None:
        await asyncio.wait_for(self.ws.send_str(text), SEND_TIMEOUT)

    async def _write(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                delay = self._quiet_until - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)  # coalesce: the newest state waits its turn
                pending, self._pending = self._pending, {}
                self._quiet_until = loop.time() + self._interval
                for event_id, (seq, text) in pending.items():
                    if event_id in self.events and seq > self._sent.get(event_id, -1):
                        self._sent[event_id] = seq
                        await self.send_now(text)
        except (TimeoutError, ConnectionError, RuntimeError):
            log.info("closing a websocket that stopped reading")
            await self.ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"too slow")

    async def close(self) -> None:
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer


class Hub:
    def __init__(
        self, pool: asyncpg.Pool, queries: Queries, redis: Redis | None, interval: float
    ) -> None:
        self._pool = pool
        self._q = queries
        self._redis = redis
        self.interval = interval
        self._watchers: dict[int, set[Subscription]] = {}
        self._newest: dict[int, int] = {}  # event -> highest seq handed to local subscribers
        self._dirty: set[int] = set()
        self._publishers: dict[int, asyncio.Task[None]] = {}
        self._listener: asyncio.Task[None] | None = None
        self._fan_outs: set[asyncio.Task[None]] = set()
        self.sockets: set[web.WebSocketResponse] = set()

    # The committing side

    def changed(self, event_id: int, seq: int | None = None) -> None:
        """A change to the event was committed: publish its new state (coalesced)."""
        if self._redis is None and event_id not in self._watchers:
            return  # nobody anywhere to tell: keep the booking path free of the extra query
        self._dirty.add(event_id)
        running = self._publishers.get(event_id)
        # A publisher that has returned but whose done-callback has not run yet must not
        # count: it will not see this change.
        if running is None or running.done():
            task = asyncio.create_task(self._publish(event_id))
            self._publishers[event_id] = task
            task.add_done_callback(functools.partial(self._forget_publisher, event_id))

    def _forget_publisher(self, event_id: int, task: asyncio.Task[None]) -> None:
        if self._publishers.get(event_id) is task:
            del self._publishers[event_id]

    async def _publish(self, event_id: int) -> None:
        while event_id in self._dirty:
            self._dirty.discard(event_id)
            try:
                frame = await self.load(event_id)
            except DATABASE_ERRORS as exc:
                log.warning("live: cannot load event %s (%r)", event_id, exc)
                frame = None
            if frame is not None:
                self.deliver(event_id, frame)
                await self._broadcast(event_id, frame[1])
            await asyncio.sleep(self.interval)

    async def _broadcast(self, event_id: int, text: str) -> None:
        if self._redis is None:
            return
        try:
            await self._redis.publish(CHANNEL_PREFIX + str(event_id), text)
        except (RedisError, OSError) as exc:  # local subscribers already have it
            log.warning("live: cannot publish to Redis (%r)", exc)

    async def load(self, event_id: int) -> Frame | None:
        """The event's availability message, or None when there is no such event."""
        row = await self._pool.fetchrow(self._q["event_availability"], event_id)
        if row is None:
            return None
        message = {
            "type": "availability",
            "event_id": row["id"],
            "seq": row["seq"],
            "status": row["status"],
            "total_capacity": row["total_capacity"],
            "tickets_sold": row["tickets_sold"],
            "tickets_available": row["tickets_available"],
            "ticket_types": orjson.Fragment(row["ticket_types"]),
        }
        return row["seq"], orjson.dumps(message).decode()

    # The receiving side

    def deliver(self, event_id: int, frame: Frame) -> None:
        """Hand a state to every local socket watching the event, unless it is not news."""
        watchers = self._watchers.get(event_id)
        if not watchers or frame[0] < self._newest.get(event_id, -1):
            return
        self._newest[event_id] = frame[0]
        now = asyncio.get_running_loop().time()
        direct = []
        for subscription in watchers:
            if subscription.take_now(event_id, frame, now):
                direct.append(subscription)
            else:
                subscription.offer(event_id, frame)
        if direct:  # one pass writes the encoded frame to every socket that keeps up
            task = asyncio.create_task(self._fan_out(frame[1], direct))
            self._fan_outs.add(task)
            task.add_done_callback(self._fan_outs.discard)

    @staticmethod
    async def _fan_out(text: str, subscriptions: list[Subscription]) -> None:
        for subscription in subscriptions:
            if subscription.ws.closed:
                continue
            try:
                await subscription.ws.send_str(text)  # a small buffer: no wait for drain
            except (ConnectionError, RuntimeError):
                continue  # its handler notices the closed socket and cleans up

    async def watch(self, event_id: int, subscription: Subscription) -> bool:
        """Subscribe and queue the current state first; False when the event does not exist."""
        frame = await self.load(event_id)
        if frame is None:
            return False
        subscription.events.add(event_id)
        self._watchers.setdefault(event_id, set()).add(subscription)
        subscription.offer(event_id, frame)
        return True

    def unwatch(self, event_id: int, subscription: Subscription) -> None:
        subscription.events.discard(event_id)
        watchers = self._watchers.get(event_id)
        if watchers is not None:
            watchers.discard(subscription)
            if not watchers:
                del self._watchers[event_id]
                self._newest.pop(event_id, None)

    # Redis

    def start(self) -> None:
        if self._redis is not None:
            self._listener = asyncio.create_task(self._listen(self._redis), name="live-listener")

    async def _listen(self, redis: Redis) -> None:
        """Receive other instances' states; after any outage, resynchronise from the database."""
        failures = 0
        while True:
            try:
                async with redis.pubsub() as pubsub:
                    await pubsub.psubscribe(CHANNEL_PREFIX + "*")
                    if failures:
                        log.info(
                            "live: Redis is back; resynchronising %d events", len(self._watchers)
                        )
                        await self._resync()
                    failures = 0
                    await self._pump(pubsub.listen)
            except (RedisError, OSError) as exc:
                delay = RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS) - 1)]
                failures += 1
                log.warning("live: Redis listener lost (%r); retrying in %s s", exc, delay)
                await asyncio.sleep(delay)

    async def _pump(self, listen: Callable[[], object]) -> None:
        async for message in listen():  # type: ignore[attr-defined]
            if message.get("type") != "pmessage":
                continue
            channel = message["channel"]
            channel = channel.decode() if isinstance(channel, bytes) else channel
            event_id = int(channel.removeprefix(CHANNEL_PREFIX))
            if event_id not in self._watchers:
                continue
            data = message["data"]
            text = data.decode() if isinstance(data, bytes) else data
            self.deliver(event_id, (int(orjson.loads(text)["seq"]), text))

    async def _resync(self) -> None:
        for event_id in list(self._watchers):
            self.changed(event_id)  # loaded by its publisher, which outlives database errors

    async def close_sockets(self) -> None:
        """Close every socket with 1001 (going away): the first phase of shutdown."""
        await asyncio.gather(
            *(
                ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
                for ws in list(self.sockets)
            ),
            return_exceptions=True,
        )

    async def stop(self) -> None:
        """Stop listening and publishing."""
        tasks = [t for t in (self._listener, *self._publishers.values()) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
