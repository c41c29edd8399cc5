"""An event's live availability message, read from the database in one statement."""

from __future__ import annotations

import asyncpg
import orjson

from server.db import Queries
from server.ws.socket import Frame

__all__ = ["QUERIES", "load_availability"]

QUERIES = ("event_availability",)


async def load_availability(pool: asyncpg.Pool, q: Queries, event_id: int) -> Frame | None:
    """The event's availability message (one snapshot, one committed seq), or None when there
    is no such event."""
    row = await pool.fetchrow(q["event_availability"], event_id)
    if row is None:
        return None
    message = {
        "type": "availability",
        "event_id": row["id"],
        "seq": row["seq"],
        "status": row["status"],
        "total_capacity": row["total_capacity"],
        "tickets_sold": row["tickets_sold"],
        "tickets_held": row["tickets_held"],
        "tickets_available": row["tickets_available"],
        "sales_start": row["sales_start"],
        "sales_end": row["sales_end"],
        "ticket_types": orjson.Fragment(row["ticket_types"]),
    }
    return row["seq"], orjson.dumps(message)
