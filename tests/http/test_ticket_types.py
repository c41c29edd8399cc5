"""Ticket types: list and create as the reference, plus the owner-only detail route."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import Api
from tests.support.bookings import insert_booking

TYPE_KEYS = {
    "id", "name", "description", "price", "quantity_available", "quantity_sold", "is_active",
    "created_at", "updated_at",
    # Holds and sales windows (stampede-api.md §5, §6).
    "quantity_held", "sales_start", "sales_end", "on_sale",
    # The waiting list (§7).
    "waiting",
}  # fmt: skip


async def test_create_answers_the_ticket_type_and_ignores_quantity_sold(api: Api) -> None:
    owner = await api.organizer()
    event = await api.event(owner)
    body = {
        "name": "VIP",
        "price": 99.5,
        "quantity_available": 20,
        "quantity_sold": 7,
        "event": 12345,
    }
    response = await api.client.post(
        f"/api/events/{event['id']}/ticket-types/", json=body, headers=owner.headers
    )
    assert response.status == 201
    created = await response.json()
    assert set(created) == TYPE_KEYS
    assert (created["name"], created["price"], created["quantity_available"]) == (
        "VIP",
        "99.50",
        20,
    )
    assert (created["quantity_sold"], created["is_active"], created["description"]) == (0, True, "")


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        (
            {"quantity_available": 0},
            {"quantity_available": ["Quantity must be at least 1 when creating."]},
        ),
        (
            {"quantity_available": -1},
            {"quantity_available": ["Ensure this value is greater than or equal to 0."]},
        ),
        ({"price": "-1"}, {"price": ["Ensure this value is greater than or equal to 0."]}),
        ({"price": "1.234"}, {"price": ["Ensure that there are no more than 2 decimal places."]}),
        (
            {"price": "123456789"},
            {"price": ["Ensure that there are no more than 8 digits before the decimal point."]},
        ),
        (
            {"price": "12345678901"},
            {"price": ["Ensure that there are no more than 10 digits in total."]},
        ),
        ({"price": "free"}, {"price": ["A valid number is required."]}),
        ({"price": "NaN"}, {"price": ["A valid number is required."]}),
        ({"name": "x" * 101}, {"name": ["Ensure this field has no more than 100 characters."]}),
        ({"is_active": "perhaps"}, {"is_active": ["Must be a valid boolean."]}),
    ],
)
async def test_create_validation_messages(
    api: Api, changes: dict[str, Any], errors: dict[str, Any]
) -> None:
    owner = await api.organizer()
    event = await api.event(owner)
    body = {"name": "Standard", "price": "10.00", "quantity_available": 5, **changes}
    response = await api.client.post(
        f"/api/events/{event['id']}/ticket-types/", json=body, headers=owner.headers
    )
    assert response.status == 400
    assert await response.json() == errors


async def test_names_are_unique_per_event(api: Api) -> None:
    owner = await api.organizer()
    first, second = await api.event(owner), await api.event(owner)
    await api.ticket_type(owner, first["id"], name="VIP")
    await api.ticket_type(owner, second["id"], name="VIP")  # another event: fine
    response = await api.client.post(
        f"/api/events/{first['id']}/ticket-types/",
        json={"name": "VIP", "price": "1", "quantity_available": 1},
        headers=owner.headers,
    )
    assert (response.status, await response.json()) == (
        400,
        {"name": ["This ticket name already exists for this event."]},
    )


async def test_create_on_a_missing_event_is_404(api: Api) -> None:
    owner = await api.organizer()
    response = await api.client.post(
        "/api/events/424242/ticket-types/",
        json={"name": "A", "price": "1", "quantity_available": 1},
        headers=owner.headers,
    )
    assert (response.status, await response.json()) == (
        404,
        {"detail": "No Event matches the given query.", "code": "not_found"},
    )


async def test_list_is_public_paginated_and_orderable(api: Api) -> None:
    owner = await api.organizer()
    event = await api.event(owner)
    for name, price in (("B", "30"), ("A", "10"), ("C", "20")):
        await api.ticket_type(owner, event["id"], name=name, price=price)
    page = await (await api.client.get(f"/api/events/{event['id']}/ticket-types/")).json()
    assert page["count"] == 3
    assert [t["name"] for t in page["results"]] == ["B", "A", "C"]  # by id
    by_price = await (
        await api.client.get(f"/api/events/{event['id']}/ticket-types?ordering=-price")
    ).json()
    assert [t["name"] for t in by_price["results"]] == ["B", "C", "A"]
    empty = await (await api.client.get("/api/events/987654/ticket-types/")).json()
    assert empty == {"count": 0, "next": None, "previous": None, "results": []}


async def test_detail_update_and_patch(api: Api) -> None:
    owner = await api.organizer()
    event = await api.event(owner)
    ticket = await api.ticket_type(owner, event["id"], name="Standard")
    path = f"/api/events/{event['id']}/ticket-types/{ticket['id']}/"
    assert await (await api.client.get(path, headers=owner.headers)).json() == ticket
    body = {"name": "Standard+", "price": "30.00", "quantity_available": 0, "is_active": False}
    updated = await (await api.client.put(path, json=body, headers=owner.headers)).json()
    assert (
        updated["name"],
        updated["price"],
        updated["quantity_available"],
        updated["is_active"],
    ) == ("Standard+", "30.00", 0, False)
    patched = await (
        await api.client.patch(path, json={"is_active": True}, headers=owner.headers)
    ).json()
    assert (patched["name"], patched["is_active"]) == ("Standard+", True)
    wrong_event = await api.event(owner)
    other_path = f"/api/events/{wrong_event['id']}/ticket-types/{ticket['id']}/"
    assert (await api.client.get(other_path, headers=owner.headers)).status == 404


async def test_rename_onto_a_sibling_is_400(api: Api) -> None:
    owner = await api.organizer()
    event = await api.event(owner)
    await api.ticket_type(owner, event["id"], name="VIP")
    ticket = await api.ticket_type(owner, event["id"], name="Standard")
    path = f"/api/events/{event['id']}/ticket-types/{ticket['id']}/"
    response = await api.client.patch(path, json={"name": "VIP"}, headers=owner.headers)
    assert (response.status, await response.json()) == (
        400,
        {"name": ["This ticket name already exists for this event."]},
    )


async def test_delete_only_while_nothing_was_sold(api: Api, database_url: str) -> None:
    owner, buyer = await api.organizer(), await api.attendee()
    event = await api.event(owner)
    unsold = await api.ticket_type(owner, event["id"])
    sold = await api.ticket_type(owner, event["id"])
    await insert_booking(database_url, buyer.id, event["id"], [(sold["id"], 1)])
    response = await api.client.delete(
        f"/api/events/{event['id']}/ticket-types/{sold['id']}/", headers=owner.headers
    )
    assert response.status == 409
    assert (await response.json())["code"] == "ticket_type_has_bookings"
    response = await api.client.delete(
        f"/api/events/{event['id']}/ticket-types/{unsold['id']}", headers=owner.headers
    )
    assert response.status == 204
    listed = await (await api.client.get(f"/api/events/{event['id']}/ticket-types/")).json()
    assert [t["id"] for t in listed["results"]] == [sold["id"]]
