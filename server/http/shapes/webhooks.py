"""``/api/webhooks/`` shapes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field

from server.http.fields import Id, RawText
from server.http.shapes.common import In, Out, PageOut
from server.webhooks.payloads import HookType
from server.webhooks.urls import MAX_URL

__all__ = [
    "DeliveryOut",
    "DeliveryPage",
    "WebhookCreated",
    "WebhookIn",
    "WebhookOut",
    "WebhookPage",
]


class WebhookIn(In):
    url: Annotated[
        str,
        RawText,
        Field(
            min_length=1,
            max_length=MAX_URL,
            description="http:// or https://; not to loopback or private addresses.",
        ),
    ]
    events: Annotated[
        list[HookType],
        Field(min_length=1, max_length=5, description="The delivery types to send."),
    ]
    event_id: Id | None = Field(
        default=None, description="One of your events; null (or absent): all of them."
    )


class WebhookOut(Out):
    id: int
    url: str
    events: list[HookType]
    event_id: int | None
    created_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(
        description="Signs every delivery (Stampede-Signature); shown only in this answer."
    )


class WebhookPage(PageOut):
    results: list[WebhookOut]


class DeliveryOut(Out):
    delivery_id: uuid.UUID = Field(description="The delivery's id: the same on every retry.")
    type: HookType
    status_code: int | None = Field(description="The last attempt's HTTP status, if it got one.")
    attempts: Annotated[int, Field(ge=0)] = Field(
        description="Posts so far, the successful one included."
    )
    delivered_at: datetime | None = Field(description="When a post got a 2xx; null until then.")
    created_at: datetime
    next_attempt_at: datetime | None = Field(
        description="The next retry; null once delivered or abandoned."
    )
    abandoned_at: datetime | None = Field(description="When its retry window ended undelivered.")
    last_error: str | None


class DeliveryPage(PageOut):
    results: list[DeliveryOut]
