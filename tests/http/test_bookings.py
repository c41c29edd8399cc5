"""The booking routes: shapes, rules and messages, one request at a time."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest

from tests.support.api import Account, Api

DETAIL_KEYS = {
    "booking_reference", "event_id", "event_name", "status", "created_at", "updated_at",
    "cancelled_at", "expires_at", "items", "total_price",
}  # fmt: skip


async def _book(api: Api, who: Account, body: Any, **headers: str) -> tuple[int, Any, Any]:
    response = await api.client.post(
        "/api/bookings/", json=body, headers={**who.headers, **headers}
    )
    return response.status, await response.json(), response.headers


@pytest.fixture
async def shop(api: Api) -> dict[str, Any]:
    owner = await api.organizer()
    event = await api.event(owner, name="Concert", total_capacity=100)
    vip = await api.ticket_type(
        owner, event["id"], name="VIP", price="99.00", quantity_available=10
    )
    standard = await api.ticket_type(
        owner, event["id"], name="Standard", price="25.50", quantity_available=50
    )
    return {
        "owner": owner,
        "event": event,
        "vip": vip,
        "standard": standard,
        "buyer": await api.attendee(),
    }


async def test_booking_several_types_answers_the_whole_detail(
    api: Api, shop: dict[str, Any]
) -> None:
    body = {"event_id": shop["event"]["id"], "items": [
        {"ticket_type_id": shop["vip"]["id"], "quantity": 2},
        {"ticket_type_id": shop["standard"]["id"], "quantity": 3},
    ]}  # fmt: skip
    status, booking, _ = await _book(api, shop["buyer"], body)
    assert status == 201, booking
    assert set(booking) == DETAIL_KEYS
    uuid.UUID(booking["booking_reference"])
    assert (booking["event_id"], booking["event_name"], booking["status"]) == (
        shop["event"]["id"],
        "Concert",
        "confirmed",
    )
    assert booking["total_price"] == "274.50"
    assert [
        (i["ticket_type_name"], i["quantity"], i["price_at_booking"]) for i in booking["items"]
    ] == [
        ("Standard", 3, "25.50"),
        ("VIP", 2, "99.00"),
    ]
    assert booking["cancelled_at"] is None
    fetched = await api.client.get(
        f"/api/bookings/{booking['booking_reference']}", headers=shop["buyer"].headers
    )
    assert await fetched.json() == booking
    event = await (await api.client.get(f"/api/events/{shop['event']['id']}/")).json()
    assert (event["tickets_sold"], event["tickets_available"]) == (5, 55)


async def test_price_is_a_snapshot(api: Api, shop: dict[str, Any]) -> None:
    body = {
        "event_id": shop["event"]["id"],
        "items": [{"ticket_type_id": shop["vip"]["id"], "quantity": 1}],
    }
    _, booking, _ = await _book(api, shop["buyer"], body)
    path = f"/api/events/{shop['event']['id']}/ticket-types/{shop['vip']['id']}/"
    await api.client.patch(path, json={"price": "150.00"}, headers=shop["owner"].headers)
    fetched = await (
        await api.client.get(
            f"/api/bookings/{booking['booking_reference']}", headers=shop["buyer"].headers
        )
    ).json()
    assert fetched["items"][0]["price_at_booking"] == "99.00"
    assert fetched["total_price"] == "99.00"


@pytest.mark.parametrize(
    ("items", "status", "answer"),
    [
        ([], 400, {"items": ["This list may not be empty."]}),
        ("VIP", 400, {"items": ['Expected a list of items but got type "str".']}),
        (
            [{"ticket_type_id": "vip", "quantity": 1}],
            400,
            {"items": [{"ticket_type_id": ["A valid integer is required."]}]},
        ),
        (
            [{"ticket_type_id": 1, "quantity": 0}],
            400,
            {"items": [{"quantity": ["Ensure this value is greater than or equal to 1."]}]},
        ),
        (
            [{"ticket_type_id": 1, "quantity": 1.5}],
            400,
            {"items": [{"quantity": ["A valid integer is required."]}]},
        ),
        ([{"ticket_type_id": 1}], 400, {"items": [{"quantity": ["This field is required."]}]}),
    ],
)
async def test_item_validation(
    api: Api, shop: dict[str, Any], items: Any, status: int, answer: Any
) -> None:
    code, body, _ = await _book(
        api, shop["buyer"], {"event_id": shop["event"]["id"], "items": items}
    )
    assert (code, body) == (status, answer)


async def test_rule_violations_have_their_codes(api: Api, shop: dict[str, Any]) -> None:
    event_id, vip, standard = shop["event"]["id"], shop["vip"]["id"], shop["standard"]["id"]

    async def refused(items: list[tuple[int, int]], event: int = event_id) -> tuple[int, Any]:
        body = {
            "event_id": event,
            "items": [{"ticket_type_id": t, "quantity": q} for t, q in items],
        }
        status, answer, _ = await _book(api, shop["buyer"], body)
        return status, answer

    invalid = "One or more ticket types are invalid."
    assert await refused([(vip, 1), (vip, 1)]) == (
        400,
        {"detail": invalid, "code": "invalid_ticket_types", "non_field_errors": [invalid]},
    )
    assert await refused([(987654, 1)]) == (
        400,
        {"detail": invalid, "code": "invalid_ticket_types", "non_field_errors": [invalid]},
    )
    other = await api.event(shop["owner"])
    foreign = await api.ticket_type(shop["owner"], other["id"])
    same = "All ticket types must belong to the same event."
    assert await refused([(foreign["id"], 1)]) == (
        400,
        {"detail": same, "code": "invalid_ticket_types", "non_field_errors": [same]},
    )
    assert await refused([(vip, 11)]) == (
        400,
        {"detail": "Not enough tickets for: VIP.", "code": "sold_out"},
    )
    assert await refused([(standard, 60), (vip, 41)]) == (
        400, {"detail": "Booking exceeds event capacity or ticket availability.", "code": "capacity_exceeded"}
    )  # fmt: skip
    path = f"/api/events/{event_id}/ticket-types/{vip}/"
    await api.client.patch(path, json={"is_active": False}, headers=shop["owner"].headers)
    assert await refused([(vip, 1)]) == (
        400,
        {"detail": "The ticket type is not available.", "code": "ticket_type_inactive"},
    )
    await api.client.patch(
        f"/api/events/{event_id}/", json={"status": "cancelled"}, headers=shop["owner"].headers
    )
    assert await refused([(standard, 1)]) == (
        400,
        {"detail": "This event is not open for booking.", "code": "event_closed"},
    )
    event = await (await api.client.get(f"/api/events/{event_id}/")).json()
    assert event["tickets_sold"] == 0


async def test_an_event_that_started_is_closed(
    api: Api, shop: dict[str, Any], database_url: str
) -> None:
    import asyncpg

    conn = await asyncpg.connect(database_url)
    await conn.execute(
        "UPDATE events SET start_time = now() - interval '1 minute' WHERE id = $1",
        shop["event"]["id"],
    )
    await conn.close()
    body = {
        "event_id": shop["event"]["id"],
        "items": [{"ticket_type_id": shop["vip"]["id"], "quantity": 1}],
    }
    status, answer, _ = await _book(api, shop["buyer"], body)
    assert (status, answer["code"]) == (400, "event_closed")


async def test_cancel_gives_tickets_back_once(api: Api, shop: dict[str, Any]) -> None:
    body = {
        "event_id": shop["event"]["id"],
        "items": [{"ticket_type_id": shop["vip"]["id"], "quantity": 4}],
    }
    _, booking, _ = await _book(api, shop["buyer"], body)
    path = f"/api/bookings/{booking['booking_reference']}/cancel"
    response = await api.client.patch(path, headers=shop["buyer"].headers)
    assert (response.status, await response.json()) == (200, {"detail": "Booking cancelled."})
    again = await api.client.put(path, headers=shop["buyer"].headers)
    assert (again.status, await again.json()) == (
        400, {"detail": "Booking already cancelled or invalid status.", "code": "booking_not_cancellable"}
    )  # fmt: skip
    fetched = await (
        await api.client.get(
            f"/api/bookings/{booking['booking_reference']}", headers=shop["buyer"].headers
        )
    ).json()
    assert fetched["status"] == "cancelled"
    assert fetched["cancelled_at"] is not None
    types = await (await api.client.get(f"/api/events/{shop['event']['id']}/ticket-types/")).json()
    vip = next(t for t in types["results"] if t["name"] == "VIP")
    assert (vip["quantity_available"], vip["quantity_sold"]) == (10, 0)
    assert (await api.client.post(path, headers=shop["buyer"].headers)).status == 405
    assert (await api.client.get(path, headers=shop["buyer"].headers)).status == 405


async def test_other_peoples_and_odd_references_are_404(api: Api, shop: dict[str, Any]) -> None:
    body = {
        "event_id": shop["event"]["id"],
        "items": [{"ticket_type_id": shop["vip"]["id"], "quantity": 1}],
    }
    _, booking, _ = await _book(api, shop["buyer"], body)
    stranger = await api.attendee()
    for reference in (booking["booking_reference"], str(uuid.uuid4()), "not-a-uuid", "1"):
        for method, path in (
            ("GET", f"/api/bookings/{reference}"),
            ("PUT", f"/api/bookings/{reference}/cancel"),
        ):
            response = await api.client.request(method, path, headers=stranger.headers)
            assert response.status == 404, (method, path)
    fetched = await (
        await api.client.get(
            f"/api/bookings/{booking['booking_reference']}", headers=shop["buyer"].headers
        )
    ).json()
    assert fetched["status"] == "confirmed"


async def test_my_bookings_are_paginated_and_filtered(api: Api, shop: dict[str, Any]) -> None:
    buyer, event_id = shop["buyer"], shop["event"]["id"]
    references = []
    for _ in range(12):
        _, booking, _ = await _book(
            api,
            buyer,
            {
                "event_id": event_id,
                "items": [{"ticket_type_id": shop["standard"]["id"], "quantity": 1}],
            },
        )
        references.append(booking["booking_reference"])
    await api.client.put(f"/api/bookings/{references[0]}/cancel", headers=buyer.headers)
    page = await (await api.client.get("/api/users/me/bookings", headers=buyer.headers)).json()
    assert page["count"] == 12
    assert [b["booking_reference"] for b in page["results"]] == references[::-1][:10]
    cancelled = await (
        await api.client.get("/api/users/me/bookings?status=CANCELLED", headers=buyer.headers)
    ).json()
    assert [b["booking_reference"] for b in cancelled["results"]] == [references[0]]
    other = await (
        await api.client.get(
            f"/api/users/me/bookings?event={event_id + 1000}", headers=buyer.headers
        )
    ).json()
    assert other["count"] == 0
    later = await (
        await api.client.get(
            "/api/users/me/bookings",
            params={"created_at__gte": "2999-01-01T00:00:00Z"},
            headers=buyer.headers,
        )
    ).json()
    assert later["count"] == 0
    odd = await api.client.get("/api/users/me/bookings?event=²", headers=buyer.headers)
    assert (odd.status, await odd.json()) == (400, {"event": ["Enter a number."]})
    bad = await api.client.get(
        "/api/users/me/bookings?status=lost&event=x&created_at__lte=soon", headers=buyer.headers
    )
    assert (bad.status, await bad.json()) == (400, {  # every fault at once, as django-filter
        "status": ["Select a valid choice. lost is not one of the available choices."],
        "event": ["Enter a number."],
        "created_at__lte": ["Enter a valid date/time."],
    })  # fmt: skip
    bad_status = await api.client.get("/api/users/me/bookings?status=lost", headers=buyer.headers)
    assert await bad_status.json() == {
        "status": ["Select a valid choice. lost is not one of the available choices."]
    }
    stranger = await api.attendee()
    assert (
        await (await api.client.get("/api/users/me/bookings", headers=stranger.headers)).json()
    )["count"] == 0


async def test_the_owner_lists_an_events_bookings_with_usernames(
    api: Api, shop: dict[str, Any]
) -> None:
    body = {
        "event_id": shop["event"]["id"],
        "items": [{"ticket_type_id": shop["vip"]["id"], "quantity": 1}],
    }
    await _book(api, shop["buyer"], body)
    response = await api.client.get(
        f"/api/events/{shop['event']['id']}/bookings/", headers=shop["owner"].headers
    )
    page = await response.json()
    assert page["count"] == 1
    assert page["results"][0]["username"] == shop["buyer"].username


async def test_idempotency_key_replays_and_refuses_another_body(
    api: Api, shop: dict[str, Any]
) -> None:
    body = {
        "event_id": shop["event"]["id"],
        "items": [{"ticket_type_id": shop["vip"]["id"], "quantity": 1}],
    }
    status, first, headers = await _book(api, shop["buyer"], body, **{"Idempotency-Key": "order-1"})
    assert status == 201
    assert "Idempotent-Replayed" not in headers
    status, again, headers = await _book(api, shop["buyer"], body, **{"Idempotency-Key": "order-1"})
    assert (status, headers["Idempotent-Replayed"]) == (201, "true")
    assert again == first
    other = {**body, "items": [{"ticket_type_id": shop["vip"]["id"], "quantity": 2}]}
    status, answer, _ = await _book(api, shop["buyer"], other, **{"Idempotency-Key": "order-1"})
    assert (status, answer["code"]) == (422, "idempotency_key_reused")
    someone = await api.attendee()  # keys belong to their user
    status, theirs, _ = await _book(api, someone, body, **{"Idempotency-Key": "order-1"})
    assert status == 201
    assert theirs["booking_reference"] != first["booking_reference"]
    status, answer, _ = await _book(api, shop["buyer"], body, **{"Idempotency-Key": "x" * 256})
    assert (status, answer["code"]) == (400, "invalid_idempotency_key")


async def test_a_refused_booking_frees_its_key(api: Api, shop: dict[str, Any]) -> None:
    too_many = {
        "event_id": shop["event"]["id"],
        "items": [{"ticket_type_id": shop["vip"]["id"], "quantity": 11}],
    }
    status, _, _ = await _book(api, shop["buyer"], too_many, **{"Idempotency-Key": "k"})
    assert status == 400
    fine = {
        "event_id": shop["event"]["id"],
        "items": [{"ticket_type_id": shop["vip"]["id"], "quantity": 1}],
    }
    status, _, _ = await _book(api, shop["buyer"], fine, **{"Idempotency-Key": "k"})
    assert status == 201


async def test_a_key_older_than_24_hours_books_anew(
    api: Api, shop: dict[str, Any], database_url: str
) -> None:
    """An expired key is free again at once: a different body under it is a new booking."""
    body = {
        "event_id": shop["event"]["id"],
        "items": [{"ticket_type_id": shop["vip"]["id"], "quantity": 1}],
    }
    status, first, _ = await _book(api, shop["buyer"], body, **{"Idempotency-Key": "old"})
    assert status == 201
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            "UPDATE idempotency_keys SET created_at = now() - interval '24 hours 1 minute'"
        )
    finally:
        await conn.close()
    other = {**body, "items": [{"ticket_type_id": shop["standard"]["id"], "quantity": 2}]}
    status, second, headers = await _book(api, shop["buyer"], other, **{"Idempotency-Key": "old"})
    assert status == 201, second
    assert "Idempotent-Replayed" not in headers
    assert second["booking_reference"] != first["booking_reference"]
    assert [item["quantity"] for item in second["items"]] == [2]
    # ...and the key now stands for the new booking.
    status, again, headers = await _book(api, shop["buyer"], other, **{"Idempotency-Key": "old"})
    assert (status, headers["Idempotent-Replayed"]) == (201, "true")
    assert again["booking_reference"] == second["booking_reference"]
