"""``/api/events/{id}/waitlist``, ``/api/users/me/waitlist`` and ``/api/waitlist/{id}`` shapes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal, get_args

from pydantic import BeforeValidator, Field

from server.http.fields import MAX_INT, Id, Says, WholeNumber
from server.http.shapes.common import In, Out, PageOut, PageQuery

__all__ = [
    "ENTRY_STATUSES",
    "EntryStatus",
    "WaitlistEntryOut",
    "WaitlistIn",
    "WaitlistPage",
    "WaitlistQuery",
]

EntryStatus = Literal["waiting", "offered", "purchased", "expired", "closed"]
ENTRY_STATUSES: tuple[EntryStatus, ...] = get_args(EntryStatus)


class WaitlistIn(In):
    ticket_type_id: Id
    quantity: Annotated[
        int,
        Field(ge=1, le=MAX_INT, description="Tickets wanted, all offered together."),
        WholeNumber,
    ]


class WaitlistEntryOut(Out):
    id: int
    event_id: int
    event_name: str
    ticket_type_id: int
    ticket_type_name: str
    quantity: Annotated[int, Field(ge=1)]
    status: EntryStatus = Field(
        description="waiting, then offered (seats held for you: confirm the booking), then "
        "purchased or expired; closed when the type stopped selling."
    )
    position: Annotated[int, Field(ge=1)] | None = Field(
        description="Your place among the type's waiting entries (1: next); null unless waiting."
    )
    booking_reference: uuid.UUID | None = Field(
        description="The offer: a hold to confirm with POST /api/bookings/{reference}/confirm/."
    )
    expires_at: datetime | None = Field(description="When the offer's hold ends, if offered.")
    created_at: datetime
    updated_at: datetime


class WaitlistPage(PageOut):
    results: list[WaitlistEntryOut]


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


class WaitlistQuery(PageQuery):
    status: Annotated[
        EntryStatus | None,
        BeforeValidator(_lower),
        Says("Select a valid choice. {input} is not one of the available choices."),
        Field(description="Only entries in this status."),
    ] = None
