"""Seats and the checks every taking of them makes, shared by the booking rules and the waiting
list's. Seats move between four counts of a ticket type (and the event's): available, held
(pending holds), kept (freed while entries wait, for the waiting list) and sold. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from server.booking.outcomes import Line, Reason, Refused
from server.booking.state import EventState

__all__ = ["MAX_TOTAL", "count", "give_back", "lines", "move", "over_limits", "short", "total"]

MAX_TOTAL = Decimal("9999999999.99")  # bookings.total_price is numeric(12, 2)


def lines(state: EventState, items: Iterable[tuple[int, int, Decimal]]) -> tuple[Line, ...]:
    """Booking lines from (ticket type id, quantity, price)."""
    return tuple(Line(t, state.types[t].name, q, price) for t, q, price in items)


def total(taken: tuple[Line, ...]) -> Decimal:
    return sum((line.price * line.quantity for line in taken), Decimal(0))


def over_limits(state: EventState, user_id: int, wanted: int) -> Refused | None:
    """The limit per booking, then the one per customer, that ``wanted`` tickets break."""
    if state.max_per_booking is not None and wanted > state.max_per_booking:
        limit = state.max_per_booking
        return Refused(Reason.BOOKING_LIMIT, f"At most {limit} tickets per booking.")
    if state.max_per_customer is not None:
        limit, already = state.max_per_customer, state.customers.get(user_id, 0)
        if already + wanted > limit:
            detail = f"At most {limit} tickets per customer for this event; you have {already}."
            return Refused(Reason.CUSTOMER_LIMIT, detail, {"limit": limit, "already": already})
    return None


def short(state: EventState, taken: tuple[Line, ...]) -> Refused | None:
    """Why the lines cannot all be taken now (capacity, then each type in order, as the
    reference checks: a short type that is also inactive reports "Not enough tickets")."""
    if state.room() < sum(line.quantity for line in taken):
        return Refused(
            Reason.CAPACITY_EXCEEDED, "Booking exceeds event capacity or ticket availability."
        )
    for line in taken:
        ticket = state.types[line.type_id]
        if ticket.available < line.quantity:
            return Refused(Reason.SOLD_OUT, f"Not enough tickets for: {ticket.name}.")
        if not ticket.active:
            return Refused(Reason.TICKET_TYPE_INACTIVE, "The ticket type is not available.")
    return None


def move(state: EventState, type_id: int, quantity: int, source: str, target: str) -> None:
    """Move seats of a type from one count to another, on the type and on the event (which
    keeps no count of available seats)."""
    ticket = state.types[type_id]
    for name, change in ((source, -quantity), (target, quantity)):
        setattr(ticket, name, getattr(ticket, name) + change)
        if name != "available":
            setattr(state, name, getattr(state, name) + change)
    ticket.changed = True


def give_back(state: EventState, taken: tuple[Line, ...], source: str) -> None:
    """Seats coming free (from ``source``: held or sold): kept back for the waiting list while
    entries wait for their type, which then has seats to offer; else available again."""
    for line in taken:
        ticket = state.types[line.type_id]
        move(state, line.type_id, line.quantity, source, "kept" if ticket.waiting else "available")
        ticket.unsettled = ticket.unsettled or ticket.waiting > 0


def count(state: EventState, user_id: int, tickets: int) -> None:
    """A customer has ``tickets`` more (fewer, when negative) for the event."""
    state.customers[user_id] = state.customers.get(user_id, 0) + tickets
