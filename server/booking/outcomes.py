"""What the rules decide for a command, and what its asker is answered: domain results. The
HTTP edge (server/http/bookings.py) chooses their statuses.

Values: never changed once made (not frozen: a frozen dataclass costs four times as much to
build, and every booking makes several)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from server.booking.commands import BookTickets, Command, JoinWaitlist, LeaveWaitlist, Tick
from server.booking.state import EntryState

__all__ = [
    "Booked",
    "Cancelled",
    "Closed",
    "Confirmed",
    "Expired",
    "Extended",
    "Joined",
    "Left",
    "Line",
    "NotDone",
    "Offered",
    "Outcome",
    "Reason",
    "Receipt",
    "ReceiptItem",
    "Refused",
    "Settled",
    "Ticked",
    "Unavailable",
    "booking_unavailable",
    "outcome_unknown",
]


class Reason(StrEnum):
    """Why a command was refused; the value is the API's error code."""

    INVALID_TICKET_TYPES = "invalid_ticket_types"
    EVENT_CLOSED = "event_closed"
    CAPACITY_EXCEEDED = "capacity_exceeded"
    SOLD_OUT = "sold_out"
    TICKET_TYPE_INACTIVE = "ticket_type_inactive"
    AMOUNT_TOO_LARGE = "amount_too_large"
    NOT_ON_SALE = "not_on_sale"
    BOOKING_LIMIT = "booking_limit_exceeded"
    CUSTOMER_LIMIT = "customer_limit_exceeded"
    NOT_CANCELLABLE = "booking_not_cancellable"
    NOT_FOUND = "not_found"
    HOLD_EXPIRED = "hold_expired"
    NOT_PENDING = "not_pending"
    EXTENSION_LIMIT = "hold_extension_limit"
    KEY_REUSED = "idempotency_key_reused"
    KEY_IN_USE = "idempotency_key_in_use"
    TICKETS_AVAILABLE = "tickets_available"
    QUEUE_REQUIRED = "queue_required"
    ALREADY_WAITING = "already_waiting"


class Unavailable(StrEnum):
    """Why a command got no decision; the value is the API's error code."""

    BUSY = "booking_busy"  # refused before it was queued: nothing done
    UNAVAILABLE = "booking_unavailable"  # never carried out: nothing done
    UNKNOWN = "booking_outcome_unknown"  # may still be carried out


@dataclass(slots=True)
class Line:
    """One ticket type of a booking, at the price it was booked for."""

    type_id: int
    name: str
    quantity: int
    price: Decimal


@dataclass(slots=True)
class ReceiptItem:
    id: int
    ticket_type_name: str
    quantity: int
    price: Decimal


@dataclass(slots=True)
class Receipt:
    """A booking as the batch left it: everything its answer shows (made, confirmed, or
    given more time)."""

    reference: uuid.UUID
    event_id: int
    event_name: str
    status: str
    created_at: datetime
    updated_at: datetime
    items: tuple[ReceiptItem, ...]
    total: Decimal
    expires_at: datetime | None = None  # a hold's


@dataclass(slots=True)
class Booked:
    reference: uuid.UUID
    user_id: int = 0
    lines: tuple[Line, ...] = ()
    total: Decimal = Decimal(0)
    expires_at: datetime | None = None  # a hold: pending until then
    replayed: bool = False  # an earlier request's booking, answered again
    receipt: Receipt | None = None  # filled in once the batch has written it

    @property
    def held(self) -> bool:
        return self.expires_at is not None


@dataclass(slots=True)
class Cancelled:
    reference: uuid.UUID
    user_id: int = 0
    lines: tuple[Line, ...] = ()  # what is given back


@dataclass(slots=True)
class Confirmed:
    """A hold confirmed; ``already``: it was confirmed before (nothing changes)."""

    reference: uuid.UUID
    user_id: int = 0
    lines: tuple[Line, ...] = ()
    total: Decimal = Decimal(0)
    already: bool = False
    receipt: Receipt | None = None  # filled in once the batch has written it


@dataclass(slots=True)
class Extended:
    reference: uuid.UUID
    expires_at: datetime
    receipt: Receipt | None = None  # filled in once the batch has written it


@dataclass(slots=True)
class Expired:
    """A hold whose time ran out: its seats are given back."""

    reference: uuid.UUID
    user_id: int
    lines: tuple[Line, ...]
    expires_at: datetime | None = None  # when it ran out


@dataclass(slots=True)
class Joined:
    """On the waiting list (perhaps offered seats at once: see the entry's status)."""

    entry: EntryState  # its id is filled in once the batch has written it


@dataclass(slots=True)
class Left:
    """Off the waiting list; ``released``: the open offer given back with it."""

    entry_id: int
    released: Cancelled | None = None


@dataclass(slots=True)
class Offered:
    """Freed seats offered to a waiting entry: a hold made for its user."""

    entry: EntryState
    hold: Booked
    type_name: str


@dataclass(slots=True)
class Closed:
    """A waiting entry closed: its ticket type stopped selling."""

    entry: EntryState
    type_name: str


@dataclass(slots=True)
class Ticked:
    """What a Tick is answered: the batch did what was due."""


@dataclass(slots=True)
class Refused:
    reason: Reason
    detail: str
    extra: Mapping[str, int] = field(default_factory=dict)  # e.g. a limit and what is held


@dataclass(slots=True)
class NotDone:
    kind: Unavailable
    detail: str


Outcome = (
    Booked | Cancelled | Confirmed | Extended | Expired | Joined | Left | Ticked | Refused | NotDone
)
# What a batch does on its own, besides answering its commands.
Settled = Expired | Offered | Closed


def booking_unavailable() -> NotDone:
    """The command was not carried out, for certain: retrying is safe."""
    return NotDone(
        Unavailable.UNAVAILABLE,
        "Nothing was done: booking is unavailable right now; retry shortly.",
    )


def outcome_unknown(command: Command) -> NotDone:
    """The command may still be carried out after its asker stopped waiting (it was in a
    transaction whose end is not known): the answer says so, and how to find out."""
    if isinstance(command, Tick):
        detail = "Not done in time."
    elif isinstance(command, JoinWaitlist | LeaveWaitlist):
        detail = (
            "The change could not be confirmed in time and may still happen; see "
            "GET /api/users/me/waitlist/ before trying again."
        )
    elif not isinstance(command, BookTickets):
        detail = (
            "The change could not be confirmed in time and may still happen; "
            f"see GET /api/bookings/{command.reference}/ before trying again."
        )
    elif command.idempotency_key is not None:
        detail = (
            "The booking could not be confirmed in time and may still be made; retry with the "
            "same Idempotency-Key: the retry answers with the booking if it was made."
        )
    else:
        detail = (
            "The booking could not be confirmed in time and may still be made; see "
            "GET /api/users/me/bookings/ before booking again."
        )
    return NotDone(Unavailable.UNKNOWN, detail)
