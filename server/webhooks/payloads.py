"""What a webhook delivery carries: its types, and the ``data`` of each (the booking, or the
event's state). The SQL that writes event cancellations' deliveries builds the same shape
(``enqueue_event_cancellation_hooks``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, get_args

from server.booking.outcomes import Line

__all__ = ["HOOK_TYPES", "HookType", "booking_data", "sold_out_data"]

HookType = Literal[
    "booking.created", "booking.cancelled", "hold.expired", "waitlist.offered", "event.sold_out"
]
HOOK_TYPES: tuple[HookType, ...] = get_args(HookType)


def booking_data(
    event_id: int,
    reference: uuid.UUID,
    user_id: int,
    status: str,
    lines: Iterable[Line],
    expires_at: datetime | None = None,
) -> dict[str, Any]:
    """A booking as a delivery shows it."""
    ordered = sorted(lines, key=lambda line: line.type_id)
    items = [
        {
            "ticket_type_id": line.type_id,
            "ticket_type_name": line.name,
            "quantity": line.quantity,
            "price_at_booking": f"{line.price:.2f}",
        }
        for line in ordered
    ]
    total = sum((line.price * line.quantity for line in ordered), Decimal(0))
    return {
        "booking_reference": str(reference),
        "event_id": event_id,
        "user_id": user_id,
        "status": status,
        "total_price": f"{total:.2f}",
        "expires_at": expires_at.isoformat() if expires_at is not None else None,
        "items": items,
    }


def sold_out_data(event_id: int, name: str, capacity: int, sold: int, held: int) -> dict[str, Any]:
    """An event's state when its last ticket on sale went (sold, or held in a checkout)."""
    return {
        "event_id": event_id,
        "name": name,
        "total_capacity": capacity,
        "tickets_sold": sold,
        "tickets_held": held,
        "tickets_available": 0,
    }
