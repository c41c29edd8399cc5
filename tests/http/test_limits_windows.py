"""Limits per booking and per customer, and sales windows (stampede-api.md §6), one request at a
time; the racing versions are in tests/concurrency/test_on_sale_races.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from tests.support.api import Account, Api
from tests.support.databases import table_digest


def _at(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


async def _book(
    api: Api, who: Account, event: dict[str, Any], items: list[tuple[int, int]], hold: bool = False
) -> tuple[int, Any]:
    body = {
        "event_id": event["id"],
        "items": [{"ticket_type_id": t, "quantity": q} for t, q in items],
        "hold": hold,
    }
    response = await api.client.post("/api/bookings/", json=body, headers=who.headers)
    return response.status, await response.json()


async def test_a_booking_over_the_limit_per_booking_is_refused(api: Api) -> None:
    owner = await api.organizer()
    event = await api.event(owner, max_tickets_per_booking=4)
    a = await api.ticket_type(owner, event["id"], name="A")
    b = await api.ticket_type(owner, event["id"], name="B")
    buyer = await api.attendee()
    status, answer = await _book(api, buyer, event, [(a["id"], 3), (b["id"], 2)])
    assert (status, answer) == (
        400,
        {"detail": "At most 4 tickets per booking.", "code": "booking_limit_exceeded"},
    )
    assert (await _book(api, buyer, event, [(a["id"], 2), (b["id"], 2)]))[0] == 201


async def test_the_limit_per_customer_counts_confirmed_and_held_tickets(api: Api) -> None:
    owner = await api.organizer()
    event = await api.event(owner, max_tickets_per_customer=3)
    ticket = await api.ticket_type(owner, event["id"])
    buyer, other = await api.attendee(), await api.attendee()
    assert (await _book(api, buyer, event, [(ticket["id"], 2)]))[0] == 201
    status, hold = await _book(api, buyer, event, [(ticket["id"], 1)], hold=True)
    assert status == 201
    status, answer = await _book(api, buyer, event, [(ticket["id"], 1)])
    assert (status, answer) == (
        400,
        {
            "detail": "At most 3 tickets per customer for this event; you have 3.",
            "code": "customer_limit_exceeded",
            "limit": 3,
            "already": 3,
        },
    )
    assert (await _book(api, other, event, [(ticket["id"], 3)]))[0] == 201  # per customer
    cancel = await api.client.put(
        f"/api/bookings/{hold['booking_reference']}/cancel", headers=buyer.headers
    )
    assert cancel.status == 200
    assert (await _book(api, buyer, event, [(ticket["id"], 1)]))[0] == 201  # room again


async def test_outside_the_sales_window_nothing_is_booked(api: Api) -> None:
    owner = await api.organizer()
    event = await api.event(owner, sales_start=_at(hours=1))
    ticket = await api.ticket_type(owner, event["id"], name="Early Bird")
    buyer = await api.attendee()
    status, answer = await _book(api, buyer, event, [(ticket["id"], 1)])
    assert (status, answer) == (
        400,
        {"detail": "Early Bird is not on sale.", "code": "not_on_sale"},
    )
    fetched = await (await api.client.get(f"/api/events/{event['id']}/")).json()
    assert fetched["tickets_available"] == 0
    types = await (await api.client.get(f"/api/events/{event['id']}/ticket-types/")).json()
    assert [t["on_sale"] for t in types["results"]] == [False]


async def test_a_types_window_is_clamped_to_the_events(api: Api) -> None:
    owner = await api.organizer()
    event = await api.event(owner, sales_end=_at(days=1))
    open_now = await api.ticket_type(owner, event["id"], name="Open")
    closed = await api.ticket_type(owner, event["id"], name="Closed", sales_end=_at(minutes=-1))
    later = await api.ticket_type(owner, event["id"], name="Later", sales_start=_at(days=2))
    types = await (await api.client.get(f"/api/events/{event['id']}/ticket-types/")).json()
    assert {t["name"]: t["on_sale"] for t in types["results"]} == {
        "Open": True,
        "Closed": False,
        "Later": False,  # its window opens after the event's closes
    }
    buyer = await api.attendee()
    assert (await _book(api, buyer, event, [(open_now["id"], 1)]))[0] == 201
    for ticket in (closed, later):
        assert (await _book(api, buyer, event, [(ticket["id"], 1)]))[1]["code"] == "not_on_sale"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"max_tickets_per_booking": 0}, "max_tickets_per_booking"),
        ({"max_tickets_per_customer": -2}, "max_tickets_per_customer"),
        ({"max_tickets_per_customer": "many"}, "max_tickets_per_customer"),
        ({"sales_start": "soon"}, "sales_start"),
        ({"sales_start": _at(days=2), "sales_end": _at(days=1)}, "sales_end"),
    ],
)
async def test_bad_limits_and_windows_are_field_errors_and_change_nothing(
    api: Api, database_url: str, changes: dict[str, Any], field: str
) -> None:
    owner = await api.organizer()
    event = await api.event(owner)
    conn = await asyncpg.connect(database_url)
    try:
        before = await table_digest(conn)
        for method, path in (("POST", "/api/events/"), ("PATCH", f"/api/events/{event['id']}/")):
            body = {"name": "N", "location": "L", "start_time": _at(days=30), "total_capacity": 9}
            response = await api.client.request(
                method, path, json={**body, **changes}, headers=owner.headers
            )
            assert response.status == 400
            assert list(await response.json()) == [field]
        assert await table_digest(conn) == before
    finally:
        await conn.close()


async def test_a_stored_window_bounds_a_partial_update(api: Api) -> None:
    owner = await api.organizer()
    event = await api.event(owner, sales_start=_at(days=2))
    response = await api.client.patch(
        f"/api/events/{event['id']}/", json={"sales_end": _at(days=1)}, headers=owner.headers
    )
    assert (response.status, await response.json()) == (
        400,
        {"sales_end": ["Sales must end after they start."]},
    )
    ticket = await api.ticket_type(owner, event["id"], sales_start=_at(days=3))
    response = await api.client.patch(
        f"/api/events/{event['id']}/ticket-types/{ticket['id']}/",
        json={"sales_end": _at(days=2)},
        headers=owner.headers,
    )
    assert response.status == 400
