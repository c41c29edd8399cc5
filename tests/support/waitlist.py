"""Waiting-list helpers over the real HTTP API: a sold-out event, joining, one's entries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.support.api import Account, Api


@dataclass
class SoldOut:
    owner: Account
    event: dict[str, Any]
    ticket: dict[str, Any]  # its one ticket type
    bookings: list[tuple[Account, dict[str, Any]]]  # who bought what (all of it)


async def sold_out(api: Api, bookings: list[int], price: str = "20.00", **event: Any) -> SoldOut:
    """An event whose one ticket type is sold out: one buyer per quantity in ``bookings``."""
    owner = await api.organizer()
    seats = sum(bookings)
    made = await api.event(owner, **{"name": "Sold Out", "total_capacity": seats, **event})
    ticket = await api.ticket_type(
        owner, made["id"], name="GA", price=price, quantity_available=seats
    )
    bought = []
    for quantity in bookings:
        buyer = await api.attendee()
        status, booking = await book(api, buyer, made["id"], ticket["id"], quantity)
        assert status == 201, booking
        bought.append((buyer, booking))
    return SoldOut(owner, made, ticket, bought)


async def book(
    api: Api, who: Account, event_id: int, type_id: int, quantity: int, hold: bool = False
) -> tuple[int, Any]:
    body = {
        "event_id": event_id,
        "items": [{"ticket_type_id": type_id, "quantity": quantity}],
        "hold": hold,
    }
    response = await api.client.post("/api/bookings/", json=body, headers=who.headers)
    return response.status, await response.json()


async def join(
    api: Api, who: Account, event_id: int, type_id: int, quantity: int = 1
) -> tuple[int, Any]:
    response = await api.client.post(
        f"/api/events/{event_id}/waitlist/",
        json={"ticket_type_id": type_id, "quantity": quantity},
        headers=who.headers,
    )
    return response.status, await response.json()


async def joined(api: Api, who: Account, shop: SoldOut, quantity: int = 1) -> dict[str, Any]:
    status, entry = await join(api, who, shop.event["id"], shop.ticket["id"], quantity)
    assert status == 201, entry
    result: dict[str, Any] = entry
    return result


async def entries(api: Api, who: Account, **query: str) -> list[dict[str, Any]]:
    response = await api.client.get("/api/users/me/waitlist/", params=query, headers=who.headers)
    assert response.status == 200, await response.text()
    results: list[dict[str, Any]] = (await response.json())["results"]
    return results


async def entry(api: Api, who: Account) -> dict[str, Any]:
    """``who``'s one entry."""
    [only] = await entries(api, who)
    return only


async def cancel(api: Api, who: Account, reference: str) -> int:
    response = await api.client.patch(f"/api/bookings/{reference}/cancel/", headers=who.headers)
    return response.status


async def counts(api: Api, shop: SoldOut) -> dict[str, Any]:
    """The type's public counts, and the event's."""
    ticket = await (
        await api.client.get(
            f"/api/events/{shop.event['id']}/ticket-types/{shop.ticket['id']}/",
            headers=shop.owner.headers,
        )
    ).json()
    event = await (await api.client.get(f"/api/events/{shop.event['id']}/")).json()
    return {
        "available": ticket["quantity_available"],
        "held": ticket["quantity_held"],
        "sold": ticket["quantity_sold"],
        "waiting": ticket["waiting"],
        "tickets_available": event["tickets_available"],
        "tickets_held": event["tickets_held"],
    }
