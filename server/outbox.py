"""What the outbox's senders (mail, webhooks) share: rounds of claimed rows, and the loop that
runs them.

A round claims due rows for a lease (a statement that commits at once), works on them with no
transaction open, then settles them in one statement. When its sender is stopped meanwhile,
the claim and the settling still run to their end (``finish``) and the rows it did not settle
are released, due again at once: no row waits out a lease because an instance stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg

from server.db import DATABASE_ERRORS
from server.tasks import finish

__all__ = ["leased_round", "run_rounds"]

log = logging.getLogger("stampede.outbox")

POLL_SECONDS = 1.0
# Rounds at most this often: every commit wakes a sender, and a round per commit would add a
# statement to every booking batch.
REST_SECONDS = 0.25

Rows = list[asyncpg.Record]
Result = TypeVar("Result")


async def leased_round(
    claim: Awaitable[Rows],
    work: Callable[[Rows], Awaitable[Result]],
    settle: Callable[[Rows, Result], Awaitable[object]],
    release: Callable[[Rows], Awaitable[object]],
) -> int:
    """One round: claim, work, settle; how many rows it claimed."""
    rows, stopping = await finish(claim)
    if stopping:
        if rows:
            await finish(release(rows))
        raise asyncio.CancelledError
    if not rows:
        return 0
    try:
        result = await work(rows)
    except asyncio.CancelledError:
        await finish(release(rows))
        raise
    if (await finish(settle(rows, result))).stopping:
        raise asyncio.CancelledError
    return len(rows)


async def run_rounds(
    deliver: Callable[[], Awaitable[int]], batch: int, wake: asyncio.Event, what: str
) -> None:
    """Until cancelled: rounds back to back while they come back full (``batch`` rows), else
    one when woken (at most every REST_SECONDS) or every POLL_SECONDS. A database that is away
    is waited out."""
    while True:
        try:
            done = await deliver()
        except DATABASE_ERRORS as exc:
            log.warning("%s: cannot reach the database (%r); retrying", what, exc)
            done = 0
        if done == batch:
            continue
        await asyncio.sleep(REST_SECONDS)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(POLL_SECONDS - REST_SECONDS):
                await wake.wait()
        wake.clear()
