"""The typed rows a batch writes (the composite types of migrations 0006-0008), and
``Writes``, the lists of them one batch writes in one statement."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

__all__ = [
    "BookingRow",
    "ChangeRow",
    "CountRow",
    "EntryChangeRow",
    "EntryRow",
    "HookRow",
    "ItemRow",
    "KeyRow",
    "MailRow",
    "Minute",
    "Writes",
]


class BookingRow(NamedTuple):
    reference: uuid.UUID
    user_id: int
    total: Decimal
    status: str
    expires_at: datetime | None


class ItemRow(NamedTuple):
    reference: uuid.UUID
    ticket_type_id: int
    quantity: int
    price: Decimal


class ChangeRow(NamedTuple):
    booking_id: int
    status: str
    expires_at: datetime | None


class CountRow(NamedTuple):
    ticket_type_id: int
    available: int
    sold: int
    held: int  # with the kept ones, as stored
    kept: int
    waiting: int


class KeyRow(NamedTuple):
    user_id: int
    key: str
    reference: uuid.UUID


class MailRow(NamedTuple):
    user_id: int
    subject: str
    body: str


class EntryRow(NamedTuple):
    user_id: int
    ticket_type_id: int
    quantity: int
    status: str
    reference: uuid.UUID | None  # its offer, when offered at once


class EntryChangeRow(NamedTuple):
    entry_id: int
    status: str
    reference: uuid.UUID | None  # its offer


class HookRow(NamedTuple):
    """A webhook delivery to write: its type and data (JSON), for each of the organizer's
    webhooks that wants the type."""

    type: str
    data: str


class Minute(NamedTuple):
    """What a batch adds to its event's figures for the minute it commits in."""

    bookings: int = 0  # confirmed (booked at once, or a hold confirmed)
    tickets: int = 0  # theirs
    cancellations: int = 0


@dataclass(slots=True)
class Writes:
    """What a batch will write."""

    bookings: list[BookingRow] = field(default_factory=list)
    items: list[ItemRow] = field(default_factory=list)
    changes: list[ChangeRow] = field(default_factory=list)
    keys: list[KeyRow] = field(default_factory=list)
    mails: list[MailRow] = field(default_factory=list)
    entries: list[EntryRow] = field(default_factory=list)
    entry_changes: list[EntryChangeRow] = field(default_factory=list)
    hooks: list[HookRow] = field(default_factory=list)
    minute: Minute = field(default_factory=Minute)
    transition: bool = False  # a sales window opened or closed: the on-sale state is new

    def __bool__(self) -> bool:
        return bool(
            self.bookings or self.changes or self.entries or self.entry_changes or self.transition
        )
