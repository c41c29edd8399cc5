"""Rows rendered as the reference API's JSON: ISO times with ``Z``, decimals as strings."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from server.booking.outcomes import Receipt
from server.http.shapes.bookings import BookingOut
from server.http.shapes.events import EventOut, TicketTypeOut
from server.http.shapes.waitlist import WaitlistEntryOut

__all__ = [
    "booking_item_json",
    "booking_json",
    "event_json",
    "iso",
    "money",
    "receipt_json",
    "ticket_type_json",
    "waitlist_entry_json",
]

# The fields each shape declares (server/http/shapes/), in its order.
EVENT_FIELDS = tuple(EventOut.model_fields)
TICKET_TYPE_FIELDS = tuple(TicketTypeOut.model_fields)
BOOKING_FIELDS = tuple(f for f in BookingOut.model_fields if f not in ("items", "total_price"))
ENTRY_FIELDS = tuple(WaitlistEntryOut.model_fields)


# Both are pure and hot (every booking's answer); a batch's bookings share their moment and
# an event's prices are few, so each is rendered once.
@functools.lru_cache(maxsize=4096)
def iso(moment: datetime | None) -> str | None:
    """DRF's format: ISO 8601 in UTC, ``Z`` for the zone, microseconds only when present."""
    if moment is None:
        return None
    text = moment.astimezone(UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"


@functools.lru_cache(maxsize=4096)
def money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Decimal):
        return money(value)
    if isinstance(value, UUID):
        return str(value)
    return value


def event_json(row: Mapping[str, Any]) -> dict[str, Any]:
    body = {name: _plain(row[name]) for name in EVENT_FIELDS if name != "waiting_room"}
    admit, session = row["room_admit_per_minute"], row["room_session_seconds"]
    body["waiting_room"] = (
        None if admit is None else {"admit_per_minute": admit, "session_seconds": session}
    )
    return body


def ticket_type_json(row: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _plain(row[name]) for name in TICKET_TYPE_FIELDS}


def waitlist_entry_json(row: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _plain(row[name]) for name in ENTRY_FIELDS}


def booking_item_json(
    item_id: int, ticket_type_name: str, quantity: int, price: Decimal
) -> dict[str, Any]:
    return {
        "id": item_id,
        "ticket_type_name": ticket_type_name,
        "quantity": quantity,
        "price_at_booking": money(price),
    }


def booking_json(row: Mapping[str, Any], items: list[dict[str, Any]]) -> dict[str, Any]:
    """A booking's detail: ``row`` holds its fields, ``items`` its lines (ordered here by
    ticket type name, as the reference orders them)."""
    body = {name: _plain(row[name]) for name in BOOKING_FIELDS}
    body["items"] = sorted(items, key=lambda line: (line["ticket_type_name"], line["id"]))
    body["total_price"] = money(row["total_price"])
    return body


def receipt_json(receipt: Receipt) -> dict[str, Any]:
    """A booking's detail from what its batch wrote: the shape of ``booking_json``, built
    straight from known types (this is every booking's answer)."""
    created = iso(receipt.created_at)
    updated = created if receipt.updated_at is receipt.created_at else iso(receipt.updated_at)
    items = [
        {
            "id": item.id,
            "ticket_type_name": item.ticket_type_name,
            "quantity": item.quantity,
            "price_at_booking": money(item.price),
        }
        for item in receipt.items
    ]
    if len(items) > 1:
        items.sort(key=lambda line: (line["ticket_type_name"], line["id"]))
    return {
        "booking_reference": str(receipt.reference),
        "event_id": receipt.event_id,
        "event_name": receipt.event_name,
        "status": receipt.status,
        "created_at": created,
        "updated_at": updated,
        "cancelled_at": None,
        "expires_at": iso(receipt.expires_at),
        "items": items,
        "total_price": money(receipt.total),
    }
