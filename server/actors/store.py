"""A batch's reads and writes: the event's state under its row locks, and everything the batch
decided, written as lists of typed rows (the composite types of migration 0006) in one
statement."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import NamedTuple

import asyncpg

from server.booking.commands import CancelBooking, Command
from server.booking.state import BookingState, EventState, TicketState
from server.db import Queries

__all__ = [
    "QUERIES",
    "KeyRow",
    "MailRow",
    "Writes",
    "committed",
    "load_state",
    "write",
]

QUERIES = (
    "lock_event_for_booking", "lock_late_ticket_types", "ticket_types_elsewhere",
    "lock_bookings_to_cancel", "booking_items_of", "apply_batch", "batch_committed",
)  # fmt: skip


class BookingRow(NamedTuple):
    reference: uuid.UUID
    user_id: int
    total: Decimal


class ItemRow(NamedTuple):
    reference: uuid.UUID
    ticket_type_id: int
    quantity: int
    price: Decimal


class CountRow(NamedTuple):
    ticket_type_id: int
    available: int
    sold: int


class KeyRow(NamedTuple):
    user_id: int
    key: str
    reference: uuid.UUID


class MailRow(NamedTuple):
    user_id: int
    subject: str
    body: str


@dataclass(slots=True)
class Writes:
    """What a batch will write."""

    bookings: list[BookingRow] = field(default_factory=list)
    items: list[ItemRow] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)  # booking ids
    keys: list[KeyRow] = field(default_factory=list)
    mails: list[MailRow] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.bookings or self.cancelled)


def _ticket(row: asyncpg.Record, prefix: str = "") -> TicketState:
    return TicketState(
        row[f"{prefix}id"],
        row[f"{prefix}name"],
        row["price"],
        row["quantity_available"],
        row["quantity_sold"],
        row["is_active"],
    )


async def load_state(
    conn: asyncpg.Connection,
    q: Queries,
    event_id: int,
    locked: list[asyncpg.Record],
    commands: Sequence[Command],
) -> EventState:
    """The event's state from its locked rows (none: there is no such event, and nothing can
    be booked), with what the commands name besides: the bookings to cancel (locked too), and
    the ticket types outside the lock's snapshot."""
    state = _missing(event_id)
    if locked:
        event = locked[0]
        state = EventState(
            id=event["id"],
            name=event["name"],
            status=event["status"],
            start_time=event["start_time"],
            total_capacity=event["total_capacity"],
            sold=event["tickets_sold"],
            types={r["type_id"]: _ticket(r, "type_") for r in locked if r["type_id"] is not None},
        )
    await _late_types(conn, q, state, commands)
    await _bookings_to_cancel(conn, q, state, commands)
    return state


def _missing(event_id: int) -> EventState:
    return EventState(event_id, "", "missing", datetime.min.replace(tzinfo=UTC), 0, 0, {})


async def _late_types(
    conn: asyncpg.Connection, q: Queries, state: EventState, commands: Sequence[Command]
) -> None:
    """Ticket types the commands name that the lock statement did not see: the event's own,
    added by a transaction that statement waited for (its snapshot was older), are locked
    now (the event's lock is held, so nobody else is locking them); the others belong to
    other events, or to none."""
    named = {t for c in commands if not isinstance(c, CancelBooking) for t, _ in c.items}
    unknown = sorted(named - state.types.keys())
    if not unknown:
        return
    for row in await conn.fetch(q["lock_late_ticket_types"], unknown, state.id):
        state.types[row["id"]] = _ticket(row)
    rest = [type_id for type_id in unknown if type_id not in state.types]
    if rest:
        foreign = await conn.fetch(q["ticket_types_elsewhere"], rest)
        state.foreign_types = frozenset(row["id"] for row in foreign)


async def _bookings_to_cancel(
    conn: asyncpg.Connection, q: Queries, state: EventState, commands: Sequence[Command]
) -> None:
    references = [c.reference for c in commands if isinstance(c, CancelBooking)]
    if not references:
        return
    rows = await conn.fetch(q["lock_bookings_to_cancel"], references, state.id)
    by_id = {
        r["id"]: BookingState(r["id"], r["booking_reference"], r["user_id"], r["status"], [])
        for r in rows
    }
    for item in await conn.fetch(q["booking_items_of"], list(by_id)):
        by_id[item["booking_id"]].items.append((item["ticket_type_id"], item["quantity"]))
    state.bookings = {booking.reference: booking for booking in by_id.values()}


async def write(
    conn: asyncpg.Connection, q: Queries, state: EventState, writes: Writes
) -> tuple[int, list[int]]:
    """Write the batch; return the event's new seq and the new items' ids, in the order of
    ``writes.items``."""
    counts = [CountRow(t.id, t.available, t.sold) for t in state.types.values() if t.changed]
    row = await conn.fetchrow(
        q["apply_batch"], state.id, writes.bookings, writes.items, writes.cancelled, counts,
        writes.keys, writes.mails, state.sold,
    )  # fmt: skip
    return int(row["seq"]), row["item_ids"]


async def committed(conn: asyncpg.Connection, q: Queries, writes: Writes, stamp: datetime) -> bool:
    """After an ambiguous failure: did the batch that wrote ``writes`` (its transaction
    stamped ``stamp``) commit?"""
    references = [row.reference for row in writes.bookings]
    return bool(await conn.fetchval(q["batch_committed"], references, writes.cancelled, stamp))
