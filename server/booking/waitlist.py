"""The waiting list's rules: joining, leaving, and offering freed seats to the entries in
joining order, each to the first whose quantity fits, as a hold. Pure: no I/O.

Seats freed while entries wait for their type are kept back (``seats.give_back``); at the end
of its batch, each type with something new (``unsettled``) is settled: its kept seats, and
what can be booked of it, are offered to its waiting entries in order; when it no longer sells,
its entries close; and when nobody waits any more, its kept seats are available again.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from server.booking import seats
from server.booking.commands import JoinWaitlist, LeaveWaitlist
from server.booking.outcomes import (
    Booked,
    Cancelled,
    Closed,
    Joined,
    Left,
    Line,
    Offered,
    Outcome,
    Reason,
    Refused,
)
from server.booking.state import BookingState, EntryState, EventState, TicketState

__all__ = [
    "ENTRY_NOT_FOUND",
    "apply",
    "close",
    "join",
    "leave",
    "offer",
    "offer_ended",
    "offerable",
    "release",
    "unsettled",
]

ENTRY_NOT_FOUND = "No WaitlistEntry matches the given query."
EVENT_NOT_FOUND = "No Event matches the given query."
NO_TICKET_TYPE = "No TicketType matches the given query."
LIVE = ("waiting", "offered")


def join(state: EventState, command: JoinWaitlist, now: datetime) -> Outcome:
    if state.status == "missing":
        return Refused(Reason.NOT_FOUND, EVENT_NOT_FOUND)
    ticket = state.types.get(command.ticket_type_id)
    if ticket is None:
        foreign = command.ticket_type_id in state.foreign_types
        detail = "That ticket type belongs to another event." if foreign else NO_TICKET_TYPE
        return Refused(Reason.INVALID_TICKET_TYPES, detail)
    if state.closed(now):
        return Refused(Reason.EVENT_CLOSED, "This event is not open for booking.")
    if not ticket.active:
        return Refused(Reason.TICKET_TYPE_INACTIVE, "The ticket type is not available.")
    if not state.on_sale(ticket, now):
        return Refused(Reason.NOT_ON_SALE, f"{ticket.name} is not on sale.")
    limit = seats.over_limits(state, command.user_id, command.quantity)
    if limit is not None:
        return limit
    if (command.user_id, ticket.id) in state.live_entries:
        return Refused(
            Reason.ALREADY_WAITING, f"You are already on the waiting list for {ticket.name}."
        )
    if min(ticket.available, state.room()) >= command.quantity:
        detail = f"{command.quantity} tickets of {ticket.name} can be booked now."
        return Refused(Reason.TICKETS_AVAILABLE, detail)
    if ticket.price * command.quantity > seats.MAX_TOTAL:
        return Refused(Reason.AMOUNT_TOO_LARGE, "The booking total is too large.")
    return Joined(EntryState(None, command.user_id, ticket.id, command.quantity, changed=True))


def leave(state: EventState, command: LeaveWaitlist) -> Outcome:
    entry = state.entries.get(command.entry_id)
    if entry is None or entry.user_id != command.user_id or entry.status == "left":
        return Refused(Reason.NOT_FOUND, ENTRY_NOT_FOUND)
    booking = state.bookings.get(entry.reference) if entry.reference else None
    if entry.status == "offered" and booking is not None and booking.status == "pending":
        lines = seats.lines(state, booking.items)
        return Left(command.entry_id, Cancelled(booking.reference, booking.user_id, lines))
    return Left(command.entry_id)


def apply(state: EventState, outcome: Joined | Left) -> None:
    if isinstance(outcome, Joined):
        entry = outcome.entry
        state.joined.append(entry)
        state.live_entries.add((entry.user_id, entry.type_id))
        _waiting(state, entry.type_id, 1)
        return
    entry = state.entries[outcome.entry_id]  # its offer, if any, was given back first
    if entry.status == "waiting":
        _waiting(state, entry.type_id, -1)
    state.live_entries.discard((entry.user_id, entry.type_id))
    entry.status, entry.changed = "left", True


def _waiting(state: EventState, type_id: int, change: int) -> None:
    ticket = state.types[type_id]
    ticket.waiting += change
    ticket.changed = ticket.unsettled = True


def offer_ended(state: EventState, booking: BookingState, status: str) -> None:
    """A hold offered to an entry was confirmed (purchased) or given back (expired)."""
    entry = state.entries.get(booking.entry_id) if booking.entry_id is not None else None
    if entry is not None and entry.status in ("offered", "expired"):
        entry.status, entry.changed = status, True


def unsettled(state: EventState, everything: bool) -> list[TicketState]:
    """The types whose waiting list the batch must settle (``everything``: each with entries
    or kept seats, as after a sales window or an organizer's change)."""
    return [
        t for t in state.types.values() if t.unsettled or (everything and (t.waiting or t.kept))
    ]


def offerable(state: EventState, ticket: TicketState) -> int:
    """The most seats of the type one offer could take now: those kept back for its waiting
    list, and those anyone could book."""
    return ticket.kept + max(0, min(ticket.available, state.room()))


def offer(
    state: EventState, ticket: TicketState, entries: Iterable[EntryState], now: datetime
) -> list[Offered]:
    """Offer what the type has to ``entries`` (waiting, in joining order), each to the first
    whose quantity fits (and whose user may have that many more tickets)."""
    offers: list[Offered] = []
    expires_at = now + timedelta(seconds=state.offer_seconds)
    for entry in entries:
        most = offerable(state, ticket)
        if most == 0:
            break
        total = ticket.price * entry.quantity
        if (
            entry.status != "waiting"
            or entry.quantity > most
            or seats.over_limits(state, entry.user_id, entry.quantity) is not None
            or total > seats.MAX_TOTAL
        ):
            continue
        line = Line(ticket.id, ticket.name, entry.quantity, ticket.price)
        hold = Booked(uuid.uuid4(), entry.user_id, (line,), total, expires_at)
        kept = min(entry.quantity, ticket.kept)
        seats.move(state, ticket.id, kept, "kept", "held")
        seats.move(state, ticket.id, entry.quantity - kept, "available", "held")
        seats.count(state, entry.user_id, entry.quantity)
        _waiting(state, ticket.id, -1)
        entry.status, entry.reference, entry.expires_at = "offered", hold.reference, expires_at
        entry.changed = True
        offers.append(Offered(entry, hold, ticket.name))
    return offers


def close(state: EventState, ticket: TicketState, entries: Iterable[EntryState]) -> list[Closed]:
    """The type stopped selling: its waiting entries close."""
    closed: list[Closed] = []
    for entry in entries:
        if entry.status == "waiting":
            entry.status, entry.changed = "closed", True
            state.live_entries.discard((entry.user_id, entry.type_id))
            _waiting(state, ticket.id, -1)
            closed.append(Closed(entry, ticket.name))
    return closed


def release(state: EventState, ticket: TicketState) -> None:
    """Nobody waits for the type any more: its kept seats are available again."""
    if ticket.waiting == 0 and ticket.kept:
        seats.move(state, ticket.id, ticket.kept, "kept", "available")
    ticket.unsettled = False
