"""The booking rules on their own (server/booking/rules.py): no database, no clock."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from server.booking.commands import BookTickets, CancelBooking, ConfirmHold, ExtendHold
from server.booking.outcomes import (
    Booked,
    Cancelled,
    Confirmed,
    Expired,
    Extended,
    Line,
    Reason,
    Refused,
)
from server.booking.rules import apply, decide, expire, repeat_of, replay
from server.booking.state import BookingState, EventState, TicketState

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)


def _event(capacity: int = 10, sold: int = 0, **changes: object) -> EventState:
    state = EventState(
        id=1,
        name="Gig",
        status="upcoming",
        start_time=NOW + timedelta(days=1),
        total_capacity=capacity,
        sold=sold,
        types={
            10: TicketState(10, "GA", Decimal("20.00"), available=6, sold=0, active=True),
            11: TicketState(11, "VIP", Decimal("99.50"), available=3, sold=0, active=True),
        },
    )
    for name, value in changes.items():
        setattr(state, name, value)
    return state


def _book(
    *items: tuple[int, int], user: int = 7, key: str | None = None, hold: bool = False
) -> BookTickets:
    return BookTickets(user, tuple(items), key, b"hash" if key else b"", hold)


def _refusal(state: EventState, command: BookTickets | CancelBooking) -> tuple[Reason, str]:
    outcome = decide(state, command, NOW)
    assert isinstance(outcome, Refused), outcome
    return outcome.reason, outcome.detail


def test_a_booking_takes_its_lines_at_the_current_price() -> None:
    state = _event()
    command = _book((10, 2), (11, 1))
    outcome = decide(state, command, NOW)
    assert outcome == Booked(
        command.reference,
        7,
        (Line(10, "GA", 2, Decimal("20.00")), Line(11, "VIP", 1, Decimal("99.50"))),
        Decimal("139.50"),
    )
    assert state.types[10].available == 6  # decide changes nothing...
    apply(state, outcome)  # ...apply moves the counts
    assert (state.types[10].available, state.types[10].sold, state.sold) == (4, 2, 3)
    assert (state.types[11].available, state.types[11].sold) == (2, 1)
    assert state.types[10].changed
    assert state.types[11].changed


def test_the_event_capacity_is_shared_by_its_types() -> None:
    state = _event(capacity=4)
    assert _refusal(state, _book((10, 3), (11, 2))) == (
        Reason.CAPACITY_EXCEEDED,
        "Booking exceeds event capacity or ticket availability.",
    )
    assert isinstance(decide(state, _book((10, 2), (11, 2)), NOW), Booked)


def test_each_type_has_its_own_stock_and_the_booking_is_all_or_nothing() -> None:
    state = _event()
    command = _book((10, 1), (11, 4))  # GA would fit, VIP does not: nothing is booked
    assert _refusal(state, command) == (Reason.SOLD_OUT, "Not enough tickets for: VIP.")
    apply(state, decide(state, command, NOW))
    assert (state.types[10].available, state.sold) == (6, 0)


def test_an_inactive_type_is_refused_but_a_short_one_says_so_first() -> None:
    state = _event()
    state.types[11].active = False
    assert _refusal(state, _book((11, 1))) == (
        Reason.TICKET_TYPE_INACTIVE,
        "The ticket type is not available.",
    )
    assert _refusal(state, _book((11, 5)))[0] == Reason.SOLD_OUT  # as the reference orders them


@pytest.mark.parametrize(
    "changes",
    [{"status": "cancelled"}, {"status": "past"}, {"start_time": NOW}],
    ids=["cancelled", "past", "started"],
)
def test_a_closed_event_takes_no_booking(changes: dict[str, object]) -> None:
    assert _refusal(_event(**changes), _book((10, 1))) == (
        Reason.EVENT_CLOSED,
        "This event is not open for booking.",
    )


def test_unknown_and_other_events_types_have_the_references_messages() -> None:
    state = _event(foreign_types=frozenset({99}))
    invalid = (Reason.INVALID_TICKET_TYPES, "One or more ticket types are invalid.")
    assert _refusal(state, _book((12, 1))) == invalid
    assert _refusal(state, _book((99, 1), (12, 1))) == invalid
    assert _refusal(state, _book((99, 1))) == (
        Reason.INVALID_TICKET_TYPES,
        "All ticket types must belong to the same event.",
    )


def test_a_total_past_the_column_is_refused() -> None:
    state = _event(capacity=10**9)
    state.types[11].price = Decimal("99999999.99")
    state.types[11].available = 10**6
    assert _refusal(state, _book((11, 1000)))[0] == Reason.AMOUNT_TOO_LARGE


def test_commands_of_a_batch_see_what_the_ones_before_them_left() -> None:
    state = _event(capacity=100)
    first, second = _book((11, 2)), _book((11, 2), user=8)
    apply(state, decide(state, first, NOW))
    assert _refusal(state, second) == (Reason.SOLD_OUT, "Not enough tickets for: VIP.")


def _with_booking(status: str = "confirmed") -> tuple[EventState, uuid.UUID]:
    state = _event(sold=3)
    reference = uuid.uuid4()
    state.types[10].available, state.types[10].sold = 3, 3
    state.bookings[reference] = BookingState(5, reference, 7, status, [(10, 3, Decimal("20.00"))])
    return state, reference


def test_a_cancel_gives_the_tickets_back_once() -> None:
    state, reference = _with_booking()
    outcome = decide(state, CancelBooking(7, reference), NOW)
    assert outcome == Cancelled(reference, 7, (Line(10, "GA", 3, Decimal("20.00")),))
    apply(state, outcome)
    assert (state.types[10].available, state.types[10].sold, state.sold) == (6, 0, 0)
    assert _refusal(state, CancelBooking(7, reference)) == (  # the second one, in one batch
        Reason.NOT_CANCELLABLE,
        "Booking already cancelled or invalid status.",
    )


def test_only_the_owner_cancels_and_only_a_confirmed_booking() -> None:
    state, reference = _with_booking()
    assert _refusal(state, CancelBooking(8, reference))[0] == Reason.NOT_FOUND
    assert _refusal(state, CancelBooking(7, uuid.uuid4()))[0] == Reason.NOT_FOUND
    state, reference = _with_booking("cancelled")
    assert _refusal(state, CancelBooking(7, reference))[0] == Reason.NOT_CANCELLABLE


def test_a_stored_key_replays_its_booking_for_the_same_request_only() -> None:
    command = _book((10, 1), key="k")
    earlier = uuid.uuid4()
    assert replay(command, b"hash", earlier) == Booked(earlier, replayed=True)
    assert replay(command, b"other", earlier) == Refused(
        Reason.KEY_REUSED, "This Idempotency-Key was used with a different request."
    )
    assert replay(command, b"hash", None) == Refused(
        Reason.KEY_IN_USE, "This Idempotency-Key is in use."
    )


def test_a_repeat_in_the_same_batch_gets_what_the_first_copy_got() -> None:
    booked = Booked(uuid.uuid4(), 7, (), Decimal(0))
    assert repeat_of(booked) == Booked(booked.reference, replayed=True)
    refused = Refused(Reason.SOLD_OUT, "Not enough tickets for: GA.")
    assert repeat_of(refused) is refused
    state = _event()
    apply(state, repeat_of(decide(state, _book((10, 2)), NOW)))  # a replay moves nothing
    assert state.types[10].available == 6


# Holds: seats move from available to held, then to sold (confirm) or back (cancel, expiry).


def _counts(state: EventState, type_id: int = 10) -> tuple[int, int, int]:
    ticket = state.types[type_id]
    return ticket.available, ticket.held, ticket.sold


def _hold(state: EventState, quantity: int = 2, at: datetime = NOW) -> BookingState:
    """A hold made through the rules, as the batch would load it back."""
    command = _book((10, quantity), hold=True)
    outcome = decide(state, command, at)
    assert isinstance(outcome, Booked)
    assert outcome.expires_at == at + timedelta(seconds=state.hold_seconds)
    apply(state, outcome)
    booking = BookingState(
        9, command.reference, 7, "pending", [(10, quantity, Decimal("20.00"))], at,
        outcome.expires_at,
    )  # fmt: skip
    state.bookings[command.reference] = booking
    return booking


def test_a_hold_keeps_its_seats_from_sale_until_confirmed() -> None:
    state = _event()
    booking = _hold(state, 2)
    assert _counts(state) == (4, 2, 0)
    assert (state.held, state.sold) == (2, 0)
    confirmed = decide(state, ConfirmHold(7, booking.reference), NOW + timedelta(seconds=30))
    assert confirmed == Confirmed(
        booking.reference, 7, (Line(10, "GA", 2, Decimal("20.00")),), Decimal("40.00")
    )
    apply(state, confirmed)
    assert _counts(state) == (4, 0, 2)
    assert (state.held, state.sold, booking.status, booking.expires_at) == (0, 2, "confirmed", None)
    again = decide(state, ConfirmHold(7, booking.reference), NOW + timedelta(seconds=40))
    assert isinstance(again, Confirmed)
    assert again.already  # confirming twice changes nothing
    apply(state, again)
    assert _counts(state) == (4, 0, 2)


def test_held_seats_count_against_the_capacity() -> None:
    state = _event(capacity=3)
    _hold(state, 2)
    assert _refusal(state, _book((11, 2)))[0] == Reason.CAPACITY_EXCEEDED


def test_a_hold_past_its_time_is_given_back() -> None:
    state = _event()
    booking = _hold(state, 2)
    assert expire(state, booking.expires_at - timedelta(microseconds=1)) == []
    [gone] = expire(state, booking.expires_at)
    ends = booking.expires_at
    assert gone == Expired(booking.reference, 7, (Line(10, "GA", 2, Decimal("20.00")),), ends)
    apply(state, gone)
    assert _counts(state) == (6, 0, 0)
    assert (state.held, booking.status, booking.expires_at) == (0, "expired", None)
    assert _refusal(state, CancelBooking(7, booking.reference))[0] == Reason.NOT_CANCELLABLE


def test_confirming_after_expiry_takes_the_seats_again_when_they_are_free() -> None:
    state = _event()
    booking = _hold(state, 2)
    ended = booking.expires_at
    assert ended is not None
    apply(state, expire(state, ended)[0])
    later = ended + timedelta(seconds=1)
    outcome = decide(state, ConfirmHold(7, booking.reference), later)
    assert isinstance(outcome, Confirmed)
    assert not outcome.already
    apply(state, outcome)
    assert _counts(state) == (4, 0, 2)


def test_confirming_after_expiry_is_refused_when_the_seats_are_gone() -> None:
    state = _event()
    booking = _hold(state, 2)
    apply(state, expire(state, booking.expires_at)[0])
    apply(state, decide(state, _book((10, 5), user=8), NOW))  # someone took them meanwhile
    assert _refusal(
        state,
        ConfirmHold(7, booking.reference),
    ) == (
        Reason.HOLD_EXPIRED,
        "This hold expired and its tickets are no longer available.",
    )


def test_cancelling_a_hold_gives_its_seats_back() -> None:
    state = _event()
    booking = _hold(state, 2)
    outcome = decide(state, CancelBooking(7, booking.reference), NOW)
    assert isinstance(outcome, Cancelled)
    apply(state, outcome)
    assert _counts(state) == (6, 0, 0)
    assert _refusal(state, ConfirmHold(7, booking.reference))[0] == Reason.NOT_PENDING


def test_an_extension_adds_a_hold_time_up_to_three_from_the_start() -> None:
    state = _event(hold_seconds=60)
    booking = _hold(state)
    hold = timedelta(seconds=60)
    first = decide(state, ExtendHold(7, booking.reference), NOW + timedelta(seconds=50))
    assert first == Extended(booking.reference, NOW + timedelta(seconds=110))
    apply(state, first)
    second = decide(state, ExtendHold(7, booking.reference), NOW + timedelta(seconds=100))
    assert second == Extended(booking.reference, NOW + timedelta(seconds=160))
    apply(state, second)
    third = decide(state, ExtendHold(7, booking.reference), NOW + timedelta(seconds=150))
    assert third == Extended(booking.reference, NOW + 3 * hold)  # capped
    apply(state, third)
    assert _refusal(state, ExtendHold(7, booking.reference))[0] == Reason.EXTENSION_LIMIT
    assert booking.expires_at == NOW + 3 * hold
    assert _refusal(state, ExtendHold(8, booking.reference))[0] == Reason.NOT_FOUND
    apply(state, expire(state, NOW + 3 * hold)[0])
    assert _refusal(state, ExtendHold(7, booking.reference))[0] == Reason.NOT_PENDING


# Limits and sales windows.


def test_a_booking_may_not_exceed_the_events_limit_per_booking() -> None:
    state = _event(max_per_booking=3)
    assert _refusal(state, _book((10, 2), (11, 2))) == (
        Reason.BOOKING_LIMIT,
        "At most 3 tickets per booking.",
    )
    assert isinstance(decide(state, _book((10, 3)), NOW), Booked)


def test_a_customer_may_not_exceed_the_limit_with_confirmed_and_held_tickets() -> None:
    state = _event(max_per_customer=3)
    apply(state, decide(state, _book((10, 1)), NOW))
    _hold(state, 1)
    outcome = decide(state, _book((11, 2)), NOW)
    assert outcome == Refused(
        Reason.CUSTOMER_LIMIT,
        "At most 3 tickets per customer for this event; you have 2.",
        {"limit": 3, "already": 2},
    )
    assert isinstance(decide(state, _book((11, 1)), NOW), Booked)
    assert isinstance(decide(state, _book((11, 3), user=8), NOW), Booked)  # someone else


def test_a_type_is_on_sale_only_inside_both_windows() -> None:
    state = _event(sales_start=NOW + timedelta(hours=1))
    assert _refusal(state, _book((10, 1))) == (Reason.NOT_ON_SALE, "GA is not on sale.")
    assert isinstance(decide(state, _book((10, 1)), NOW + timedelta(hours=1)), Booked)
    state = _event(sales_end=NOW)
    assert _refusal(state, _book((10, 1)))[0] == Reason.NOT_ON_SALE
    state = _event()
    state.types[11].sales_end = NOW - timedelta(minutes=1)
    assert _refusal(state, _book((10, 1), (11, 1))) == (Reason.NOT_ON_SALE, "VIP is not on sale.")
    assert isinstance(decide(state, _book((10, 1)), NOW), Booked)
