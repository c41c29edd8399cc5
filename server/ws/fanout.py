"""This instance's sockets, the fan-out of each event's states to those watching it, and each
user's own messages to that user's sockets.

Each event's newest state goes to its sockets in one pass, at most once per ``interval``:
bursts are coalesced once per event, not once per socket. A socket that lags (its buffer is
backed up) is skipped by the pass and keeps only the newest state for its own writer, so it
never delays the others; states older than what a socket already has (by ``seq``) are dropped.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable

from aiohttp import WSCloseCode, web

from server.ws.socket import Frame, Subscription, text_frame

__all__ = ["FanOut"]


class FanOut:
    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._sockets: set[web.WebSocketResponse] = set()
        self._watchers: dict[int, set[Subscription]] = {}
        self._people: dict[int, set[Subscription]] = {}  # user -> its authenticated sockets
        self._newest: dict[int, int] = {}  # event -> highest seq handed to local subscribers
        self._next: dict[int, Frame] = {}  # event -> newest state its next pass sends
        self._passes: dict[int, asyncio.Task[None]] = {}
        self.on_pass: Callable[[float], None] | None = None  # each pass's seconds (metrics)

    def connections(self) -> int:
        return len(self._sockets)

    def watched(self) -> list[int]:
        return list(self._watchers)

    def is_watched(self, event_id: int) -> bool:
        return event_id in self._watchers

    def connect(self, ws: web.WebSocketResponse) -> None:
        self._sockets.add(ws)

    def disconnect(self, ws: web.WebSocketResponse) -> None:
        self._sockets.discard(ws)

    def identify(self, subscription: Subscription, user_id: int) -> None:
        """The socket speaks for this user from now on (and no longer for another)."""
        self.forget_user(subscription)
        subscription.user_id = user_id
        self._people.setdefault(user_id, set()).add(subscription)

    def forget_user(self, subscription: Subscription) -> None:
        if subscription.user_id is None:
            return
        sockets = self._people.get(subscription.user_id)
        if sockets is not None:
            sockets.discard(subscription)
            if not sockets:
                del self._people[subscription.user_id]
        subscription.user_id = None

    def people(self) -> list[int]:
        return list(self._people)

    def tell(self, user_id: int, message: bytes) -> None:
        """Hand one of a user's own messages to that user's sockets here."""
        for subscription in self._people.get(user_id, ()):
            subscription.tell(message)

    def watch(self, event_id: int, subscription: Subscription, snapshot: Frame) -> None:
        """Subscribe, with the event's current state as the socket's first message."""
        subscription.events.add(event_id)
        self._watchers.setdefault(event_id, set()).add(subscription)
        subscription.offer(event_id, snapshot)

    def unwatch(self, event_id: int, subscription: Subscription) -> None:
        subscription.events.discard(event_id)
        watchers = self._watchers.get(event_id)
        if watchers is not None:
            watchers.discard(subscription)
            if not watchers:
                del self._watchers[event_id]
                self._newest.pop(event_id, None)

    def deliver(self, event_id: int, frame: Frame) -> None:
        """Hand a state to every local socket watching the event, unless it is not news: at
        once when the event's last pass is ``interval`` old, else as the newest state for its
        next pass."""
        if event_id not in self._watchers or frame[0] <= self._newest.get(event_id, -1):
            return
        self._newest[event_id] = frame[0]
        self._next[event_id] = frame
        if event_id not in self._passes:
            task = asyncio.create_task(self._fan_out(event_id))
            self._passes[event_id] = task
            task.add_done_callback(functools.partial(self._forget_pass, event_id))

    def _forget_pass(self, event_id: int, task: asyncio.Task[None]) -> None:
        if self._passes.get(event_id) is task:
            del self._passes[event_id]

    async def _fan_out(self, event_id: int) -> None:
        """Send the event's newest state to its sockets, then rest ``interval``; again while
        newer states arrive."""
        while (frame := self._next.pop(event_id, None)) is not None:
            started = time.perf_counter()
            wire = text_frame(frame[1])  # the whole websocket frame, built once for all
            for subscription in list(self._watchers.get(event_id, ())):
                if not subscription.write_now(event_id, frame, wire):
                    subscription.offer(event_id, frame)  # for its own writer, if news
            if self.on_pass is not None:
                self.on_pass(time.perf_counter() - started)
            await asyncio.sleep(self.interval)

    async def close_sockets(self) -> None:
        """Close every socket with 1001 (going away): the first phase of shutdown."""
        await asyncio.gather(
            *(
                ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
                for ws in list(self._sockets)
            ),
            return_exceptions=True,
        )

    async def stop(self) -> None:
        passes = list(self._passes.values())
        for task in passes:
            task.cancel()
        await asyncio.gather(*passes, return_exceptions=True)
