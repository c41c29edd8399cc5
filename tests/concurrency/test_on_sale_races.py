"""Holds and limits under racing requests from two instances on one database: decided by the
event's actor under the event's row lock, never by a read-then-write in a handler."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from typing import Any

import asyncpg
from pytest_aiohttp import AiohttpClient

from server.config import Config
from tests.support.api import Api, Client
from tests.support.crowd import Member, check_invariants, make_users
from tests.support.instances import two_instances


async def _book(
    client: Client, member: Member, event_id: int, type_id: int, hold: bool = False
) -> tuple[int, Any]:
    body = {
        "event_id": event_id,
        "items": [{"ticket_type_id": type_id, "quantity": 1}],
        "hold": hold,
    }
    response = await client.post("/api/bookings/", json=body, headers=member.headers)
    return response.status, await response.json()


async def _event(api: Api, capacity: int, stock: int, **settings: Any) -> tuple[int, int]:
    owner = await api.organizer()
    event = await api.event(owner, total_capacity=capacity, **settings)
    ticket = await api.ticket_type(owner, event["id"], name="GA", quantity_available=stock)
    return event["id"], ticket["id"]


async def test_100_holds_against_50_seats_on_two_instances_hold_exactly_50(
    config: Config, database_url: str, aiohttp_client: AiohttpClient
) -> None:
    first, second = await two_instances(aiohttp_client, config)
    event_id, type_id = await _event(Api(first), 50, 80)
    crowd = await make_users(database_url, config.jwt_secret or "", 100)
    answers = await asyncio.gather(
        *(
            _book((first, second)[i % 2], m, event_id, type_id, hold=True)
            for i, m in enumerate(crowd)
        )
    )
    statuses = Counter(status for status, _ in answers)
    assert statuses == {201: 50, 400: 50}, statuses
    assert {b["code"] for s, b in answers if s == 400} == {"capacity_exceeded"}
    assert {b["status"] for s, b in answers if s == 201} == {"pending"}
    await check_invariants(database_url, event_id)
    conn = await asyncpg.connect(database_url)
    try:
        held = await conn.fetchval("SELECT tickets_held FROM events WHERE id = $1", event_id)
    finally:
        await conn.close()
    assert held == 50


async def test_one_customer_racing_20_times_on_two_instances_gets_exactly_the_limit(
    config: Config, database_url: str, aiohttp_client: AiohttpClient
) -> None:
    first, second = await two_instances(aiohttp_client, config)
    event_id, type_id = await _event(Api(first), 100, 100, max_tickets_per_customer=3)
    [member] = await make_users(database_url, config.jwt_secret or "", 1)
    answers = await asyncio.gather(
        *(
            _book((first, second)[i % 2], member, event_id, type_id, hold=i % 3 == 0)
            for i in range(20)
        )
    )
    statuses = Counter(status for status, _ in answers)
    assert statuses == {201: 3, 400: 17}, statuses
    refusals = [b for s, b in answers if s == 400]
    assert {b["code"] for b in refusals} == {"customer_limit_exceeded"}
    assert {(b["limit"], b["already"]) for b in refusals} == {(3, 3)}
    await check_invariants(database_url, event_id)


async def test_two_instances_expire_the_same_holds_once(
    config: Config, database_url: str, aiohttp_client: AiohttpClient
) -> None:
    """Both instances' sweepers and actors notice the same due holds; the seats come back
    once: every count equals the bookings behind it, and the stock is whole again."""
    settings = dataclasses.replace(config, sweep_interval_ms=50)
    first, second = await two_instances(aiohttp_client, settings)
    event_id, type_id = await _event(Api(first), 100, 60, hold_seconds=5)
    crowd = await make_users(database_url, config.jwt_secret or "", 40)
    answers = await asyncio.gather(
        *(
            _book((first, second)[i % 2], m, event_id, type_id, hold=True)
            for i, m in enumerate(crowd)
        )
    )
    assert Counter(status for status, _ in answers) == {201: 40}
    conn = await asyncpg.connect(database_url)
    try:
        for _ in range(100):  # 5 s of hold time, then a little
            left = await conn.fetchval(
                "SELECT count(*) FROM bookings WHERE event_id = $1 AND status = 'pending'", event_id
            )
            if not left:
                break
            await asyncio.sleep(0.1)
        assert left == 0
        await asyncio.sleep(0.5)  # the later of the two has looked too
        row = await conn.fetchrow(
            "SELECT e.tickets_held, t.quantity_available, t.quantity_held, t.quantity_sold, "
            "(SELECT count(*) FROM bookings WHERE event_id = e.id AND status = 'expired') AS expired "
            "FROM events e JOIN ticket_types t ON t.event_id = e.id WHERE e.id = $1",
            event_id,
        )
    finally:
        await conn.close()
    assert dict(row) == {
        "tickets_held": 0, "quantity_available": 60, "quantity_held": 0, "quantity_sold": 0,
        "expired": 40,
    }  # fmt: skip
    await check_invariants(database_url, event_id)
