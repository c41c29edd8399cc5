"""The waiting list's rules on their own (server/booking/waitlist.py): no database, no clock."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from server.booking import waitlist
from server.booking.commands import CancelBooking, JoinWaitlist, LeaveWaitlist
from server.booking.outcomes import Cancelled, Joined, Left, Reason, Refused
from server.booking.rules import apply, decide
from server.booking.state import BookingState, EntryState, EventState, TicketState

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)


def _sold_out(waiting: int = 0, **changes: object) -> EventState:
    """Ten GA seats, all sold to user 1 in one booking of 10; ``waiting`` entries wait."""
    ga = TicketState(10, "GA", Decimal("20.00"), available=0, sold=10, active=True)
    ga.waiting = waiting
    booking = BookingState(1, uuid.uuid4(), 1, "confirmed", [(10, 10, Decimal("20.00"))])
    state = EventState(
        id=1, name="Gig", status="upcoming", start_time=NOW + timedelta(days=1),
        total_capacity=10, sold=10, types={10: ga}, offer_seconds=600,
        bookings={booking.reference: booking},
    )  # fmt: skip
    for name, value in changes.items():
        setattr(state, name, value)
    return state


def _entries(*quantities: int) -> list[EntryState]:
    return [EntryState(n, 100 + n, 10, q) for n, q in enumerate(quantities, start=1)]


def _refusal(state: EventState, command: JoinWaitlist) -> Reason:
    outcome = decide(state, command, NOW)
    assert isinstance(outcome, Refused), outcome
    return outcome.reason


def _cancel_all(state: EventState) -> None:
    [booking] = state.bookings.values()
    apply(state, decide(state, CancelBooking(booking.user_id, booking.reference), NOW))


def test_joining_is_refused_while_that_many_can_be_booked() -> None:
    state = _sold_out()
    state.types[10].available, state.sold = 2, 8
    assert _refusal(state, JoinWaitlist(5, 10, 2)) == Reason.TICKETS_AVAILABLE
    assert isinstance(decide(state, JoinWaitlist(5, 10, 3), NOW), Joined)
    state.total_capacity = 9  # the event's capacity binds first: one seat can be booked
    assert isinstance(decide(state, JoinWaitlist(5, 10, 2), NOW), Joined)


def test_joining_twice_and_joining_what_does_not_sell_are_refused() -> None:
    state = _sold_out()
    apply(state, decide(state, JoinWaitlist(5, 10, 1), NOW))
    assert _refusal(state, JoinWaitlist(5, 10, 2)) == Reason.ALREADY_WAITING
    assert _refusal(state, JoinWaitlist(6, 99, 1)) == Reason.INVALID_TICKET_TYPES
    state.types[10].active = False
    assert _refusal(state, JoinWaitlist(6, 10, 1)) == Reason.TICKET_TYPE_INACTIVE
    state.types[10].active, state.sales_end = True, NOW
    assert _refusal(state, JoinWaitlist(6, 10, 1)) == Reason.NOT_ON_SALE
    state.status = "cancelled"
    assert _refusal(state, JoinWaitlist(6, 10, 1)) == Reason.EVENT_CLOSED


def test_seats_freed_while_entries_wait_are_kept_back_not_available() -> None:
    state = _sold_out(waiting=1)
    _cancel_all(state)
    ga = state.types[10]
    assert (ga.available, ga.kept, ga.sold, ga.unsettled) == (0, 10, 0, True)
    assert (state.kept, state.room()) == (10, 0)
    without = _sold_out(waiting=0)
    _cancel_all(without)
    assert (without.types[10].available, without.types[10].kept) == (10, 0)


def test_offers_go_in_joining_order_to_the_first_entry_that_fits() -> None:
    state = _sold_out(waiting=4)
    _cancel_all(state)
    state.types[10].kept, state.types[10].available = 5, 5  # five kept, five on sale
    state.kept = 5
    entries = _entries(4, 3, 1, 2)
    offers = waitlist.offer(state, state.types[10], entries, NOW)
    # 4 fits (10 seats), 3 fits (6 left), 1 fits (3 left), 2 fits (2 left).
    assert [o.entry.id for o in offers] == [1, 2, 3, 4]
    assert [e.status for e in entries] == ["offered"] * 4
    ga = state.types[10]
    assert (ga.available, ga.kept, ga.held, ga.waiting) == (0, 0, 10, 0)
    hold = offers[0].hold
    assert (hold.user_id, hold.expires_at, hold.total) == (101, NOW + timedelta(seconds=600), 80)


def test_an_entry_too_big_is_skipped_and_what_is_left_stays_kept() -> None:
    state = _sold_out(waiting=2)
    ga = state.types[10]
    ga.sold, ga.kept, state.sold, state.kept = 7, 3, 7, 3
    entries = _entries(4, 2)
    offers = waitlist.offer(state, ga, entries, NOW)
    assert [o.entry.id for o in offers] == [2]
    assert (entries[0].status, ga.kept, ga.held, ga.waiting) == ("waiting", 1, 2, 1)
    waitlist.release(state, ga)  # someone still waits: the seat stays kept back
    assert (ga.kept, ga.available) == (1, 0)


def test_nobody_waiting_gives_the_kept_seats_back_to_sale() -> None:
    state = _sold_out(waiting=1)
    ga = state.types[10]
    ga.sold, ga.kept, state.sold, state.kept = 8, 2, 8, 2
    [entry] = _entries(3)
    state.entries = {1: entry}
    apply(state, Left(1))
    waitlist.release(state, ga)
    assert (ga.kept, ga.available, ga.waiting, state.kept) == (0, 2, 0, 0)


def test_the_limit_per_customer_skips_an_entry() -> None:
    state = _sold_out(waiting=2, max_per_customer=2)
    ga = state.types[10]
    ga.sold, ga.kept, state.sold, state.kept = 8, 2, 8, 2
    entries = _entries(2, 2)
    state.customers = {101: 1, 102: 0}  # the first already has a ticket
    offers = waitlist.offer(state, ga, entries, NOW)
    assert [o.entry.id for o in offers] == [2]


def test_closing_closes_only_waiting_entries() -> None:
    state = _sold_out(waiting=2)
    entries = _entries(1, 1, 1)
    entries[1].status = "offered"
    closed = waitlist.close(state, state.types[10], entries)
    assert [c.entry.id for c in closed] == [1, 3]
    assert [e.status for e in entries] == ["closed", "offered", "closed"]


def test_leaving_with_an_open_offer_gives_its_hold_back() -> None:
    state = _sold_out(waiting=0)
    ga = state.types[10]
    ga.sold, ga.held, state.sold, state.held = 8, 2, 8, 2
    hold = BookingState(2, uuid.uuid4(), 101, "pending", [(10, 2, Decimal("20.00"))], entry_id=1)
    state.bookings[hold.reference] = hold
    state.entries = {1: EntryState(1, 101, 10, 2, "offered", hold.reference)}
    outcome = decide(state, LeaveWaitlist(101, 1), NOW)
    assert isinstance(outcome, Left)
    assert isinstance(outcome.released, Cancelled)
    apply(state, outcome)
    assert (hold.status, state.entries[1].status, ga.held, ga.available) == (
        "cancelled", "left", 0, 2,
    )  # fmt: skip
    assert _refusal_leave(state, LeaveWaitlist(101, 1)) == Reason.NOT_FOUND
    assert _refusal_leave(state, LeaveWaitlist(999, 1)) == Reason.NOT_FOUND


def _refusal_leave(state: EventState, command: LeaveWaitlist) -> Reason:
    outcome = decide(state, command, NOW)
    assert isinstance(outcome, Refused), outcome
    return outcome.reason
