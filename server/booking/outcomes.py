"""What the rules decide for a command, and what its asker is answered: domain results. The
HTTP edge (server/http/bookings.py) chooses their statuses.

Values: never changed once made (not frozen: a frozen dataclass costs four times as much to
build, and every booking makes several)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from server.booking.commands import CancelBooking, Command

__all__ = [
    "Booked",
    "Cancelled",
    "Line",
    "NotDone",
    "Outcome",
    "Reason",
    "Receipt",
    "ReceiptItem",
    "Refused",
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
    NOT_CANCELLABLE = "booking_not_cancellable"
    BOOKING_NOT_FOUND = "not_found"
    KEY_REUSED = "idempotency_key_reused"
    KEY_IN_USE = "idempotency_key_in_use"


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
    """A new booking as the batch wrote it: everything its 201 answer shows."""

    reference: uuid.UUID
    event_id: int
    event_name: str
    created_at: datetime
    items: tuple[ReceiptItem, ...]
    total: Decimal


@dataclass(slots=True)
class Booked:
    reference: uuid.UUID
    user_id: int = 0
    lines: tuple[Line, ...] = ()
    total: Decimal = Decimal(0)
    replayed: bool = False  # an earlier request's booking, answered again
    receipt: Receipt | None = None  # filled in once the batch has written it


@dataclass(slots=True)
class Cancelled:
    reference: uuid.UUID
    user_id: int = 0
    lines: tuple[Line, ...] = ()  # what is given back


@dataclass(slots=True)
class Refused:
    reason: Reason
    detail: str


@dataclass(slots=True)
class NotDone:
    kind: Unavailable
    detail: str


Outcome = Booked | Cancelled | Refused | NotDone


def booking_unavailable() -> NotDone:
    """The command was not carried out, for certain: retrying is safe."""
    return NotDone(
        Unavailable.UNAVAILABLE,
        "Nothing was done: booking is unavailable right now; retry shortly.",
    )


def outcome_unknown(command: Command) -> NotDone:
    """The command may still be carried out after its asker stopped waiting (it was in a
    transaction whose end is not known): the answer says so, and how to find out."""
    if isinstance(command, CancelBooking):
        detail = (
            "The cancellation could not be confirmed in time and may still happen; "
            f"see GET /api/bookings/{command.reference}/ before cancelling again."
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
