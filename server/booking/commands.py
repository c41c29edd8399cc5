"""What an event's actor is asked to do (imperative). Values: never changed once made (not
frozen: a frozen dataclass costs four times as much to build, and every request makes one)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

__all__ = ["BookTickets", "CancelBooking", "Command"]


@dataclass(slots=True)
class BookTickets:
    """Book ``items`` (ticket type id, quantity) of one event for a user, all or nothing."""

    user_id: int
    items: tuple[tuple[int, int], ...]
    idempotency_key: str | None = None
    request_hash: bytes = b""
    # Chosen before the first attempt, so a retry can tell whether an attempt committed.
    reference: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass(slots=True)
class CancelBooking:
    """Cancel a user's confirmed booking and give its tickets back."""

    user_id: int
    reference: uuid.UUID


Command = BookTickets | CancelBooking
