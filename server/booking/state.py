"""The state a batch is judged against: an event's counts as read under its row locks."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

__all__ = ["BookingState", "EventState", "TicketState", "window_open"]


def window_open(opens: datetime | None, closes: datetime | None, now: datetime) -> bool:
    """Whether ``now`` lies inside a sales window (an open end: no limit on that side)."""
    return (opens is None or opens <= now) and (closes is None or now < closes)


@dataclass(slots=True)
class TicketState:
    id: int
    name: str
    price: Decimal
    available: int  # remaining stock (neither held nor sold)
    sold: int
    active: bool
    held: int = 0
    sales_start: datetime | None = None
    sales_end: datetime | None = None
    changed: bool = False  # counts to write back


@dataclass(slots=True)
class BookingState:
    """A booking the batch works on (to cancel, confirm, extend or expire it), locked."""

    id: int
    reference: uuid.UUID
    user_id: int
    status: str
    items: list[tuple[int, int, Decimal]]  # (ticket type id, quantity, price at booking)
    created_at: datetime | None = None
    expires_at: datetime | None = None
    updated_at: datetime | None = None
    item_ids: dict[int, int] = field(default_factory=dict)  # by ticket type (its answer shows them)
    changed: bool = False  # to write back


@dataclass(slots=True)
class EventState:
    id: int
    name: str
    status: str
    start_time: datetime
    total_capacity: int
    sold: int
    types: dict[int, TicketState]
    held: int = 0
    hold_seconds: int = 600
    max_per_booking: int | None = None
    max_per_customer: int | None = None
    sales_start: datetime | None = None
    sales_end: datetime | None = None
    bookings: dict[uuid.UUID, BookingState] = field(default_factory=dict)
    # Tickets each user of the batch already has (confirmed and pending), when limited.
    customers: dict[int, int] = field(default_factory=dict)
    # Ticket type ids the batch names that belong to other events.
    foreign_types: frozenset[int] = frozenset()

    def closed(self, now: datetime) -> bool:
        """Not bookable: cancelled, past, or already started."""
        return self.status in ("cancelled", "past") or self.start_time <= now

    def on_sale(self, ticket: TicketState, now: datetime) -> bool:
        """Inside the event's sales window and the type's own (clamped to the event's)."""
        return window_open(self.sales_start, self.sales_end, now) and window_open(
            ticket.sales_start, ticket.sales_end, now
        )

    def due(self, now: datetime) -> list[BookingState]:
        """The pending holds whose time has run out."""
        return [
            booking
            for booking in self.bookings.values()
            if booking.status == "pending"
            and booking.expires_at is not None
            and booking.expires_at <= now
        ]
