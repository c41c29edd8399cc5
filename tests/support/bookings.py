"""Events and bookings written straight into the database: for tests that run a server process
(no app to call), and for events that need some sold.

Bookings do what the booking core does to the counters, so the invariants hold.
"""

from __future__ import annotations

import uuid

import asyncpg


async def insert_event(
    dsn: str, organizer_id: int, seats: int, name: str, hold_seconds: int = 600
) -> tuple[int, int]:
    """An event of ``seats`` in 30 days, with one ticket type (GA at 5.00) of every seat; the
    event's id and the ticket type's."""
    conn = await asyncpg.connect(dsn)
    try:
        event_id = await conn.fetchval(
            "INSERT INTO events (organizer_id, name, location, start_time, total_capacity, "
            "hold_seconds) VALUES ($1, $2, 'Here', now() + interval '30 days', $3, $4) RETURNING id",
            organizer_id, name, seats, hold_seconds,
        )  # fmt: skip
        type_id = await conn.fetchval(
            "INSERT INTO ticket_types (event_id, name, price, quantity_available) "
            "VALUES ($1, 'GA', 5, $2) RETURNING id",
            event_id, seats,
        )  # fmt: skip
    finally:
        await conn.close()
    return int(event_id), int(type_id)


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
