"""What an event's actor is asked to do (imperative). Values: never changed once made (not
frozen: a frozen dataclass costs four times as much to build, and every request makes one)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

__all__ = [
    "BookTickets",
    "CancelBooking",
    "Command",
    "ConfirmHold",
    "ExtendHold",
    "JoinWaitlist",
    "LeaveWaitlist",
    "Tick",
]


@dataclass(slots=True)
class BookTickets:
    """Book ``items`` (ticket type id, quantity) of one event for a user, all or nothing; with
    ``hold``, keep them for the event's hold time, to be confirmed or given back."""

    user_id: int
    items: tuple[tuple[int, int], ...]
    idempotency_key: str | None = None
    request_hash: bytes = b""
    hold: bool = False
    admitted: bool = False  # a valid queue token for this user and event came with it
    # Chosen before the first attempt, so a retry can tell whether an attempt committed.
    reference: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass(slots=True)
class CancelBooking:
    """Cancel a user's confirmed or pending booking and give its tickets back."""

    user_id: int
    reference: uuid.UUID


@dataclass(slots=True)
class ConfirmHold:
    """Confirm a user's hold: its seats become sold (after expiry, if they still can be had)."""

    user_id: int
    reference: uuid.UUID
    idempotency_key: str | None = None
    request_hash: bytes = b""


@dataclass(slots=True)
class ExtendHold:
    """Give a user's pending hold more time, within three hold times of when it was made."""

    user_id: int
    reference: uuid.UUID


@dataclass(slots=True)
class JoinWaitlist:
    """Put a user on the waiting list of a ticket type, for ``quantity`` tickets."""

    user_id: int
    ticket_type_id: int
    quantity: int


@dataclass(slots=True)
class LeaveWaitlist:
    """Take a user's entry off the waiting list (an open offer is given back)."""

    user_id: int
    entry_id: int


@dataclass(slots=True)
class Tick:
    """Nothing to decide: a batch that only does what is due (holds to expire, a sales window
    that opened or closed, seats to offer after an organizer's change). The event's timer and
    the sweeper send it."""


Command = (
    BookTickets | CancelBooking | ConfirmHold | ExtendHold | JoinWaitlist | LeaveWaitlist | Tick
)
Keyed = BookTickets | ConfirmHold  # the commands that may carry an Idempotency-Key
