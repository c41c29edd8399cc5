"""A batch's reads and writes: the event's state under its row locks, and everything the batch
decided, written as lists of typed rows (``rows``) in one statement."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

import asyncpg

from server.actors.entries import QUERIES as ENTRY_QUERIES
from server.actors.entries import Entries
from server.actors.rows import CountRow, Writes
from server.booking.commands import (
    BookTickets,
    CancelBooking,
    Command,
    ConfirmHold,
    ExtendHold,
    JoinWaitlist,
    LeaveWaitlist,
)
from server.booking.state import BookingState, EventState, TicketState
from server.db import Queries

__all__ = [
    "QUERIES",
    "Locked",
    "Written",
    "committed",
    "load_state",
    "lock_times",
    "write",
]

QUERIES = (
    "lock_event_for_booking", "lock_late_ticket_types", "ticket_types_elsewhere",
    "lock_bookings", "booking_items_of", "customer_tickets", "apply_batch", "batch_committed",
    *ENTRY_QUERIES,
)  # fmt: skip
Changing = CancelBooking | ConfirmHold | ExtendHold  # the commands that name a booking
Taking = BookTickets | ConfirmHold | JoinWaitlist  # those the limit per customer applies to


class Written(NamedTuple):
    seq: int  # the event's new version
    next_transition: datetime | None  # its next sales-window boundary
    item_ids: list[int]  # the new items' ids, in the order written
    entry_ids: list[int]  # the new waiting-list entries' ids, in the order written


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
        row["quantity_held"] - row["quantity_kept"],  # stored with the kept ones
        row[f"{prefix}sales_start"],
        row[f"{prefix}sales_end"],
        row["quantity_kept"],
        row["waiting"],
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
        held=event["tickets_held"] - event["tickets_kept"],  # stored with the kept ones
        kept=event["tickets_kept"],
        hold_seconds=event["hold_seconds"],
        offer_seconds=event["waitlist_offer_seconds"],
        waiting_room=event["waiting_room"],
        hooked=event["hooked"],
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
    bookings its commands name and the holds now due, and the waiting-list entries of both
    (locked too), the tickets its customers have (when the event limits them), its joiners'
    live entries, and the ticket types outside the lock's snapshot."""
    state = _event(event_id, locked)
    times = lock_times(locked)
    entries = Entries(conn, q, state)
    await _late_types(conn, q, state, commands)
    await entries.lock(c.entry_id for c in commands if isinstance(c, LeaveWaitlist))
    offers = [e.reference for e in state.entries.values() if e.reference is not None]
    due = times.next_expiry is not None and times.next_expiry <= times.stamp
    await _bookings(conn, q, state, commands, offers, due)
    await entries.lock(b.entry_id for b in state.bookings.values() if b.entry_id is not None)
    if state.max_per_customer is not None:
        await _customers(conn, q, state, commands)
    await entries.live(c.user_id for c in commands if isinstance(c, JoinWaitlist))
    return state


async def _late_types(
    conn: asyncpg.Connection, q: Queries, state: EventState, commands: Sequence[Command]
) -> None:
    """Ticket types the commands name that the lock statement did not see: the event's own,
    added by a transaction that statement waited for (its snapshot was older), are locked
    now (the event's lock is held, so nobody else is locking them); the others belong to
    other events, or to none."""
    named = {t for c in commands if isinstance(c, BookTickets) for t, _ in c.items}
    named |= {c.ticket_type_id for c in commands if isinstance(c, JoinWaitlist)}
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
    offers: list[uuid.UUID],
    due: bool,
) -> None:
    """Lock the bookings the commands name, the open offers of the entries they leave, and
    (with ``due``) the holds whose time has run out."""
    named = [c.reference for c in commands if isinstance(c, Changing)] + offers
    if not named and not due:
        return
    rows = await conn.fetch(q["lock_bookings"], state.id, named, due)
    by_id = {
        r["id"]: BookingState(
            r["id"], r["booking_reference"], r["user_id"], r["status"], [], r["created_at"],
            r["expires_at"], r["updated_at"], entry_id=r["entry_id"],
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
    users = sorted({c.user_id for c in commands if isinstance(c, Taking)})
    if users:
        rows = await conn.fetch(q["customer_tickets"], state.id, users)
        state.customers = dict.fromkeys(users, 0)  # a user absent below has none
        state.customers.update((row["user_id"], row["tickets"]) for row in rows)


async def write(conn: asyncpg.Connection, q: Queries, state: EventState, writes: Writes) -> Written:
    """Write the batch; return the event's new seq, its next sales-window boundary and the new
    items' and entries' ids, in the order of ``writes.items`` and ``writes.entries``."""
    counts = [
        CountRow(t.id, t.available, t.sold, t.held + t.kept, t.kept, t.waiting)
        for t in state.types.values()
        if t.changed
    ]
    row = await conn.fetchrow(
        q["apply_batch"], state.id, writes.bookings, writes.items, writes.changes, counts,
        writes.keys, writes.mails, state.sold, state.held + state.kept, writes.transition,
        writes.entries, writes.entry_changes, state.kept, *writes.minute,
        [hook.type for hook in writes.hooks], [hook.data for hook in writes.hooks],
    )  # fmt: skip
    return Written(int(row["seq"]), row["next_transition_at"], row["item_ids"], row["entry_ids"])


async def committed(
    conn: asyncpg.Connection, q: Queries, event_id: int, writes: Writes, stamp: datetime
) -> bool:
    """After an ambiguous failure: did the batch that wrote ``writes`` (its transaction
    stamped ``stamp``) commit?"""
    references = [row.reference for row in writes.bookings]
    changed = [row.booking_id for row in writes.changes]
    return bool(await conn.fetchval(q["batch_committed"], references, changed, stamp, event_id))
