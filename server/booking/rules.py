"""The booking rules: ``decide`` judges one command against the locked state, ``apply`` moves
the counts by what it decided, ``expire`` finds the holds whose time ran out. Pure: no I/O, and
``now`` is an argument.

A batch first expires what is due, then calls them in turn for each of its commands, so each
one sees the state the commands before it left (two bookings in one batch cannot both take
the last seat). Seats move between three counts: available, held (pending holds) and sold.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal

from server.booking.commands import BookTickets, CancelBooking, Command, ConfirmHold, ExtendHold
from server.booking.outcomes import (
    Booked,
    Cancelled,
    Confirmed,
    Expired,
    Extended,
    Line,
    Outcome,
    Reason,
    Refused,
    Ticked,
)
from server.booking.state import BookingState, EventState

__all__ = ["MAX_TOTAL", "apply", "decide", "expire", "repeat_of", "replay"]

MAX_TOTAL = Decimal("9999999999.99")  # bookings.total_price is numeric(12, 2)
EXTENSIONS = 3  # a hold lasts at most this many hold times from when it was made
INVALID_TYPES = "One or more ticket types are invalid."
FOREIGN_TYPES = "All ticket types must belong to the same event."
BOOKING_NOT_FOUND = "No Booking matches the given query."


def decide(state: EventState, command: Command, now: datetime) -> Outcome:
    """The outcome of ``command`` against ``state``; ``state`` is not changed."""
    if isinstance(command, BookTickets):
        return _book(state, command, now)
    if isinstance(command, CancelBooking | ConfirmHold | ExtendHold):
        booking = state.bookings.get(command.reference)
        if booking is None or booking.user_id != command.user_id:
            return Refused(Reason.BOOKING_NOT_FOUND, BOOKING_NOT_FOUND)
        if isinstance(command, CancelBooking):
            return _cancel(state, booking)
        if isinstance(command, ConfirmHold):
            return _confirm(state, booking, now)
        return _extend(state, booking, now)
    return Ticked()


def _book(state: EventState, command: BookTickets, now: datetime) -> Outcome:
    unknown = [type_id for type_id, _ in command.items if type_id not in state.types]
    if unknown:
        # Every unknown id belongs to another event: the reference's "same event" message.
        foreign = all(type_id in state.foreign_types for type_id in unknown)
        return Refused(Reason.INVALID_TICKET_TYPES, FOREIGN_TYPES if foreign else INVALID_TYPES)
    if state.closed(now):
        return Refused(Reason.EVENT_CLOSED, "This event is not open for booking.")
    wanted = sum(quantity for _, quantity in command.items)
    limit = _over_limits(state, command.user_id, wanted)
    if limit is not None:
        return limit
    for type_id, _ in command.items:
        if not state.on_sale(state.types[type_id], now):
            return Refused(Reason.NOT_ON_SALE, f"{state.types[type_id].name} is not on sale.")
    lines = _lines(state, ((t, q, state.types[t].price) for t, q in command.items))
    short = _short(state, lines)
    if short is not None:
        return short
    total = sum((line.price * line.quantity for line in lines), Decimal(0))
    if total > MAX_TOTAL:
        return Refused(Reason.AMOUNT_TOO_LARGE, "The booking total is too large.")
    expires_at = now + timedelta(seconds=state.hold_seconds) if command.hold else None
    return Booked(command.reference, command.user_id, lines, total, expires_at)


def _over_limits(state: EventState, user_id: int, wanted: int) -> Refused | None:
    if state.max_per_booking is not None and wanted > state.max_per_booking:
        limit = state.max_per_booking
        return Refused(Reason.BOOKING_LIMIT, f"At most {limit} tickets per booking.")
    if state.max_per_customer is not None:
        limit, already = state.max_per_customer, state.customers.get(user_id, 0)
        if already + wanted > limit:
            detail = f"At most {limit} tickets per customer for this event; you have {already}."
            return Refused(Reason.CUSTOMER_LIMIT, detail, {"limit": limit, "already": already})
    return None


def _short(state: EventState, lines: tuple[Line, ...]) -> Refused | None:
    """Why the lines cannot all be taken now (capacity, then each type in order, as the
    reference checks: a short type that is also inactive reports "Not enough tickets")."""
    if state.total_capacity < state.sold + state.held + sum(line.quantity for line in lines):
        return Refused(
            Reason.CAPACITY_EXCEEDED, "Booking exceeds event capacity or ticket availability."
        )
    for line in lines:
        ticket = state.types[line.type_id]
        if ticket.available < line.quantity:
            return Refused(Reason.SOLD_OUT, f"Not enough tickets for: {ticket.name}.")
        if not ticket.active:
            return Refused(Reason.TICKET_TYPE_INACTIVE, "The ticket type is not available.")
    return None


def _lines(state: EventState, items: Iterable[tuple[int, int, Decimal]]) -> tuple[Line, ...]:
    return tuple(Line(t, state.types[t].name, q, price) for t, q, price in items)


def _total(lines: tuple[Line, ...]) -> Decimal:
    return sum((line.price * line.quantity for line in lines), Decimal(0))


def _cancel(state: EventState, booking: BookingState) -> Outcome:
    if booking.status not in ("confirmed", "pending"):
        return Refused(Reason.NOT_CANCELLABLE, "Booking already cancelled or invalid status.")
    return Cancelled(booking.reference, booking.user_id, _lines(state, booking.items))


def _confirm(state: EventState, booking: BookingState, now: datetime) -> Outcome:
    lines = _lines(state, booking.items)
    confirmed = Confirmed(booking.reference, booking.user_id, lines, _total(lines))
    if booking.status == "confirmed":
        return Confirmed(booking.reference, booking.user_id, lines, _total(lines), already=True)
    if booking.status == "pending":
        return confirmed  # its seats are still held for it (a batch expires due holds first)
    if booking.status != "expired":
        return Refused(Reason.NOT_PENDING, "Only a pending or expired hold can be confirmed.")
    # Expired: the same seats again, if they can still be had.
    wanted = sum(line.quantity for line in lines)
    blocked = (
        state.closed(now)
        or _over_limits(state, booking.user_id, wanted) is not None
        or any(not state.on_sale(state.types[line.type_id], now) for line in lines)
        or _short(state, lines) is not None
    )
    if blocked:
        return Refused(
            Reason.HOLD_EXPIRED, "This hold expired and its tickets are no longer available."
        )
    return confirmed


def _extend(state: EventState, booking: BookingState, now: datetime) -> Outcome:
    if booking.status != "pending" or booking.expires_at is None or booking.expires_at <= now:
        return Refused(Reason.NOT_PENDING, "Only a pending hold can be extended.")
    hold = timedelta(seconds=state.hold_seconds)
    cap = (booking.created_at or now) + EXTENSIONS * hold
    if booking.expires_at >= cap:
        detail = f"A hold lasts at most {EXTENSIONS} hold times ({EXTENSIONS * hold})."
        return Refused(Reason.EXTENSION_LIMIT, detail)
    return Extended(booking.reference, max(booking.expires_at, min(now + hold, cap)))


def expire(state: EventState, now: datetime) -> list[Expired]:
    """The holds whose time has run out, to be given back."""
    return [
        Expired(booking.reference, booking.user_id, _lines(state, booking.items))
        for booking in state.due(now)
    ]


def apply(state: EventState, outcome: Outcome) -> None:
    """Move the counts of ``state`` by what ``outcome`` decided (a refusal moves nothing)."""
    if isinstance(outcome, Booked):
        if not outcome.replayed:
            _move(state, outcome.lines, "available", "held" if outcome.held else "sold")
            tickets = sum(line.quantity for line in outcome.lines)
            state.customers[outcome.user_id] = state.customers.get(outcome.user_id, 0) + tickets
    elif isinstance(outcome, Extended):
        booking = state.bookings[outcome.reference]
        booking.expires_at, booking.changed = outcome.expires_at, True
    elif isinstance(outcome, Confirmed):
        if not outcome.already:
            booking = state.bookings[outcome.reference]
            source = "held" if booking.status == "pending" else "available"
            _move(state, outcome.lines, source, "sold")
            if booking.status == "expired":  # taken again: it counts for its customer again
                _count(state, booking, 1)
            booking.status, booking.expires_at, booking.changed = "confirmed", None, True
    elif isinstance(outcome, Cancelled | Expired):
        booking = state.bookings[outcome.reference]
        source = "held" if booking.status == "pending" else "sold"
        _move(state, outcome.lines, source, "available")
        _count(state, booking, -1)
        booking.status = "cancelled" if isinstance(outcome, Cancelled) else "expired"
        booking.expires_at, booking.changed = None, True


def _move(state: EventState, lines: tuple[Line, ...], source: str, target: str) -> None:
    """Move the lines' seats from one count to another, on their types and on the event."""
    for line in lines:
        ticket = state.types[line.type_id]
        for count, change in ((source, -line.quantity), (target, line.quantity)):
            setattr(ticket, count, getattr(ticket, count) + change)
            if count != "available":
                setattr(state, count, getattr(state, count) + change)
        ticket.changed = True


def _count(state: EventState, booking: BookingState, sign: int) -> None:
    tickets = sum(quantity for _, quantity, _ in booking.items)
    state.customers[booking.user_id] = state.customers.get(booking.user_id, 0) + sign * tickets


# Idempotency-Key: a key already stored, or repeated within the batch.


def replay(
    command: BookTickets | ConfirmHold, stored_hash: bytes, stored: uuid.UUID | None
) -> Outcome:
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
    if isinstance(first, Booked | Confirmed):
        return Booked(first.reference, replayed=True)
    return first
