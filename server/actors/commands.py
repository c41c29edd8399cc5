"""What an event actor is asked to do, and what it answers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from server.errors import ApiError, ServiceUnavailable

__all__ = [
    "BookTickets",
    "Booked",
    "BookingRejected",
    "CancelBooking",
    "Cancelled",
    "Command",
    "Outcome",
    "booking_unavailable",
    "outcome_unknown",
]


@dataclass(frozen=True, slots=True)
class BookTickets:
    """Book ``items`` (ticket type id, quantity) of one event for a user, all or nothing."""

    user_id: int
    items: tuple[tuple[int, int], ...]
    idempotency_key: str | None = None
    request_hash: bytes = b""
    # Chosen before the first attempt, so a retry can tell whether an attempt committed.
    reference: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass(frozen=True, slots=True)
class CancelBooking:
    """Cancel a user's confirmed booking and give its tickets back."""

    user_id: int
    reference: uuid.UUID


Command = BookTickets | CancelBooking


@dataclass(frozen=True, slots=True)
class Booked:
    reference: uuid.UUID
    detail: dict[str, Any] | None = None  # the 201 body, when the batch built it
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class Cancelled:
    reference: uuid.UUID


class BookingRejected(ApiError):
    """A command the rules refuse: a 400 for its asker alone; the rest of the batch goes on."""

    status = 400

    def __init__(self, detail: str, code: str, **extra: Any) -> None:
        super().__init__(detail, code=code)
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {**super().body(), **self.extra}


Outcome = Booked | Cancelled | BookingRejected | ApiError


def booking_unavailable() -> ServiceUnavailable:
    """The command was not carried out, for certain: retrying is safe."""
    return ServiceUnavailable(
        "Nothing was done: booking is unavailable right now; retry shortly.",
        code="booking_unavailable",
        headers={"Retry-After": "1"},
    )


def outcome_unknown(command: Command) -> ServiceUnavailable:
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
    return ServiceUnavailable(detail, code="booking_outcome_unknown", headers={"Retry-After": "1"})
