"""``/api/bookings/…``, ``/api/users/me/bookings`` and ``/api/events/{id}/bookings`` shapes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal, get_args

from pydantic import BeforeValidator, Field, StringConstraints

from server.http.fields import MAX_INT, Id, Moment, Says, WholeNumber
from server.http.shapes.common import In, Out, PageOut, PageQuery, money_text

__all__ = [
    "BOOKING_STATUSES",
    "BookingIn",
    "BookingOut",
    "BookingPage",
    "BookingStatus",
    "EventBookingOut",
    "EventBookingPage",
    "EventBookingsQuery",
    "IdempotencyKey",
    "MyBookingsQuery",
]

MAX_ITEMS = 100
BookingStatus = Literal["pending", "confirmed", "cancelled", "expired"]
BOOKING_STATUSES: tuple[BookingStatus, ...] = get_args(BookingStatus)
# "Repeat a booking safely": printable ASCII, as a header can carry it.
IdempotencyKey = Annotated[str, StringConstraints(pattern=r"^[\x20-\x7e]{1,255}$")]


class BookingItemIn(In):
    ticket_type_id: Id
    quantity: Annotated[int, Field(ge=1, le=MAX_INT), WholeNumber]


class BookingIn(In):
    event_id: Id
    items: Annotated[list[BookingItemIn], Field(min_length=1, max_length=MAX_ITEMS)]
    hold: bool = Field(
        False, description="Keep the seats for the event's hold time, to confirm or give back."
    )


class BookingItemOut(Out):
    id: int
    ticket_type_name: str
    quantity: Annotated[int, Field(ge=1)]
    price_at_booking: Annotated[str, money_text]


class BookingOut(Out):
    booking_reference: uuid.UUID
    event_id: int
    event_name: str
    status: BookingStatus
    created_at: datetime
    updated_at: datetime
    cancelled_at: datetime | None
    expires_at: datetime | None = Field(description="A pending hold's end; null otherwise.")
    items: list[BookingItemOut]
    total_price: Annotated[str, money_text]


class EventBookingOut(BookingOut):
    username: str = Field(description="The attendee's username.")


class BookingPage(PageOut):
    results: list[BookingOut]


class EventBookingPage(PageOut):
    results: list[EventBookingOut]


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value  # ?status=CONFIRMED works


StatusFilter = Annotated[
    BookingStatus | None,
    BeforeValidator(_lower),
    Says("Select a valid choice. {input} is not one of the available choices."),
    Field(description="Only bookings in this status."),
]


class EventBookingsQuery(PageQuery):
    status: StatusFilter = None


class MyBookingsQuery(EventBookingsQuery):
    event: Annotated[
        Id | None, Says("Enter a number."), Field(description="Only bookings of this event.")
    ] = None
    created_at__gte: Annotated[
        Moment | None, Says("Enter a valid date/time."), Field(description="Booked at or after.")
    ] = None
    created_at__lte: Annotated[
        Moment | None, Says("Enter a valid date/time."), Field(description="Booked at or before.")
    ] = None
