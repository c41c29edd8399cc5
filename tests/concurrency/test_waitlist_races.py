"""The waiting list under racing requests from two instances on one database: joins, and a
burst of cancellations whose seats go to the entries in order, never to the public racing for
them, and never twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import asyncpg
from pytest_aiohttp import AiohttpClient

from server.config import Config
from tests.support.api import Api, Client
from tests.support.crowd import Member, check_invariants, make_users
from tests.support.instances import two_instances


async def _post(client: Client, member: Member, path: str, body: Any) -> tuple[int, Any]:
    response = await client.post(path, json=body, headers=member.headers)
    return response.status, await response.json()


async def test_a_burst_of_10_cancellations_on_one_instance_offers_exactly_10_seats(
    config: Config, database_url: str, aiohttp_client: AiohttpClient
) -> None:
    first, second = await two_instances(aiohttp_client, config)
    api = Api(first)
    owner = await api.organizer()
    event = await api.event(owner, total_capacity=20)
    ticket = await api.ticket_type(owner, event["id"], name="GA", quantity_available=20)
    buyers = await make_users(database_url, config.jwt_secret or "", 20)
    fans = await make_users(database_url, config.jwt_secret or "", 15)
    public = await make_users(database_url, config.jwt_secret or "", 10)
    item = {"ticket_type_id": ticket["id"], "quantity": 1}
    booking = {"event_id": event["id"], "items": [item]}
    bought = [await _post(first, b, "/api/bookings/", booking) for b in buyers]
    assert {status for status, _ in bought} == {201}
    join = f"/api/events/{event['id']}/waitlist/"
    for fan in fans:  # in a known order; each joining twice at once, on both instances
        answers = await asyncio.gather(
            _post(first, fan, join, item), _post(second, fan, join, item)
        )
        assert sorted(status for status, _ in answers) == [201, 409], answers
    cancels = [
        second.patch(f"/api/bookings/{b['booking_reference']}/cancel/", headers=m.headers)
        for m, (_, b) in zip(buyers[:10], bought[:10], strict=True)
    ]
    grabs = [_post(first, m, "/api/bookings/", booking) for m in public]
    results = await asyncio.gather(*cancels, *grabs)
    assert [r.status for r in results[:10]] == [200] * 10
    grabbed = Counter(status for status, _ in results[10:])
    assert grabbed == {400: 10}, grabbed  # the freed seats were never on sale
    conn = await asyncpg.connect(database_url)
    try:
        entries = await conn.fetch(
            "SELECT w.user_id, w.status, b.status AS hold FROM waitlist_entries w "
            "LEFT JOIN bookings b ON b.id = w.booking_id WHERE w.event_id = $1 "
            "AND w.status <> 'left' ORDER BY w.id",
            event["id"],
        )
    finally:
        await conn.close()
    assert [e["user_id"] for e in entries] == [fan.id for fan in fans]
    assert [e["status"] for e in entries] == ["offered"] * 10 + ["waiting"] * 5
    assert [e["hold"] for e in entries[:10]] == ["pending"] * 10
    counts = await check_invariants(database_url, event["id"])
    assert counts["event"] == 10  # sold; the other 10 are held for the first 10 entries
