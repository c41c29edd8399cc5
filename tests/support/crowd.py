"""Many accounts at once, and the checks that say whether an event was oversold."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from typing import Any

import aiohttp
import asyncpg
from aiohttp import web
from aiohttp.test_utils import TestClient

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
    """Assert that the counters agree with the live bookings and stay within limits: each
    type's sold and held counts equal its confirmed and pending bookings' tickets (held counts
    include the seats kept back for the waiting list), its waiting count its waiting entries,
    the event's counts equal its types' sums, and sold + held never exceed the capacity.

    Returns the event's tickets_sold and each ticket type's quantity_sold, by name.
    """
    conn = await asyncpg.connect(dsn)
    try:
        event = await conn.fetchrow(
            "SELECT total_capacity, tickets_sold, tickets_held, tickets_kept FROM events "
            "WHERE id = $1",
            event_id,
        )
        types = await conn.fetch(
            "SELECT t.id, t.name, t.quantity_sold, t.quantity_held, t.quantity_available, "
            "  t.quantity_kept, t.waiting, "
            "  (SELECT count(*) FROM waitlist_entries w "
            "   WHERE w.ticket_type_id = t.id AND w.status = 'waiting') AS entries, "
            "  (SELECT coalesce(sum(i.quantity), 0) FROM booking_items i JOIN bookings b ON b.id = i.booking_id "
            "   WHERE i.ticket_type_id = t.id AND b.status = 'confirmed') AS sold, "
            "  (SELECT coalesce(sum(i.quantity), 0) FROM booking_items i JOIN bookings b ON b.id = i.booking_id "
            "   WHERE i.ticket_type_id = t.id AND b.status = 'pending') AS held "
            "FROM ticket_types t WHERE t.event_id = $1",
            event_id,
        )
    finally:
        await conn.close()
    for row in types:
        held = row["quantity_held"] - row["quantity_kept"]
        assert (row["quantity_sold"], held) == (row["sold"], row["held"]), dict(row)
        assert row["waiting"] == row["entries"], dict(row)
        assert row["quantity_kept"] == 0 or row["waiting"] > 0, dict(row)  # kept for someone
        assert row["quantity_available"] >= 0
    assert event["tickets_sold"] == sum(r["quantity_sold"] for r in types), dict(event)
    assert event["tickets_held"] == sum(r["quantity_held"] for r in types), dict(event)
    assert event["tickets_kept"] == sum(r["quantity_kept"] for r in types), dict(event)
    assert event["tickets_sold"] + event["tickets_held"] <= event["total_capacity"]
    return {"event": event["tickets_sold"], **{r["name"]: r["quantity_sold"] for r in types}}


@dataclass(frozen=True)
class Answer:
    at: float  # seconds into the storm the request was sent
    status: int
    body: Any


async def storm(
    client: TestClient[web.Request, web.Application],
    crowd: list[Member],
    event_id: int,
    type_id: int,
    seconds: float,
) -> list[Answer]:
    """Each member books one ticket after another until ``seconds`` have passed (pausing 0.1 s
    after a refusal); every request gets an answer within 30 s, never a hang."""
    body = {"event_id": event_id, "items": [{"ticket_type_id": type_id, "quantity": 1}]}
    timeout = aiohttp.ClientTimeout(total=30)
    started = time.monotonic()

    async def member_books(member: Member) -> list[Answer]:
        answers = []
        while (at := time.monotonic() - started) < seconds:
            response = await client.post(
                "/api/bookings/", json=body, headers=member.headers, timeout=timeout
            )
            answers.append(Answer(at, response.status, await response.json()))
            if response.status != 201:
                await asyncio.sleep(0.1)
        return answers

    per_member = await asyncio.gather(*(member_books(m) for m in crowd))
    return [answer for answers in per_member for answer in answers]
