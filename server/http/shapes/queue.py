"""``/api/events/{id}/queue`` shapes: one's place in an event's waiting room."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from server.http.fields import MAX_INT, WholeNumber
from server.http.shapes.common import In, Out

__all__ = ["QueueOut", "QueueState", "WaitingRoomIn"]

QueueState = Literal["prequeue", "waiting", "admitted", "expired", "sold_out"]


class WaitingRoomIn(In):
    admit_per_minute: Annotated[
        int,
        Field(ge=1, le=100000, description="Places admitted per minute, in queue order."),
        WholeNumber,
    ]
    session_seconds: Annotated[
        int,
        Field(ge=5, le=86400, description="How long an admission (its queue token) lasts."),
        WholeNumber,
    ]


class QueueOut(Out):
    state: QueueState = Field(
        description="prequeue (before sales start: places are drawn at random then), waiting, "
        "admitted (book with the queue token), expired (join again: at the back), sold_out."
    )
    position: Annotated[int, Field(ge=1, le=MAX_INT)] | None = Field(
        description="Your place number, fixed once given; null in the prequeue."
    )
    ahead: Annotated[int, Field(ge=0)] | None = Field(
        description="Places before yours not yet admitted; null in the prequeue."
    )
    eta_seconds: Annotated[int, Field(ge=0)] | None = Field(
        description="Seconds until your admission at the rate observed; null when unknown."
    )
    queue_token: str | None = Field(
        description="Send it as the Queue-Token header to book or hold; null unless admitted."
    )
    admitted_until: datetime | None = Field(description="When your admission ends.")
