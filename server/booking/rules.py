"""The booking rules: ``decide`` judges one command against the locked state, ``apply`` moves
the counts by what it decided. Pure: no I/O, and ``now`` is an argument.

A batch calls them in turn for each of its commands, so each one sees the state the commands
before it left (two bookings in one batch cannot both take the last seat).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from server.booking.commands import BookTickets, CancelBooking, Command
from server.booking.outcomes import Booked, Cancelled, Line, Outcome, Reason, Refused
from server.booking.state import EventState

__all__ = ["MAX_TOTAL", "apply", "decide", "repeat_of", "replay"]

MAX_TOTAL = Decimal("9999999999.99")  # bookings.total_price is numeric(12, 2)
INVALID_TYPES = "One or more ticket types are invalid."
FOREIGN_TYPES = "All ticket types must belong to the same event."
BOOKING_NOT_FOUND = "No Booking matches the given query."


def decide(state: EventState, command: Command, now: datetime) -> Outcome:
    """The outcome of ``command`` against ``state``; ``state`` is not changed."""
    if isinstance(command, CancelBooking):
        return _cancel(state, command)
    return _book(state, command, now)


def _book(state: EventState, command: BookTickets, now: datetime) -> Outcome:
    unknown = [type_id for type_id, _ in command.items if type_id not in state.types]
    if unknown:
        # Every unknown id belongs to another event: the reference's "same event" message.
        foreign = all(type_id in state.foreign_types for type_id in unknown)
        return Refused(Reason.INVALID_TICKET_TYPES, FOREIGN_TYPES if foreign else INVALID_TYPES)
    if state.closed(now):
        return Refused(Reason.EVENT_CLOSED, "This event is not open for booking.")
    wanted = sum(quantity for _, quantity in command.items)
    if state.total_capacity < state.sold + wanted:
        return Refused(
            Reason.CAPACITY_EXCEEDED, "Booking exceeds event capacity or ticket availability."
        )
    # In the order of the request, as the reference checks: a short type that is also
    # inactive reports "Not enough tickets".
    for type_id, quantity in command.items:
        ticket = state.types[type_id]
        if ticket.available < quantity:
            return Refused(Reason.SOLD_OUT, f"Not enough tickets for: {ticket.name}.")
        if not ticket.active:
            return Refused(Reason.TICKET_TYPE_INACTIVE, "The ticket type is not available.")
    lines = tuple(
        Line(type_id, state.types[type_id].name, quantity, state.types[type_id].price)
        for type_id, quantity in command.items
    )
    total = sum((line.price * line.quantity for line in lines), Decimal(0))
    if total > MAX_TOTAL:
        return Refused(Reason.AMOUNT_TOO_LARGE, "The booking total is too large.")
    return Booked(command.reference, command.user_id, lines, total)


def _cancel(state: EventState, command: CancelBooking) -> Outcome:
    booking = state.bookings.get(command.reference)
    if booking is None or booking.user_id != command.user_id:
        return Refused(Reason.BOOKING_NOT_FOUND, BOOKING_NOT_FOUND)
    if booking.status != "confirmed":
        return Refused(Reason.NOT_CANCELLABLE, "Booking already cancelled or invalid status.")
    lines = tuple(
        Line(type_id, state.types[type_id].name, quantity, state.types[type_id].price)
        for type_id, quantity in booking.items
    )
    return Cancelled(command.reference, command.user_id, lines)


def apply(state: EventState, outcome: Outcome) -> None:
    """Move the counts of ``state`` by what ``outcome`` decided (a refusal moves nothing)."""
    if isinstance(outcome, Booked) and not outcome.replayed:
        sign = 1
    elif isinstance(outcome, Cancelled):
        sign = -1
        state.bookings[outcome.reference].status = "cancelled"  # a second cancel sees it
    else:
        return
    for line in outcome.lines:
        ticket = state.types[line.type_id]
        ticket.available -= sign * line.quantity
        ticket.sold += sign * line.quantity
        ticket.changed = True
        state.sold += sign * line.quantity


# Idempotency-Key: a key already stored, or repeated within the batch.


def replay(command: BookTickets, stored_hash: bytes, stored: uuid.UUID | None) -> Outcome:
    """The answer to a command whose key another request already holds: that request's
    booking again, if it is the same request and it booked; else a refusal."""
    if stored_hash != command.request_hash:
        return Refused(Reason.KEY_REUSED, "This Idempotency-Key was used with a different request.")
    if stored is None:
        return Refused(Reason.KEY_IN_USE, "This Idempotency-Key is in use.")
    return Booked(stored, replayed=True)


def repeat_of(first: Outcome) -> Outcome:
    """The answer to a repeat, in the same batch, of a command under the same key: what the
    first copy got (as a replay, if it booked)."""
    if isinstance(first, Booked):
        return Booked(first.reference, replayed=True)
    return first
