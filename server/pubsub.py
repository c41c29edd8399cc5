"""Listening on Redis pub/sub for as long as the process lives: one reconnecting loop for
every listener (live availability, the user cache, personal messages).

Anyone who can reach Redis can publish anything: a message the handler cannot use is logged
and skipped, never allowed to end the loop. After an outage the loop reconnects by itself
and calls ``on_reconnect``, since messages sent meanwhile were lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from redis.asyncio import Redis
from redis.exceptions import RedisError

__all__ = ["RECONNECT_DELAYS", "listen"]

log = logging.getLogger("stampede.pubsub")

RECONNECT_DELAYS = (0.1, 0.25, 0.5, 1.0, 2.0)

OnMessage = Callable[[bytes, bytes], None]  # (channel, data)


async def _nothing() -> None:
    pass


async def listen(
    redis: Redis,
    on_message: OnMessage,
    *,
    channels: Sequence[str] = (),
    patterns: Sequence[str] = (),
    on_reconnect: Callable[[], Awaitable[None]] = _nothing,
    name: str = "pubsub",
) -> None:
    """Hand every message on ``channels`` (and channels matching ``patterns``) to
    ``on_message`` until cancelled."""
    failures = 0
    while True:
        try:
            async with redis.pubsub() as pubsub:
                if channels:
                    await pubsub.subscribe(*channels)
                if patterns:
                    await pubsub.psubscribe(*patterns)
                if failures:
                    log.info("%s: Redis is back", name)
                    await on_reconnect()
                failures = 0
                async for message in pubsub.listen():
                    if message.get("type") in ("message", "pmessage"):
                        _handle(on_message, message, name)
        except (RedisError, OSError) as exc:
            delay = RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS) - 1)]
            failures += 1
            log.warning("%s: Redis listener lost (%r); retrying in %s s", name, exc, delay)
            await asyncio.sleep(delay)


def _handle(on_message: OnMessage, message: dict[str, object], name: str) -> None:
    channel, data = message.get("channel"), message.get("data")
    if not isinstance(channel, bytes) or not isinstance(data, bytes):
        log.warning("%s: skipped a message that is not bytes", name)
        return
    try:
        on_message(channel, data)
    except Exception as exc:  # whatever it was, the next message is another one
        log.warning("%s: skipped a message on %r (%s)", name, channel[:80], exc)
