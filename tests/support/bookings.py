"""Bookings written straight into the database, for tests of events that need some sold.

They do what the booking core does to the counters, so the invariants hold.
"""

from __future__ import annotations

import uuid

import asyncpg


async def insert_booking(
    dsn: str, user_id: int, event_id: int, items: list[tuple[int, int]]
) -> str:
    """A confirmed booking of ``(ticket_type_id, quantity)`` items; returns its reference."""
    reference = uuid.uuid4()
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            booking_id = await conn.fetchval(
                "INSERT INTO bookings (booking_reference, user_id, event_id, total_price) "
                "VALUES ($1, $2, $3, 0) RETURNING id",
                reference, user_id, event_id,
            )  # fmt: skip
            for type_id, quantity in items:
                price = await conn.fetchval(
                    "UPDATE ticket_types SET quantity_available = quantity_available - $2, "
                    "quantity_sold = quantity_sold + $2 WHERE id = $1 RETURNING price",
                    type_id, quantity,
                )  # fmt: skip
                await conn.execute(
                    "INSERT INTO booking_items (booking_id, ticket_type_id, quantity, price_at_booking) "
                    "VALUES ($1, $2, $3, $4)",
                    booking_id, type_id, quantity, price,
                )  # fmt: skip
                await conn.execute(
                    "UPDATE events SET tickets_sold = tickets_sold + $2 WHERE id = $1",
                    event_id,
                    quantity,
                )
    finally:
        await conn.close()
    return str(reference)
