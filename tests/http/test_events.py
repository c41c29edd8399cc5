"""``/api/events/…``: shapes, validation messages, filters, ordering, pagination, side effects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from tests.support.api import Api, future
from tests.support.bookings import insert_booking

EVENT_KEYS = {
    "id", "organizer", "name", "description", "location", "start_time", "end_time",
    "total_capacity", "status", "created_at", "updated_at", "tickets_sold", "tickets_available",
    # Holds, limits and sales windows (stampede-api.md §5, §6).
    "tickets_held", "hold_seconds", "max_tickets_per_booking", "max_tickets_per_customer",
    "sales_start", "sales_end",
    # The waiting list (§7) and the waiting room (§8).
    "waitlist_offer_seconds", "waiting_room",
}  # fmt: skip


def past(days: float = 1) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


async def test_create_answers_the_whole_event(api: Api) -> None:
    owner = await api.organizer()
    start = datetime(2031, 5, 1, 18, 30, tzinfo=UTC)
    event = await api.event(
        owner,
        name="Gala",
        start_time=start.isoformat(),
        end_time=(start + timedelta(hours=2)).isoformat(),
    )
    assert set(event) == EVENT_KEYS
    assert event["organizer"] == owner.username
    assert event["start_time"] == "2031-05-01T18:30:00Z"
    assert event["end_time"] == "2031-05-01T20:30:00Z"
    assert event["status"] == "upcoming"
    assert (event["tickets_sold"], event["tickets_available"]) == (0, 0)
    assert event["created_at"].endswith("Z")
    fetched = await api.client.get(f"/api/events/{event['id']}")
    assert await fetched.json() == event


async def test_create_ignores_a_posted_organizer_and_defaults_description(api: Api) -> None:
    owner, other = await api.organizer(), await api.organizer()
    body = {
        "name": "N",
        "location": "L",
        "start_time": future(),
        "total_capacity": 5,
        "organizer": other.username,
    }
    response = await api.client.post("/api/events/", json=body, headers=owner.headers)
    event = await response.json()
    assert event["organizer"] == owner.username
    assert event["description"] == ""
    assert event["end_time"] is None


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"name": ""}, {"name": ["This field may not be blank."]}),
        ({"name": "x" * 256}, {"name": ["Ensure this field has no more than 255 characters."]}),
        (
            {"total_capacity": 0},
            {"total_capacity": ["Ensure this value is greater than or equal to 1."]},
        ),
        (
            {"total_capacity": 2147483648},
            {"total_capacity": ["Ensure this value is less than or equal to 2147483647."]},
        ),
        ({"total_capacity": "many"}, {"total_capacity": ["A valid integer is required."]}),
        (
            {"start_time": "tomorrow"},
            {
                "start_time": [
                    "Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
                ]
            },
        ),
        ({"start_time": past()}, {"start_time": ["Start time cannot be in the past."]}),
        ({"end_time": past()}, {"end_time": ["End time cannot be in the past."]}),
        ({"end_time": future(10)}, {"non_field_errors": ["End time must be after start time."]}),
        ({"status": "cancelled"}, {"status": ["Only 'upcoming' events can be created."]}),
        ({"status": "paused"}, {"status": ['"paused" is not a valid choice.']}),
    ],
)
async def test_create_validation_messages(
    api: Api, changes: dict[str, Any], errors: dict[str, Any]
) -> None:
    owner = await api.organizer()
    body = {
        "name": "Gig",
        "location": "Rome",
        "start_time": future(20),
        "total_capacity": 10,
        **changes,
    }
    response = await api.client.post("/api/events/", json=body, headers=owner.headers)
    assert response.status == 400
    assert await response.json() == errors


async def test_create_requires_name_location_start_and_capacity(api: Api) -> None:
    owner = await api.organizer()
    response = await api.client.post("/api/events/", json={}, headers=owner.headers)
    required = ["This field is required."]
    assert await response.json() == {
        "name": required, "location": required, "start_time": required, "total_capacity": required,
    }  # fmt: skip


async def test_list_is_paginated_and_ordered_by_start_time(api: Api) -> None:
    owner = await api.organizer()
    for days in (5, 3, 9, 1, 7, 2, 8, 4, 6, 10, 11, 12):
        await api.event(owner, name=f"day {days}", start_time=future(days), end_time=None)
    response = await api.client.get("/api/events/")
    page = await response.json()
    assert page["count"] == 12
    assert [e["name"] for e in page["results"]] == [f"day {d}" for d in range(1, 11)]
    assert page["previous"] is None
    assert page["next"].endswith("/api/events/?page=2")
    second = await (await api.client.get("/api/events/?page=2")).json()
    assert [e["name"] for e in second["results"]] == ["day 11", "day 12"]
    assert second["next"] is None
    assert second["previous"].endswith("/api/events/")
    missing = await api.client.get("/api/events/?page=3")
    assert (missing.status, await missing.json()) == (
        404,
        {"detail": "Invalid page.", "code": "not_found"},
    )
    small = await (await api.client.get("/api/events/?page_size=5&page=3")).json()
    assert [e["name"] for e in small["results"]] == ["day 11", "day 12"]
    bad = await api.client.get("/api/events/?page_size=500")
    assert bad.status == 400
    for odd in ("page=²", "page_size=²", "page=" + "9" * 5000, "page_size=" + "9" * 5000):
        assert (await api.client.get(f"/api/events/?{odd}")).status in (400, 404), odd


async def test_list_filters_search_and_ordering(api: Api) -> None:
    owner = await api.organizer()
    await api.event(
        owner,
        name="Jazz night",
        location="Oslo",
        total_capacity=50,
        start_time=future(3),
        end_time=None,
    )
    await api.event(
        owner,
        name="Rock",
        description="loud JAZZ fusion",
        location="Rome",
        total_capacity=500,
        start_time=future(2),
        end_time=None,
    )
    await api.event(
        owner, name="Opera", location="Oslo", total_capacity=5, start_time=future(1), end_time=None
    )

    async def names(query: str) -> list[str]:
        response = await api.client.get(f"/api/events/?{query}")
        assert response.status == 200, await response.text()
        return [e["name"] for e in (await response.json())["results"]]

    assert await names("location=Oslo") == ["Opera", "Jazz night"]
    assert await names("location=oslo") == []  # exact, as in the reference
    assert await names("search=jazz") == ["Rock", "Jazz night"]
    assert await names("search=jazz fusion") == ["Rock"]
    assert await names("ordering=-total_capacity") == ["Rock", "Jazz night", "Opera"]
    assert await names("ordering=bogus,total_capacity") == ["Opera", "Jazz night", "Rock"]
    assert await names("status=upcoming&location=Rome") == ["Rock"]
    assert await names("status=cancelled") == []
    bad = await api.client.get("/api/events/?status=paused")
    assert (bad.status, await bad.json()) == (
        400, {"status": ["Select a valid choice. paused is not one of the available choices."]}
    )  # fmt: skip


async def test_put_replaces_and_patch_changes_only_what_is_sent(api: Api) -> None:
    owner = await api.organizer()
    event = await api.event(owner)
    body = {"name": "Renamed", "location": "Paris", "start_time": future(40), "total_capacity": 80}
    response = await api.client.put(f"/api/events/{event['id']}/", json=body, headers=owner.headers)
    # The stored end (day 30) would now come before the new start: refused, unlike the reference.
    assert (response.status, await response.json()) == (
        400,
        {"non_field_errors": ["End time must be after start time."]},
    )
    body["end_time"] = future(40, hours=2)
    response = await api.client.put(f"/api/events/{event['id']}/", json=body, headers=owner.headers)
    assert response.status == 200
    updated = await response.json()
    assert (updated["name"], updated["location"], updated["total_capacity"]) == (
        "Renamed",
        "Paris",
        80,
    )
    response = await api.client.patch(
        f"/api/events/{event['id']}", json={"description": "new"}, headers=owner.headers
    )
    patched = await response.json()
    assert patched["description"] == "new"
    assert patched["name"] == "Renamed"
    missing = await api.client.put(
        f"/api/events/{event['id']}/", json={"name": "x"}, headers=owner.headers
    )
    assert missing.status == 400


async def test_patch_end_time_is_checked_against_the_stored_start(api: Api) -> None:
    owner = await api.organizer()
    event = await api.event(owner, start_time=future(30), end_time=None)
    response = await api.client.patch(
        f"/api/events/{event['id']}/", json={"end_time": future(29)}, headers=owner.headers
    )
    assert (response.status, await response.json()) == (
        400,
        {"non_field_errors": ["End time must be after start time."]},
    )


async def test_capacity_cannot_drop_below_what_was_sold(api: Api, database_url: str) -> None:
    owner, buyer = await api.organizer(), await api.attendee()
    event = await api.event(owner, total_capacity=10)
    ticket = await api.ticket_type(owner, event["id"], quantity_available=10)
    await insert_booking(database_url, buyer.id, event["id"], [(ticket["id"], 6)])
    response = await api.client.patch(
        f"/api/events/{event['id']}/", json={"total_capacity": 5}, headers=owner.headers
    )
    assert (response.status, await response.json()) == (
        400, {"total_capacity": ["Total capacity cannot be less than the tickets already sold or held (6)."]}
    )  # fmt: skip
    ok = await api.client.patch(
        f"/api/events/{event['id']}/", json={"total_capacity": 6}, headers=owner.headers
    )
    assert (await ok.json())["tickets_available"] == 0


async def test_availability_counts_capacity_and_active_stock(api: Api, database_url: str) -> None:
    owner, buyer = await api.organizer(), await api.attendee()
    event = await api.event(owner, total_capacity=100)
    vip = await api.ticket_type(owner, event["id"], quantity_available=30)
    await api.ticket_type(owner, event["id"], quantity_available=40, is_active=False)
    await insert_booking(database_url, buyer.id, event["id"], [(vip["id"], 10)])
    detail = await (await api.client.get(f"/api/events/{event['id']}/")).json()
    assert (detail["tickets_sold"], detail["tickets_available"]) == (10, 20)


async def test_cancelling_an_event_cancels_bookings_returns_stock_closes_types(
    api: Api, database_url: str
) -> None:
    owner, buyer = await api.organizer(), await api.attendee()
    event = await api.event(owner, total_capacity=100)
    ticket = await api.ticket_type(owner, event["id"], quantity_available=50)
    await insert_booking(database_url, buyer.id, event["id"], [(ticket["id"], 3)])
    await insert_booking(database_url, buyer.id, event["id"], [(ticket["id"], 2)])
    response = await api.client.patch(
        f"/api/events/{event['id']}/", json={"status": "cancelled"}, headers=owner.headers
    )
    assert response.status == 200
    cancelled = await response.json()
    assert (cancelled["status"], cancelled["tickets_sold"], cancelled["tickets_available"]) == (
        "cancelled",
        0,
        0,
    )
    conn = await asyncpg.connect(database_url)
    try:
        bookings = await conn.fetch(
            "SELECT status, cancelled_at FROM bookings WHERE event_id = $1", event["id"]
        )
        assert {b["status"] for b in bookings} == {"cancelled"}
        assert all(b["cancelled_at"] is not None for b in bookings)
        row = await conn.fetchrow(
            "SELECT quantity_available, quantity_sold, is_active FROM ticket_types WHERE id = $1",
            ticket["id"],
        )
        assert dict(row) == {"quantity_available": 50, "quantity_sold": 0, "is_active": False}
    finally:
        await conn.close()
    closed = await api.client.post(
        f"/api/events/{event['id']}/ticket-types/",
        json={"name": "Late", "price": "1", "quantity_available": 1},
        headers=owner.headers,
    )
    assert (closed.status, (await closed.json())["code"]) == (400, "event_closed")


async def test_delete_without_bookings_then_404(api: Api) -> None:
    owner = await api.organizer()
    event = await api.event(owner)
    await api.ticket_type(owner, event["id"])
    response = await api.client.delete(f"/api/events/{event['id']}/", headers=owner.headers)
    assert response.status == 204
    gone = await api.client.get(f"/api/events/{event['id']}/")
    assert (gone.status, await gone.json()) == (
        404,
        {"detail": "No Event matches the given query.", "code": "not_found"},
    )


async def test_delete_with_bookings_is_409(api: Api, database_url: str) -> None:
    owner, buyer = await api.organizer(), await api.attendee()
    event = await api.event(owner)
    ticket = await api.ticket_type(owner, event["id"])
    await insert_booking(database_url, buyer.id, event["id"], [(ticket["id"], 1)])
    response = await api.client.delete(f"/api/events/{event['id']}/", headers=owner.headers)
    assert response.status == 409
    assert (await response.json())["code"] == "event_has_bookings"
    assert (await api.client.get(f"/api/events/{event['id']}/")).status == 200


@pytest.mark.parametrize(
    "event_id", ["abc", "1.5", "-1", "99999999999999999999999", "0x10", "²", "9" * 5000]
)
async def test_odd_event_ids_are_404(api: Api, event_id: str) -> None:
    for path in (f"/api/events/{event_id}/", f"/api/events/{event_id}/ticket-types/"):
        response = await api.client.get(path)
        assert response.status == 404, path
