"""What an event actor is asked to do, and what it answers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from server.errors import ApiError

__all__ = [
    "BookTickets",
    "Booked",
    "BookingRejected",
    "CancelBooking",
    "Cancelled",
    "Command",
    "Outcome",
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
