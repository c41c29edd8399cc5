"""The waiting list (stampede-api.md §7) through the HTTP API: joining, places, leaving, and
freed seats offered in joining order, as holds, never shown as on sale meanwhile. Expiry and
closing over time, the live messages and two instances are in tests/ws and tests/concurrency."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest

from tests.support.api import Api
from tests.support.databases import table_digest
from tests.support.waitlist import (
    SoldOut,
    book,
    cancel,
    counts,
    entries,
    entry,
    join,
    joined,
    sold_out,
)


async def _outbox(dsn: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetch("SELECT recipient, subject, body FROM outbox ORDER BY id")
    finally:
        await conn.close()


async def test_joining_is_refused_while_that_many_tickets_can_be_booked(api: Api) -> None:
    owner = await api.organizer()
    event = await api.event(owner, total_capacity=10)
    ticket = await api.ticket_type(owner, event["id"], quantity_available=3)
    fan = await api.attendee()
    status, body = await join(api, fan, event["id"], ticket["id"], 3)
    assert (status, body["code"]) == (400, "tickets_available")
    status, body = await join(api, fan, event["id"], ticket["id"], 4)  # more than there are
    assert status == 201, body
    assert body == {
        "id": body["id"],
        "event_id": event["id"],
        "event_name": event["name"],
        "ticket_type_id": ticket["id"],
        "ticket_type_name": ticket["name"],
        "quantity": 4,
        "status": "waiting",
        "position": 1,
        "booking_reference": None,
        "expires_at": None,
        "created_at": body["created_at"],
        "updated_at": body["created_at"],
    }


async def test_places_follow_joining_order_and_leaving_moves_the_rest_up(api: Api) -> None:
    shop = await sold_out(api, [1])
    fans = [await api.attendee() for _ in range(3)]
    made = [await joined(api, fan, shop) for fan in fans]
    assert [e["position"] for e in made] == [1, 2, 3]
    response = await api.client.delete(f"/api/waitlist/{made[0]['id']}/", headers=fans[0].headers)
    assert response.status == 204
    assert await entries(api, fans[0]) == []
    assert [(await entry(api, fan))["position"] for fan in fans[1:]] == [1, 2]
    again = await api.client.delete(f"/api/waitlist/{made[0]['id']}/", headers=fans[0].headers)
    assert again.status == 404
    assert (await counts(api, shop))["waiting"] == 2


async def test_one_live_entry_per_user_and_type(api: Api) -> None:
    shop = await sold_out(api, [1])
    fan = await api.attendee()
    await joined(api, fan, shop, 2)
    status, body = await join(api, fan, shop.event["id"], shop.ticket["id"], 1)
    assert (status, body["code"]) == (409, "already_waiting")
    assert len(await entries(api, fan)) == 1


async def test_entries_obey_the_events_limits(api: Api) -> None:
    shop = await sold_out(api, [2], max_tickets_per_booking=3, max_tickets_per_customer=4)
    buyer, _ = shop.bookings[0]
    status, body = await join(api, buyer, shop.event["id"], shop.ticket["id"], 4)
    assert (status, body["code"]) == (400, "booking_limit_exceeded")
    status, body = await join(api, buyer, shop.event["id"], shop.ticket["id"], 3)
    assert (status, body) == (
        400,
        {
            "detail": "At most 4 tickets per customer for this event; you have 2.",
            "code": "customer_limit_exceeded",
            "limit": 4,
            "already": 2,
        },
    )
    assert (await join(api, buyer, shop.event["id"], shop.ticket["id"], 2))[0] == 201


async def test_who_may_join_and_what_is_refused_changes_nothing(
    api: Api, database_url: str
) -> None:
    shop = await sold_out(api, [1])
    other = await api.event(shop.owner)
    foreign = await api.ticket_type(shop.owner, other["id"])
    fan = await api.attendee()
    conn = await asyncpg.connect(database_url)
    before = await table_digest(conn)
    before.pop("outbox")  # the booking mails are being sent meanwhile
    path = f"/api/events/{shop.event['id']}/waitlist/"
    good = {"ticket_type_id": shop.ticket["id"], "quantity": 1}
    refused = [
        (await api.client.post(path, json=good), 401),
        (await api.client.post(path, json=good, headers=shop.owner.headers), 403),
        (
            await api.client.post("/api/events/999999/waitlist/", json=good, headers=fan.headers),
            404,
        ),
        (await api.client.post(path, json={**good, "quantity": 0}, headers=fan.headers), 400),
        (await api.client.post(path, json={**good, "quantity": "two"}, headers=fan.headers), 400),
        (await api.client.post(path, json={"quantity": 1}, headers=fan.headers), 400),
        (await api.client.post(path, data=b"{", headers=fan.headers), 400),
        (
            await api.client.post(
                path, json={**good, "ticket_type_id": foreign["id"]}, headers=fan.headers
            ),
            400,
        ),
        (await api.client.delete("/api/waitlist/abc/", headers=fan.headers), 404),
        (await api.client.delete("/api/waitlist/1/"), 401),
    ]
    for response, status in refused:
        body = await response.json()
        assert (response.status, isinstance(body, dict)) == (status, True), body
    try:
        after = await table_digest(conn)
        after.pop("outbox")
        assert after == before
    finally:
        await conn.close()


async def test_a_cancellation_offers_the_seats_to_the_first_entry_never_to_the_public(
    api: Api, database_url: str
) -> None:
    shop = await sold_out(api, [2, 1], waitlist_offer_seconds=900)
    first, second = await api.attendee(), await api.attendee()
    await joined(api, first, shop, 2)
    await joined(api, second, shop, 1)
    buyer, booking = shop.bookings[0]
    assert await cancel(api, buyer, booking["booking_reference"]) == 200
    offer = await entry(api, first)
    assert offer["status"] == "offered"
    assert offer["position"] is None
    held = await api.client.get(
        f"/api/bookings/{offer['booking_reference']}/", headers=first.headers
    )
    hold = await held.json()
    assert (hold["status"], hold["items"][0]["quantity"]) == ("pending", 2)
    expires = datetime.fromisoformat(hold["expires_at"])
    assert expires - datetime.fromisoformat(hold["created_at"]) == timedelta(seconds=900)
    assert offer["expires_at"] == hold["expires_at"]
    assert (await entry(api, second))["position"] == 1
    assert await counts(api, shop) == {
        "available": 0, "held": 2, "sold": 1, "waiting": 1,
        "tickets_available": 0, "tickets_held": 2,
    }  # fmt: skip
    [mail] = [m for m in await _outbox(database_url) if m["recipient"] == first.email]
    assert mail["subject"] == "Tickets for you: Sold Out"
    assert f"/api/bookings/{offer['booking_reference']}/confirm/" in mail["body"]


async def test_each_freed_seat_goes_to_the_first_entry_it_fits(api: Api) -> None:
    shop = await sold_out(api, [1, 1, 1])
    big, small = await api.attendee(), await api.attendee()
    await joined(api, big, shop, 3)
    await joined(api, small, shop, 1)
    buyer, booking = shop.bookings[0]
    await cancel(api, buyer, booking["booking_reference"])
    assert (await entry(api, big))["status"] == "waiting"
    assert (await entry(api, small))["status"] == "offered"  # the first one it fits


async def test_seats_too_few_for_anyone_are_kept_back_until_nobody_waits(api: Api) -> None:
    shop = await sold_out(api, [1, 1])
    fan = await api.attendee()
    mine = await joined(api, fan, shop, 2)
    buyer, booking = shop.bookings[0]
    await cancel(api, buyer, booking["booking_reference"])
    kept = await counts(api, shop)
    assert (kept["available"], kept["held"], kept["sold"], kept["tickets_available"]) == (
        0,
        1,
        1,
        0,
    )
    other = await api.attendee()
    assert (await book(api, other, shop.event["id"], shop.ticket["id"], 1))[0] == 400
    response = await api.client.delete(f"/api/waitlist/{mine['id']}/", headers=fan.headers)
    assert response.status == 204
    public = await counts(api, shop)
    assert (public["available"], public["held"], public["tickets_available"]) == (1, 0, 1)
    assert (await book(api, other, shop.event["id"], shop.ticket["id"], 1))[0] == 201


async def test_confirming_an_offer_purchases_it(api: Api) -> None:
    shop = await sold_out(api, [1])
    fan = await api.attendee()
    await joined(api, fan, shop)
    buyer, booking = shop.bookings[0]
    await cancel(api, buyer, booking["booking_reference"])
    offer = await entry(api, fan)
    response = await api.client.post(
        f"/api/bookings/{offer['booking_reference']}/confirm/", headers=fan.headers
    )
    assert response.status == 200, await response.text()
    assert (await response.json())["status"] == "confirmed"
    assert (await entry(api, fan))["status"] == "purchased"
    assert (await entries(api, fan, status="purchased"))[0]["id"] == offer["id"]
    assert (await counts(api, shop))["sold"] == 1


async def test_leaving_with_an_open_offer_passes_it_to_the_next(api: Api) -> None:
    shop = await sold_out(api, [1])
    first, second = await api.attendee(), await api.attendee()
    mine = await joined(api, first, shop)
    await joined(api, second, shop)
    buyer, booking = shop.bookings[0]
    await cancel(api, buyer, booking["booking_reference"])
    offer = await entry(api, first)
    assert offer["status"] == "offered"
    response = await api.client.delete(f"/api/waitlist/{mine['id']}/", headers=first.headers)
    assert response.status == 204
    held = await api.client.get(
        f"/api/bookings/{offer['booking_reference']}/", headers=first.headers
    )
    assert (await held.json())["status"] == "cancelled"
    assert (await entry(api, second))["status"] == "offered"


async def test_a_cancelled_offer_passes_to_the_next(api: Api) -> None:
    shop = await sold_out(api, [1])
    first, second = await api.attendee(), await api.attendee()
    await joined(api, first, shop)
    await joined(api, second, shop)
    buyer, booking = shop.bookings[0]
    await cancel(api, buyer, booking["booking_reference"])
    offer = await entry(api, first)
    assert await cancel(api, first, offer["booking_reference"]) == 200
    assert (await entry(api, first))["status"] == "expired"
    assert (await entry(api, second))["status"] == "offered"


async def test_more_stock_goes_to_the_waiting_list_first(api: Api) -> None:
    shop = await sold_out(api, [1], total_capacity=10)
    fan = await api.attendee()
    await joined(api, fan, shop, 2)
    response = await api.client.patch(
        f"/api/events/{shop.event['id']}/ticket-types/{shop.ticket['id']}/",
        json={"quantity_available": 3},
        headers=shop.owner.headers,
    )
    assert response.status == 200, await response.text()
    changed = await response.json()
    # Kept back for the waiting list, as held: the actor offers them once this commits.
    assert (changed["quantity_available"], changed["quantity_held"]) == (0, 3)
    offer = await _eventually_offered(api, fan)
    assert offer["quantity"] == 2
    after = await counts(api, shop)  # nobody waits now: the seat left over is on sale
    assert (after["available"], after["held"], after["waiting"]) == (1, 2, 0)


async def _eventually_offered(api: Api, who: Any) -> dict[str, Any]:
    """The organizer's change is settled by the event's actor right after it commits."""
    for _ in range(100):
        mine = await entry(api, who)
        if mine["status"] == "offered":
            return mine
        await asyncio.sleep(0.05)
    pytest.fail(f"never offered: {mine}")


async def test_more_event_capacity_goes_to_the_waiting_list_first(api: Api) -> None:
    owner = await api.organizer()
    event = await api.event(owner, name="Capped", total_capacity=2)
    ticket = await api.ticket_type(owner, event["id"], quantity_available=5)
    buyer, fan = await api.attendee(), await api.attendee()
    assert (await book(api, buyer, event["id"], ticket["id"], 2))[0] == 201
    shop = SoldOut(owner, event, ticket, [])
    assert (await counts(api, shop))["tickets_available"] == 0  # the capacity binds
    await joined(api, fan, shop, 2)
    response = await api.client.patch(
        f"/api/events/{event['id']}/", json={"total_capacity": 4}, headers=owner.headers
    )
    assert response.status == 200
    offer = await _eventually_offered(api, fan)
    assert offer["quantity"] == 2
    after = await counts(api, shop)
    assert (after["sold"], after["held"], after["tickets_available"]) == (2, 2, 0)
