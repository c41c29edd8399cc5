"""The sweeper: on every instance, the events with something due (a hold whose time ran out, a
sales window that opened or closed) are handed to their actors, started if need be.

An event's running actor keeps a timer for its next deadline; the sweeper covers the events
whose actor is idle or whose instance died. When two instances notice the same thing, their
actors take the event's row lock in turn and the second finds it done: the work happens once.
"""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from server.actors.registry import ActorRegistry
from server.db import DATABASE_ERRORS, Queries

__all__ = ["QUERIES", "sweep"]

log = logging.getLogger("stampede.actors")

QUERIES = ("due_events",)
BATCH = 500  # events handed over per round


async def sweep(
    pool: asyncpg.Pool, queries: Queries, registry: ActorRegistry, interval: float
) -> None:
    """Every ``interval`` seconds, until cancelled."""
    while True:
        try:
            for row in await pool.fetch(queries["due_events"], BATCH):
                registry.tick(row["id"])
        except DATABASE_ERRORS as exc:
            log.warning("sweeper: cannot reach the database (%r); next round later", exc)
        await asyncio.sleep(interval)
