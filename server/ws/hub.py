"""Live availability: after each committed change, every watching socket gets the event's state.

The instance that committed a change loads the event's state once (at most once per
``interval`` per event), encodes it once, hands it to its own subscribers and publishes it on
Redis, where every other instance picks it up for theirs. Each instance sends an event's newest
state to its sockets in one pass, at most once per ``interval``: bursts are coalesced once per
event, not once per socket. A socket that lags (its buffer is backed up) is skipped by the pass
and keeps only the newest state for its own writer, so it never delays the others; states older
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
from aiohttp import WSCloseCode, WSMsgType, web
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


def _received_state(channel: object, data: object) -> tuple[int, Frame]:
    """The event id and state frame of a message from another instance; ValueError naming
    what is wrong with a message that is not one."""
    if not isinstance(channel, bytes) or not isinstance(data, bytes):
        raise ValueError("not bytes")
    suffix = channel.removeprefix(CHANNEL_PREFIX.encode())
    if not suffix.isdigit() or len(suffix) > 19:
        raise ValueError(f"channel {channel[:80]!r}")
    try:
        state = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise ValueError(f"not JSON on {channel!r}") from None
    event_id, seq = int(suffix), state.get("seq") if isinstance(state, dict) else None
    if type(seq) is not int or state.get("event_id") != event_id:
        raise ValueError(f"not an availability state on {channel!r}")
    return event_id, (seq, data)


class Subscription:
    """One websocket's subscriptions, what it was last sent per event, and its own writer for
    the times it lags: then it keeps only the newest unsent state per event."""

    def __init__(self, ws: web.WebSocketResponse, transport: asyncio.Transport | None) -> None:
        self.ws = ws
        self.events: set[int] = set()
        self._transport = transport
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

    async def send_now(self, text: str) -> None:
        await asyncio.wait_for(self.ws.send_str(text), SEND_TIMEOUT)

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
        self._next: dict[int, Frame] = {}  # event -> newest state its next pass sends
        self._fan_outs: dict[int, asyncio.Task[None]] = {}
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

    async def _broadcast(self, event_id: int, data: bytes) -> None:
        if self._redis is None:
            return
        try:
            await self._redis.publish(CHANNEL_PREFIX + str(event_id), data)
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
        return row["seq"], orjson.dumps(message)

    # The receiving side

    def deliver(self, event_id: int, frame: Frame) -> None:
        """Hand a state to every local socket watching the event, unless it is not news: at
        once when the event's last pass is ``interval`` old, else as the newest state for its
        next pass."""
        if event_id not in self._watchers or frame[0] <= self._newest.get(event_id, -1):
            return
        self._newest[event_id] = frame[0]
        self._next[event_id] = frame
        if event_id not in self._fan_outs:
            task = asyncio.create_task(self._fan_out(event_id))
            self._fan_outs[event_id] = task
            task.add_done_callback(functools.partial(self._forget_fan_out, event_id))

    def _forget_fan_out(self, event_id: int, task: asyncio.Task[None]) -> None:
        if self._fan_outs.get(event_id) is task:
            del self._fan_outs[event_id]

    async def _fan_out(self, event_id: int) -> None:
        """Send the event's newest state to its sockets, then rest ``interval``; again while
        newer states arrive."""
        while (frame := self._next.pop(event_id, None)) is not None:
            wire = text_frame(frame[1])  # the whole websocket frame, built once for all
            for subscription in list(self._watchers.get(event_id, ())):
                if not subscription.write_now(event_id, frame, wire):
                    subscription.offer(event_id, frame)  # for its own writer, if news
            await asyncio.sleep(self.interval)

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
            try:
                event_id, frame = _received_state(message["channel"], message["data"])
            except ValueError as exc:  # anyone may publish anything: skip it, keep listening
                log.warning("live: skipped a malformed message (%s)", exc)
                continue
            self.deliver(event_id, frame)

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
        tasks = [
            t
            for t in (self._listener, *self._publishers.values(), *self._fan_outs.values())
            if t is not None
        ]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
