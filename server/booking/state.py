"""The state a batch is judged against: an event's counts as read under its row locks."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

__all__ = ["BookingState", "EntryState", "EventState", "TicketState", "window_open"]


def window_open(opens: datetime | None, closes: datetime | None, now: datetime) -> bool:
    """Whether ``now`` lies inside a sales window (an open end: no limit on that side)."""
    return (opens is None or opens <= now) and (closes is None or now < closes)


@dataclass(slots=True)
class TicketState:
    id: int
    name: str
    price: Decimal
    available: int  # remaining stock (neither held, kept nor sold)
    sold: int
    active: bool
    held: int = 0  # in pending holds
    sales_start: datetime | None = None
    sales_end: datetime | None = None
    kept: int = 0  # freed while entries wait, kept back for the waiting list
    waiting: int = 0  # waiting-list entries waiting
    changed: bool = False  # counts to write back
    unsettled: bool = False  # its waiting list may have seats to offer (or to give back)


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
    entry_id: int | None = None  # the waiting-list entry this hold was offered to
    changed: bool = False  # to write back


@dataclass(slots=True)
class EntryState:
    """A waiting-list entry the batch works on (an id of None: joined in this batch)."""

    id: int | None
    user_id: int
    type_id: int
    quantity: int
    status: str = "waiting"
    reference: uuid.UUID | None = None  # its offer (a hold)
    expires_at: datetime | None = None  # its offer's end
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
    held: int = 0  # in pending holds
    kept: int = 0  # kept back for the waiting list
    hold_seconds: int = 600
    offer_seconds: int = 3600  # a waiting-list offer's hold time
    waiting_room: bool = False  # bookings need an admission from its queue while it applies
    hooked: bool = False  # its organizer has webhooks: the batch writes their deliveries
    max_per_booking: int | None = None
    max_per_customer: int | None = None
    sales_start: datetime | None = None
    sales_end: datetime | None = None
    bookings: dict[uuid.UUID, BookingState] = field(default_factory=dict)
    # Tickets each user of the batch already has (confirmed and pending), when limited.
    customers: dict[int, int] = field(default_factory=dict)
    # Ticket type ids the batch names that belong to other events.
    foreign_types: frozenset[int] = frozenset()
    # Waiting-list entries the batch works on (locked), and those it adds.
    entries: dict[int, EntryState] = field(default_factory=dict)
    joined: list[EntryState] = field(default_factory=list)
    # (user id, ticket type id) of the live entries (waiting or offered) of the batch's joiners.
    live_entries: set[tuple[int, int]] = field(default_factory=set)

    def closed(self, now: datetime) -> bool:
        """Not bookable: cancelled, past, or already started."""
        return self.status in ("cancelled", "past") or self.start_time <= now

    def on_sale(self, ticket: TicketState, now: datetime) -> bool:
        """Inside the event's sales window and the type's own (clamped to the event's)."""
        return window_open(self.sales_start, self.sales_end, now) and window_open(
            ticket.sales_start, ticket.sales_end, now
        )

    def selling(self, ticket: TicketState, now: datetime) -> bool:
        """Whether tickets of the type can be bought now (else its waiting list closes)."""
        return not self.closed(now) and ticket.active and self.on_sale(ticket, now)

    def public(self, now: datetime) -> int:
        """What anyone could book now (the event's "tickets_available")."""
        if self.closed(now):
            return 0
        on_sale = sum(t.available for t in self.types.values() if t.active and self.on_sale(t, now))
        return max(0, min(self.room(), on_sale))

    def room(self) -> int:
        """Seats the event's capacity still allows, beyond those sold, held and kept."""
        return self.total_capacity - self.sold - self.held - self.kept

    def due(self, now: datetime) -> list[BookingState]:
        """The pending holds whose time has run out."""
        return [
            booking
            for booking in self.bookings.values()
            if booking.status == "pending"
            and booking.expires_at is not None
            and booking.expires_at <= now
        ]
