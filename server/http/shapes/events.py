"""``/api/events/…`` shapes: events and their ticket types."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, get_args

from pydantic import Field, StringConstraints

from server.events import EVENT_ORDERING, TICKET_TYPE_ORDERING
from server.http.fields import MAX_INT, Moment, Money, RawText, Says, Text, WholeNumber
from server.http.shapes.common import In, Out, PageOut, PageQuery, money_text
from server.http.shapes.queue import WaitingRoomIn

__all__ = [
    "EVENT_STATUSES",
    "EventIn",
    "EventOut",
    "EventPage",
    "EventQuery",
    "EventStatus",
    "TicketTypeIn",
    "TicketTypeOut",
    "TicketTypePage",
    "TicketTypeQuery",
]

EventStatus = Literal["upcoming", "cancelled", "sold_out", "past"]
EVENT_STATUSES: tuple[EventStatus, ...] = get_args(EventStatus)
CHOICE_FILTER = Says("Select a valid choice. {input} is not one of the available choices.")
ORDERING = "A field to sort by, `-` in front for descending: "


Limit = Annotated[int, Field(ge=1, le=MAX_INT), WholeNumber]
SalesStart = Annotated[
    Moment | None, Field(description="Sales open then (none: open from the start).")
]
SalesEnd = Annotated[Moment | None, Field(description="Sales close then (none: never).")]


class EventIn(In):
    name: Annotated[str, StringConstraints(min_length=1, max_length=255), Text]
    description: Annotated[str, RawText] = ""
    location: Annotated[str, StringConstraints(min_length=1, max_length=255), Text]
    start_time: Moment
    end_time: Moment | None = None
    total_capacity: Annotated[int, Field(ge=1, le=MAX_INT), WholeNumber]
    status: EventStatus = "upcoming"
    hold_seconds: Annotated[
        int,
        Field(ge=5, le=7200, description="How long a hold keeps its seats (seconds)."),
        WholeNumber,
    ] = 600
    max_tickets_per_booking: Annotated[
        Limit | None, Field(description="Most tickets in one booking (none: no limit).")
    ] = None
    max_tickets_per_customer: Annotated[
        Limit | None,
        Field(
            description="Most tickets one customer may have, confirmed and held (none: no limit)."
        ),
    ] = None
    sales_start: SalesStart = None
    sales_end: SalesEnd = None
    waitlist_offer_seconds: Annotated[
        int,
        Field(
            ge=5,
            le=604800,
            description="How long a waiting-list offer keeps its seats for its taker (seconds).",
        ),
        WholeNumber,
    ] = 3600
    waiting_room: WaitingRoomIn | None = Field(
        None,
        description="A fair queue for the on-sale (none: off). From 30 minutes before "
        "sales_start, buyers join it; at sales_start those present get places drawn at random, "
        "later ones queue in order; places are admitted at admit_per_minute, each for "
        "session_seconds, with a queue token that booking then requires.",
    )


class WaitingRoomOut(Out, WaitingRoomIn):
    pass


class EventOut(Out, EventIn):
    id: int
    organizer: str = Field(description="The organizer's username.")
    created_at: datetime
    updated_at: datetime
    tickets_sold: int = Field(description="Confirmed tickets.")
    tickets_held: int = Field(
        description="Tickets in pending holds, or kept back for the waiting list."
    )
    tickets_available: int = Field(description="What can still be booked right now.")
    waiting_room: WaitingRoomOut | None  # the output shape


class EventQuery(PageQuery):
    status: Annotated[
        EventStatus | None, CHOICE_FILTER, Field(description="Only events in this status.")
    ] = None
    location: str | None = Field(None, description="Only events at exactly this location.")
    search: str | None = Field(
        None, description="Words to find in the name, description or location."
    )
    ordering: str | None = Field(None, description=ORDERING + ", ".join(EVENT_ORDERING))


class EventPage(PageOut):
    results: list[EventOut]


class TicketTypeIn(In):
    name: Annotated[str, StringConstraints(min_length=1, max_length=100), Text]
    description: Annotated[str, RawText] = ""
    price: Money
    quantity_available: Annotated[
        int, Field(ge=0, le=MAX_INT, description="Remaining stock."), WholeNumber
    ]
    is_active: bool = True
    sales_start: SalesStart = None
    sales_end: SalesEnd = None


class TicketTypeOut(Out, TicketTypeIn):
    price: Annotated[str, money_text]  # type: ignore[assignment]  # written as text
    id: int
    quantity_held: int = Field(description="In pending holds, or kept back for the waiting list.")
    waiting: int = Field(description="Waiting-list entries waiting for this type.")
    quantity_sold: int = Field(description="Confirmed.")
    on_sale: bool = Field(description="Inside both the event's sales window and its own.")
    created_at: datetime
    updated_at: datetime


class TicketTypeQuery(PageQuery):
    ordering: str | None = Field(None, description=ORDERING + ", ".join(TICKET_TYPE_ORDERING))


class TicketTypePage(PageOut):
    results: list[TicketTypeOut]
