"""A batch's reads and writes: the event's state under its row locks, and everything the batch
decided, written as lists of typed rows (the composite types of migrations 0006-0007) in one
statement."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import NamedTuple

import asyncpg

from server.booking.commands import BookTickets, Command, ConfirmHold, Tick
from server.booking.state import BookingState, EventState, TicketState
from server.db import Queries

__all__ = [
    "QUERIES",
    "BookingRow",
    "ChangeRow",
    "ItemRow",
    "KeyRow",
    "Locked",
    "MailRow",
    "Writes",
    "committed",
    "load_state",
    "lock_times",
    "write",
]

QUERIES = (
    "lock_event_for_booking", "lock_late_ticket_types", "ticket_types_elsewhere",
    "lock_bookings", "booking_items_of", "customer_tickets", "apply_batch", "batch_committed",
)  # fmt: skip


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
    held: int


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
    changes: list[ChangeRow] = field(default_factory=list)
    keys: list[KeyRow] = field(default_factory=list)
    mails: list[MailRow] = field(default_factory=list)
    transition: bool = False  # a sales window opened or closed: the on-sale state is new

    def __bool__(self) -> bool:
        return bool(self.bookings or self.changes or self.transition)


@dataclass(frozen=True, slots=True)
class Locked:
    """The event row as the lock statement read it, beyond the state: its timestamps."""

    stamp: datetime  # the transaction's now()
    next_expiry: datetime | None  # the earliest pending hold's end
    next_transition: datetime | None  # the next sales-window boundary


def _ticket(row: asyncpg.Record, prefix: str = "") -> TicketState:
    return TicketState(
        row[f"{prefix}id"],
        row[f"{prefix}name"],
        row["price"],
        row["quantity_available"],
        row["quantity_sold"],
        row["is_active"],
        row["quantity_held"],
        row[f"{prefix}sales_start"],
        row[f"{prefix}sales_end"],
    )


def _event(event_id: int, locked: list[asyncpg.Record]) -> EventState:
    if not locked:  # no such event (any more): nothing can be booked
        return EventState(event_id, "", "missing", datetime.min.replace(tzinfo=UTC), 0, 0, {})
    event = locked[0]
    return EventState(
        id=event["id"],
        name=event["name"],
        status=event["status"],
        start_time=event["start_time"],
        total_capacity=event["total_capacity"],
        sold=event["tickets_sold"],
        held=event["tickets_held"],
        hold_seconds=event["hold_seconds"],
        max_per_booking=event["max_tickets_per_booking"],
        max_per_customer=event["max_tickets_per_customer"],
        sales_start=event["sales_start"],
        sales_end=event["sales_end"],
        types={r["type_id"]: _ticket(r, "type_") for r in locked if r["type_id"] is not None},
    )


def lock_times(locked: list[asyncpg.Record]) -> Locked:
    if not locked:
        return Locked(datetime.now(UTC), None, None)  # nothing is written then
    row = locked[0]
    return Locked(row["stamp"], row["next_expiry"], row["next_transition_at"])


async def load_state(
    conn: asyncpg.Connection,
    q: Queries,
    event_id: int,
    locked: list[asyncpg.Record],
    commands: Sequence[Command],
) -> EventState:
    """The event's state from its locked rows, with what the batch needs besides: the
    bookings its commands name and the holds now due (locked too), the tickets its customers
    have (when the event limits them), and the ticket types outside the lock's snapshot."""
    state = _event(event_id, locked)
    times = lock_times(locked)
    await _late_types(conn, q, state, commands)
    due = times.next_expiry is not None and times.next_expiry <= times.stamp
    await _bookings(conn, q, state, commands, due)
    if state.max_per_customer is not None:
        await _customers(conn, q, state, commands)
    return state


async def _late_types(
    conn: asyncpg.Connection, q: Queries, state: EventState, commands: Sequence[Command]
) -> None:
    """Ticket types the commands name that the lock statement did not see: the event's own,
    added by a transaction that statement waited for (its snapshot was older), are locked
    now (the event's lock is held, so nobody else is locking them); the others belong to
    other events, or to none."""
    named = {t for c in commands if isinstance(c, BookTickets) for t, _ in c.items}
    unknown = sorted(named - state.types.keys())
    if not unknown:
        return
    for row in await conn.fetch(q["lock_late_ticket_types"], unknown, state.id):
        state.types[row["id"]] = _ticket(row)
    rest = [type_id for type_id in unknown if type_id not in state.types]
    if rest:
        foreign = await conn.fetch(q["ticket_types_elsewhere"], rest)
        state.foreign_types = frozenset(row["id"] for row in foreign)


async def _bookings(
    conn: asyncpg.Connection,
    q: Queries,
    state: EventState,
    commands: Sequence[Command],
    due: bool,
) -> None:
    named = [c.reference for c in commands if not isinstance(c, BookTickets | Tick)]
    if not named and not due:
        return
    rows = await conn.fetch(q["lock_bookings"], state.id, named, due)
    by_id = {
        r["id"]: BookingState(
            r["id"], r["booking_reference"], r["user_id"], r["status"], [], r["created_at"],
            r["expires_at"], r["updated_at"],
        )
        for r in rows
    }  # fmt: skip
    for item in await conn.fetch(q["booking_items_of"], list(by_id)):
        booking = by_id[item["booking_id"]]
        booking.items.append((item["ticket_type_id"], item["quantity"], item["price_at_booking"]))
        booking.item_ids[item["ticket_type_id"]] = item["id"]
    state.bookings = {booking.reference: booking for booking in by_id.values()}


async def _customers(
    conn: asyncpg.Connection, q: Queries, state: EventState, commands: Sequence[Command]
) -> None:
    users = sorted({c.user_id for c in commands if isinstance(c, BookTickets | ConfirmHold)})
    if users:
        rows = await conn.fetch(q["customer_tickets"], state.id, users)
        state.customers = {row["user_id"]: row["tickets"] for row in rows}


async def write(
    conn: asyncpg.Connection, q: Queries, state: EventState, writes: Writes
) -> tuple[int, datetime | None, list[int]]:
    """Write the batch; return the event's new seq, its next sales-window boundary and the new
    items' ids, in the order of ``writes.items``."""
    counts = [
        CountRow(t.id, t.available, t.sold, t.held) for t in state.types.values() if t.changed
    ]
    row = await conn.fetchrow(
        q["apply_batch"], state.id, writes.bookings, writes.items, writes.changes, counts,
        writes.keys, writes.mails, state.sold, state.held, writes.transition,
    )  # fmt: skip
    return int(row["seq"]), row["next_transition_at"], row["item_ids"]


async def committed(conn: asyncpg.Connection, q: Queries, writes: Writes, stamp: datetime) -> bool:
    """After an ambiguous failure: did the batch that wrote ``writes`` (its transaction
    stamped ``stamp``) commit?"""
    references = [row.reference for row in writes.bookings]
    changed = [row.booking_id for row in writes.changes]
    return bool(await conn.fetchval(q["batch_committed"], references, changed, stamp))
