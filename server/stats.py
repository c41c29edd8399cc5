"""An event's figures for its organizer's dashboard: bookings per minute over the last hour
(from ``booking_minutes``: 60 rows, however many bookings the event has), its waiting list and
its waiting room."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from server.db import Queries

__all__ = ["QUERIES", "Stats"]

QUERIES = ("event_minutes", "event_waitlist_figures", "event_queue_figures")


@dataclass(frozen=True, slots=True)
class Stats:
    pool: asyncpg.Pool
    queries: Queries

    async def of_event(self, event_id: int) -> dict[str, Any]:
        async with self.pool.acquire() as conn:
            minutes = await conn.fetch(self.queries["event_minutes"], event_id)
            waitlist = await conn.fetchrow(self.queries["event_waitlist_figures"], event_id)
            queue = await conn.fetchrow(self.queries["event_queue_figures"], event_id)
        return {
            "per_minute": [dict(row) for row in minutes],
            "waitlist": dict(waitlist),
            "queue": dict(queue) if queue is not None else None,
        }
