"""The receiving side: other instances' states, and their users' own messages, from Redis, to
this instance's sockets; after a Redis outage, every watched event's state again from the
database."""

from __future__ import annotations

import orjson
from redis.asyncio import Redis

from server.pubsub import listen
from server.ws.fanout import FanOut
from server.ws.personal import USER_CHANNEL, Messenger
from server.ws.publisher import CHANNEL_PREFIX, Publisher
from server.ws.socket import Frame

__all__ = ["received_state", "relay"]


async def relay(redis: Redis, fanout: FanOut, publisher: Publisher, messenger: Messenger) -> None:
    """Until cancelled."""
    personal = USER_CHANNEL.encode()

    def on_message(channel: bytes, data: bytes) -> None:
        if channel == personal:
            messenger.received(data)
            return
        event_id, frame = received_state(channel, data)
        fanout.deliver(event_id, frame)

    async def resync() -> None:
        for event_id in fanout.watched():
            publisher.changed(event_id)  # loaded by its publisher, which outlives db errors

    await listen(
        redis,
        on_message,
        channels=[USER_CHANNEL],
        patterns=[CHANNEL_PREFIX + "*"],
        on_reconnect=resync,
        name="live",
    )


def received_state(channel: bytes, data: bytes) -> tuple[int, Frame]:
    """The event id and state frame of a message from another instance; ValueError naming
    what is wrong with a message that is not one."""
    suffix = channel.removeprefix(CHANNEL_PREFIX.encode())
    if not suffix.isdigit() or len(suffix) > 19:
        raise ValueError(f"channel {channel[:80]!r}")
    try:
        state = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise ValueError("not JSON") from None
    event_id, seq = int(suffix), state.get("seq") if isinstance(state, dict) else None
    if type(seq) is not int or state.get("event_id") != event_id:
        raise ValueError("not an availability state")
    return event_id, (seq, data)
