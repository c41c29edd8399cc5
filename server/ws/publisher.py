"""The committing side: after a change to an event is committed, its new state is loaded once
(at most once per ``interval`` per event), handed to this instance's sockets and published on
Redis for the others."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

from server.db import DATABASE_ERRORS
from server.ws.fanout import FanOut
from server.ws.socket import Frame

__all__ = ["CHANNEL_PREFIX", "Publisher"]

log = logging.getLogger("stampede.live")

CHANNEL_PREFIX = "stampede:availability:"

Loader = Callable[[int], Awaitable[Frame | None]]


class Publisher:
    def __init__(self, load: Loader, fanout: FanOut, redis: Redis | None) -> None:
        self._load = load
        self._fanout = fanout
        self._redis = redis
        self._dirty: set[int] = set()
        self._running: dict[int, asyncio.Task[None]] = {}

    def changed(self, event_id: int) -> None:
        """A change to the event was committed: publish its new state (coalesced)."""
        if self._redis is None and not self._fanout.is_watched(event_id):
            return  # nobody anywhere to tell: keep the booking path free of the extra query
        self._dirty.add(event_id)
        running = self._running.get(event_id)
        # A publisher that has returned but whose done-callback has not run yet must not
        # count: it will not see this change.
        if running is None or running.done():
            task = asyncio.create_task(self._publish(event_id))
            self._running[event_id] = task
            task.add_done_callback(functools.partial(self._forget, event_id))

    def _forget(self, event_id: int, task: asyncio.Task[None]) -> None:
        if self._running.get(event_id) is task:
            del self._running[event_id]

    async def _publish(self, event_id: int) -> None:
        while event_id in self._dirty:
            self._dirty.discard(event_id)
            try:
                frame = await self._load(event_id)
            except DATABASE_ERRORS as exc:
                log.warning("live: cannot load event %s (%r)", event_id, exc)
                frame = None
            if frame is not None:
                self._fanout.deliver(event_id, frame)
                await self._broadcast(event_id, frame[1])
            await asyncio.sleep(self._fanout.interval)

    async def _broadcast(self, event_id: int, data: bytes) -> None:
        if self._redis is None:
            return
        try:
            await self._redis.publish(CHANNEL_PREFIX + str(event_id), data)
        except (RedisError, OSError) as exc:  # local subscribers already have it
            log.warning("live: cannot publish to Redis (%r)", exc)

    async def stop(self) -> None:
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
