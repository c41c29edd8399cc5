"""One round trip for many requests: what is asked for while a call is out goes in the next.

A hot on-sale's requests arrive in waves (a batch's answers go out together, and the clients come
back together); a Redis or database round trip per request costs its client library more CPU
than the request's own work. ``Coalesced`` makes the first caller's call carry everyone's keys
that arrived in the same loop pass, and those that arrive while it is out wait for the next
one: never more than one call out at a time, and never a wait on a timer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

__all__ = ["Coalesced"]

K = TypeVar("K")
V = TypeVar("V")


class Coalesced(Generic[K, V]):
    """``await coalesced(key)`` answers what ``fetch(keys)`` answers for that key.

    ``fetch`` gets the keys in the order asked (a key asked twice is there twice) and returns one
    answer per key, in that order. If it raises, every caller of that call gets the error.
    """

    def __init__(self, fetch: Callable[[Sequence[K]], Awaitable[Sequence[V]]]) -> None:
        self._fetch = fetch
        self._waiting: list[tuple[K, asyncio.Future[V]]] = []
        self._sender: asyncio.Task[None] | None = None

    async def __call__(self, key: K) -> V:
        future: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        self._waiting.append((key, future))
        if self._sender is None:  # its first step runs after this loop pass's other requests
            self._sender = asyncio.create_task(self._send(), name="coalesced-calls")
        return await future

    async def _send(self) -> None:
        batch: list[tuple[K, asyncio.Future[V]]] = []
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    answers = await self._fetch([key for key, _ in batch])
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), answer in zip(batch, answers, strict=True):
                    if not future.done():  # its caller may have gone (cancelled)
                        future.set_result(answer)
            batch = []
        finally:
            self._sender = None
            for _, future in [*batch, *self._waiting]:  # cancelled mid-call: nobody is left hanging
                future.cancel()
            self._waiting = []
