"""A user's own live messages (a waiting-list offer, later a hold about to run out, a place in
a queue), for the sockets that said who they are: told here, to this instance's sockets at
once, and through Redis (``USER_CHANNEL``) to the other instances' sockets of that user."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from server.actors.transaction import BatchResult
from server.booking.outcomes import Closed, Confirmed, Offered
from server.render import iso
from server.ws.fanout import FanOut

__all__ = [
    "USER_CHANNEL",
    "Messenger",
    "batch_messages",
    "hold_message",
    "queue_message",
    "received_message",
    "waitlist_message",
]

log = logging.getLogger("stampede.live")

USER_CHANNEL = "stampede:user"


def waitlist_message(event_id: int, done: Offered | Closed) -> tuple[int, bytes]:
    """The user and the message telling them what became of their waiting-list entry."""
    entry = done.entry
    message = {
        "type": "waitlist",
        "id": entry.id,
        "event_id": event_id,
        "status": entry.status,
        "booking_reference": str(entry.reference) if entry.reference else None,
        "expires_at": iso(entry.expires_at),
    }
    return entry.user_id, orjson.dumps(message)


def hold_message(
    user_id: int, reference: uuid.UUID, status: str, expires_at: datetime | None
) -> tuple[int, bytes]:
    """A hold about to run out (``pending``, 60 s before), run out, or confirmed."""
    message = {
        "type": "hold",
        "reference": str(reference),
        "status": status,
        "expires_at": iso(expires_at),
    }
    return user_id, orjson.dumps(message)


def queue_message(event_id: int, place: dict[str, Any]) -> bytes:
    """One's place in an event's waiting room (``place`` as ``queue_view`` shows it)."""
    keys = ("state", "position", "ahead", "eta_seconds")
    return orjson.dumps({"type": "queue", "event_id": event_id, **{k: place[k] for k in keys}})


def batch_messages(event_id: int, result: BatchResult) -> Iterator[tuple[int, bytes]]:
    """What a committed batch tells the users it concerns: their waiting-list entries offered
    seats or closed, their holds run out or confirmed."""
    for done in result.settled:
        yield waitlist_message(event_id, done)
    for gone in result.expired:
        yield hold_message(gone.user_id, gone.reference, "expired", gone.expires_at)
    for outcome in result.outcomes:
        if isinstance(outcome, Confirmed) and not outcome.already:
            yield hold_message(outcome.user_id, outcome.reference, "confirmed", None)


class Messenger:
    def __init__(self, fanout: FanOut, redis: Redis | None) -> None:
        self._fanout = fanout
        self._redis = redis
        self.origin = uuid.uuid4().hex  # this instance: its own messages come back from Redis
        self._sending: set[asyncio.Task[None]] = set()

    def tell(self, user_id: int, message: bytes) -> None:
        """Send a user one of their own messages, wherever their sockets are."""
        self._fanout.tell(user_id, message)
        if self._redis is not None:
            task = asyncio.create_task(self._publish(user_id, message))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def _publish(self, user_id: int, message: bytes) -> None:
        assert self._redis is not None
        envelope = {"origin": self.origin, "user_id": user_id, "message": orjson.Fragment(message)}
        try:
            await self._redis.publish(USER_CHANNEL, orjson.dumps(envelope))
        except (RedisError, OSError) as exc:  # this instance's sockets already have it
            log.warning("live: cannot publish a personal message to Redis (%r)", exc)

    def received(self, data: bytes) -> None:
        """Another instance's message for one of its users: to their sockets here."""
        origin, user_id, message = received_message(data)
        if origin != self.origin:
            self._fanout.tell(user_id, message)

    async def stop(self) -> None:
        tasks = list(self._sending)
        await asyncio.gather(*tasks, return_exceptions=True)


def received_message(data: bytes) -> tuple[str, int, bytes]:
    """(origin, user id, message) of a message on USER_CHANNEL; ValueError naming what is wrong
    with one that is not."""
    try:
        envelope = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise ValueError("not JSON") from None
    if not isinstance(envelope, dict):
        raise ValueError("not an envelope")
    origin, user_id, message = (envelope.get(k) for k in ("origin", "user_id", "message"))
    if not isinstance(origin, str) or type(user_id) is not int or not isinstance(message, dict):
        raise ValueError("not a personal message")
    return origin, user_id, orjson.dumps(message)
