"""Many accounts at once, and the checks that say whether an event was oversold."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import asyncpg

from server.passwords import _hash_sync
from server.tokens import issue_token

_PASSWORD_HASH = _hash_sync("crowd-Password-1")


@dataclass(frozen=True)
class Member:
    id: int
    headers: dict[str, str]


async def make_users(dsn: str, jwt_secret: str, count: int, role: str = "attendee") -> list[Member]:
    """``count`` accounts written straight to the database, each with a valid access token.

    Registering hundreds through the API would spend the test's time hashing passwords.
    """
    tag = uuid.uuid4().hex[:8]
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "INSERT INTO users (username, email, password_hash, role) "
            "SELECT 'crowd' || $1 || '-' || n, 'crowd' || $1 || '-' || n || '@example.org', $2, $3 "
            "FROM generate_series(1, $4) AS n RETURNING id",
            tag, _PASSWORD_HASH, role, count,
        )  # fmt: skip
    finally:
        await conn.close()
    return [
        Member(
            r["id"], {"Authorization": f"Bearer {issue_token(jwt_secret, r['id'], 'access', 3600)}"}
        )
        for r in rows
    ]


async def check_invariants(dsn: str, event_id: int) -> dict[str, int]:
    """Assert that the counters agree with the live bookings and stay within limits.

    Returns the event's tickets_sold and each ticket type's quantity_sold, by name.
    """
    conn = await asyncpg.connect(dsn)
    try:
        event = await conn.fetchrow(
            "SELECT total_capacity, tickets_sold FROM events WHERE id = $1", event_id
        )
        types = await conn.fetch(
            "SELECT t.id, t.name, t.quantity_sold, t.quantity_available, "
            "  (SELECT coalesce(sum(i.quantity), 0) FROM booking_items i JOIN bookings b ON b.id = i.booking_id "
            "   WHERE i.ticket_type_id = t.id AND b.status = 'confirmed') AS live "
            "FROM ticket_types t WHERE t.event_id = $1",
            event_id,
        )
    finally:
        await conn.close()
    for row in types:
        assert row["quantity_sold"] == row["live"], dict(row)
        assert row["quantity_available"] >= 0
    assert event["tickets_sold"] == sum(r["quantity_sold"] for r in types), dict(event)
    assert event["tickets_sold"] <= event["total_capacity"]
    return {"event": event["tickets_sold"], **{r["name"]: r["quantity_sold"] for r in types}}
