"""The state a batch is judged against: an event's counts as read under its row locks."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

__all__ = ["BookingState", "EventState", "TicketState"]


@dataclass(slots=True)
class TicketState:
    id: int
    name: str
    price: Decimal
    available: int  # remaining stock
    sold: int
    active: bool
    changed: bool = False  # counts to write back


@dataclass(slots=True)
class BookingState:
    """A booking a command of the batch names (to cancel it), locked."""

    id: int
    reference: uuid.UUID
    user_id: int
    status: str
    items: list[tuple[int, int]]  # (ticket type id, quantity)


@dataclass(slots=True)
class EventState:
    id: int
    name: str
    status: str
    start_time: datetime
    total_capacity: int
    sold: int
    types: dict[int, TicketState]
    bookings: dict[uuid.UUID, BookingState] = field(default_factory=dict)
    # Ticket type ids the batch names that belong to other events.
    foreign_types: frozenset[int] = frozenset()

    def closed(self, now: datetime) -> bool:
        """Not bookable: cancelled, past, or already started."""
        return self.status in ("cancelled", "past") or self.start_time <= now
