"""The waiting list over time (stampede-api.md §7): holds and offers that run out pass their
seats on, and entries close when their tickets stop selling. Short real durations (5 s)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from tests.support.api import Account, Api
from tests.support.waitlist import book, cancel, counts, entry, join, joined, sold_out


async def _until(check: Callable[[], Awaitable[bool]], seconds: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail("not within the time allowed")
        await asyncio.sleep(0.1)


def _status_is(api: Api, who: Account, status: str) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return (await entry(api, who))["status"] == status

    return check


async def _mails_to(dsn: str, who: Account) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT subject FROM outbox WHERE recipient = $1 ORDER BY id", who.email
        )
        return [row["subject"] for row in rows]
    finally:
        await conn.close()


async def test_a_hold_that_expires_is_offered_to_the_first_entry(api: Api) -> None:
    owner = await api.organizer()
    event = await api.event(owner, total_capacity=2, hold_seconds=5)
    ticket = await api.ticket_type(owner, event["id"], quantity_available=2)
    holder, fan = await api.attendee(), await api.attendee()
    status, hold = await book(api, holder, event["id"], ticket["id"], 2, hold=True)
    assert status == 201, hold
    assert (await join(api, fan, event["id"], ticket["id"], 2))[0] == 201
    await _until(_status_is(api, fan, "offered"))
    expired = await api.client.get(
        f"/api/bookings/{hold['booking_reference']}/", headers=holder.headers
    )
    assert (await expired.json())["status"] == "expired"


async def test_an_offer_not_confirmed_in_time_passes_to_the_next_entry(
    api: Api, database_url: str
) -> None:
    shop = await sold_out(api, [1], waitlist_offer_seconds=5)
    first, second = await api.attendee(), await api.attendee()
    await joined(api, first, shop)
    await joined(api, second, shop)
    buyer, booking = shop.bookings[0]
    await cancel(api, buyer, booking["booking_reference"])
    offer = await entry(api, first)
    assert offer["status"] == "offered"
    expires = datetime.fromisoformat(offer["expires_at"])
    assert timedelta(seconds=4) < expires - datetime.now(UTC) <= timedelta(seconds=5)
    await _until(_status_is(api, second, "offered"))
    assert (await entry(api, first))["status"] == "expired"
    late = await api.client.post(
        f"/api/bookings/{offer['booking_reference']}/confirm/", headers=first.headers
    )
    assert (late.status, (await late.json())["code"]) == (409, "hold_expired")  # it is taken
    assert await _mails_to(database_url, first) == ["Tickets for you: Sold Out"]
    assert await _mails_to(database_url, second) == ["Tickets for you: Sold Out"]


async def _closed_with_mail(api: Api, dsn: str, who: Account) -> None:
    await _until(_status_is(api, who, "closed"))
    assert "Waiting list closed: Sold Out" in await _mails_to(dsn, who)


async def test_cancelling_the_event_closes_its_waiting_list(api: Api, database_url: str) -> None:
    shop = await sold_out(api, [1, 1])
    offered, waiting, left_over = await api.attendee(), await api.attendee(), await api.attendee()
    await joined(api, offered, shop)
    await joined(api, waiting, shop, 2)
    await joined(api, left_over, shop, 2)
    buyer, booking = shop.bookings[0]
    await cancel(api, buyer, booking["booking_reference"])
    assert (await entry(api, offered))["status"] == "offered"
    response = await api.client.patch(
        f"/api/events/{shop.event['id']}/", json={"status": "cancelled"}, headers=shop.owner.headers
    )
    assert response.status == 200, await response.text()
    for who in (offered, waiting, left_over):
        await _closed_with_mail(api, database_url, who)
    assert (await counts(api, shop))["waiting"] == 0


async def test_deactivating_the_type_closes_its_waiting_list(api: Api, database_url: str) -> None:
    shop = await sold_out(api, [1, 1])
    fan = await api.attendee()
    await joined(api, fan, shop, 2)
    buyer, booking = shop.bookings[0]
    await cancel(api, buyer, booking["booking_reference"])  # one seat kept back for the fan
    response = await api.client.patch(
        f"/api/events/{shop.event['id']}/ticket-types/{shop.ticket['id']}/",
        json={"is_active": False},
        headers=shop.owner.headers,
    )
    assert response.status == 200
    await _closed_with_mail(api, database_url, fan)
    after = await counts(api, shop)  # nobody waits: the kept seat is stock again
    assert (after["available"], after["held"], after["waiting"]) == (1, 0, 0)


async def test_the_end_of_sales_closes_the_waiting_list(api: Api, database_url: str) -> None:
    ends = datetime.now(UTC) + timedelta(seconds=3)
    shop = await sold_out(api, [1], sales_end=ends.isoformat())
    fan = await api.attendee()
    await joined(api, fan, shop)
    assert (await entry(api, fan))["status"] == "waiting"
    await _closed_with_mail(api, database_url, fan)
    assert datetime.now(UTC) >= ends
    buyer, booking = shop.bookings[0]
    assert await cancel(api, buyer, booking["booking_reference"]) == 200
    assert (await entry(api, fan))["status"] == "closed"  # nothing offered after the close
