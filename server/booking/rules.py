"""The booking rules: ``decide`` judges one command against the locked state, ``apply`` moves
the counts by what it decided, ``expire`` finds the holds whose time ran out. Pure: no I/O, and
``now`` is an argument.

A batch first expires what is due, then calls them in turn for each of its commands, so each
one sees the state the commands before it left (two bookings in one batch cannot both take
the last seat). Seats move between three counts: available, held (pending holds) and sold.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from server.booking import seats, waitlist
from server.booking.commands import (
    BookTickets,
    CancelBooking,
    Command,
    ConfirmHold,
    ExtendHold,
    JoinWaitlist,
    LeaveWaitlist,
)
from server.booking.outcomes import (
    Booked,
    Cancelled,
    Confirmed,
    Expired,
    Extended,
    Joined,
    Left,
    Outcome,
    Reason,
    Refused,
    Ticked,
)
from server.booking.state import BookingState, EventState

__all__ = ["apply", "decide", "expire", "repeat_of", "replay"]

EXTENSIONS = 3  # a hold lasts at most this many hold times from when it was made
INVALID_TYPES = "One or more ticket types are invalid."
FOREIGN_TYPES = "All ticket types must belong to the same event."
BOOKING_NOT_FOUND = "No Booking matches the given query."
QUEUE_REQUIRED = (
    "This on-sale has a waiting room: join its queue (POST /api/events/{event_id}/queue/) and "
    "book with the Queue-Token header once admitted."
)


def decide(state: EventState, command: Command, now: datetime) -> Outcome:
    """The outcome of ``command`` against ``state``; ``state`` is not changed."""
    if isinstance(command, BookTickets):
        return _book(state, command, now)
    if isinstance(command, JoinWaitlist):
        return waitlist.join(state, command, now)
    if isinstance(command, LeaveWaitlist):
        return waitlist.leave(state, command)
    if isinstance(command, CancelBooking | ConfirmHold | ExtendHold):
        booking = state.bookings.get(command.reference)
        if booking is None or booking.user_id != command.user_id:
            return Refused(Reason.NOT_FOUND, BOOKING_NOT_FOUND)
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
    limit = seats.over_limits(state, command.user_id, wanted)
    if limit is not None:
        return limit
    for type_id, _ in command.items:
        if not state.on_sale(state.types[type_id], now):
            return Refused(Reason.NOT_ON_SALE, f"{state.types[type_id].name} is not on sale.")
    if state.waiting_room and not command.admitted and state.public(now) > 0:
        return Refused(Reason.QUEUE_REQUIRED, QUEUE_REQUIRED.format(event_id=state.id))
    lines = seats.lines(state, ((t, q, state.types[t].price) for t, q in command.items))
    short = seats.short(state, lines)
    if short is not None:
        return short
    total = seats.total(lines)
    if total > seats.MAX_TOTAL:
        return Refused(Reason.AMOUNT_TOO_LARGE, "The booking total is too large.")
    expires_at = now + timedelta(seconds=state.hold_seconds) if command.hold else None
    return Booked(command.reference, command.user_id, lines, total, expires_at)


def _cancel(state: EventState, booking: BookingState) -> Outcome:
    if booking.status not in ("confirmed", "pending"):
        return Refused(Reason.NOT_CANCELLABLE, "Booking already cancelled or invalid status.")
    return Cancelled(booking.reference, booking.user_id, seats.lines(state, booking.items))


def _confirm(state: EventState, booking: BookingState, now: datetime) -> Outcome:
    lines = seats.lines(state, booking.items)
    confirmed = Confirmed(booking.reference, booking.user_id, lines, seats.total(lines))
    if booking.status == "confirmed":
        return Confirmed(booking.reference, booking.user_id, lines, confirmed.total, already=True)
    if booking.status == "pending":
        return confirmed  # its seats are still held for it (a batch expires due holds first)
    if booking.status != "expired":
        return Refused(Reason.NOT_PENDING, "Only a pending or expired hold can be confirmed.")
    # Expired: the same seats again, if they can still be had.
    wanted = sum(line.quantity for line in lines)
    blocked = (
        state.closed(now)
        or seats.over_limits(state, booking.user_id, wanted) is not None
        or any(not state.on_sale(state.types[line.type_id], now) for line in lines)
        or seats.short(state, lines) is not None
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
        Expired(
            booking.reference,
            booking.user_id,
            seats.lines(state, booking.items),
            booking.expires_at,
        )
        for booking in state.due(now)
    ]


def apply(state: EventState, outcome: Outcome) -> None:
    """Move the counts of ``state`` by what ``outcome`` decided (a refusal moves nothing)."""
    if isinstance(outcome, Booked):
        if not outcome.replayed:
            for line in outcome.lines:
                target = "held" if outcome.held else "sold"
                seats.move(state, line.type_id, line.quantity, "available", target)
            seats.count(state, outcome.user_id, sum(line.quantity for line in outcome.lines))
    elif isinstance(outcome, Extended):
        booking = state.bookings[outcome.reference]
        booking.expires_at, booking.changed = outcome.expires_at, True
    elif isinstance(outcome, Confirmed):
        if not outcome.already:
            _confirmed(state, state.bookings[outcome.reference], outcome)
    elif isinstance(outcome, Cancelled | Expired):
        booking = state.bookings[outcome.reference]
        seats.give_back(state, outcome.lines, "held" if booking.status == "pending" else "sold")
        seats.count(state, booking.user_id, -_tickets(booking))
        booking.status = "cancelled" if isinstance(outcome, Cancelled) else "expired"
        booking.expires_at, booking.changed = None, True
        waitlist.offer_ended(state, booking, "expired")
    elif isinstance(outcome, Joined | Left):
        if isinstance(outcome, Left) and outcome.released is not None:
            apply(state, outcome.released)  # the open offer is given back
        waitlist.apply(state, outcome)


def _confirmed(state: EventState, booking: BookingState, outcome: Confirmed) -> None:
    source = "held" if booking.status == "pending" else "available"
    for line in outcome.lines:
        seats.move(state, line.type_id, line.quantity, source, "sold")
    if booking.status == "expired":  # taken again: it counts for its customer again
        seats.count(state, booking.user_id, _tickets(booking))
    booking.status, booking.expires_at, booking.changed = "confirmed", None, True
    waitlist.offer_ended(state, booking, "purchased")


def _tickets(booking: BookingState) -> int:
    return sum(quantity for _, quantity, _ in booking.items)


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
