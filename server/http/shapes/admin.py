"""``/api/admin/…`` and ``/api/events/{id}/stats`` shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from server.http.fields import Says
from server.http.shapes.common import In, Out, PageOut, PageQuery
from server.http.shapes.events import EventStatus
from server.users import OpenRole, Role

__all__ = [
    "AdminEventQuery",
    "AdminUserOut",
    "AdminUserPage",
    "AdminUserPatch",
    "AdminUserQuery",
    "AuditOut",
    "AuditPage",
    "StatsOut",
]

CHOICE = Says("Select a valid choice. {input} is not one of the available choices.")


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


class AdminUserQuery(PageQuery):
    search: str | None = Field(None, description="Part of the username, email or name, any case.")
    role: Annotated[Role | None, BeforeValidator(_lower), CHOICE] = None
    is_active: Annotated[
        bool | None, Says("Must be a valid boolean."), Field(description="true or false.")
    ] = None


class AdminUserOut(Out):
    id: int
    username: str
    email: str
    first_name: str
    last_name: str
    role: Role
    is_active: bool
    date_joined: datetime


class AdminUserPage(PageOut):
    results: list[AdminUserOut]


class AdminUserPatch(In):
    role: OpenRole = Field(description="attendee or organizer (admins are made otherwise).")
    is_active: bool = Field(description="false: every token of the user refused at once.")


class AdminEventQuery(PageQuery):
    search: str | None = Field(None, description="Words to find in the name or description.")
    status: Annotated[EventStatus | None, CHOICE] = None


class AuditOut(Out):
    actor: str = Field(description="The admin's username.")
    action: Literal["user.update", "event.cancel"]
    target: str = Field(description="What was changed: user:<id> or event:<id>.")
    at: datetime
    detail: dict[str, Any]


class AuditPage(PageOut):
    results: list[AuditOut]


class MinuteOut(Out):
    minute: datetime = Field(description="The minute, in UTC.")
    bookings: int = Field(description="Bookings confirmed in it (a hold when confirmed).")
    cancellations: int = Field(description="Bookings cancelled in it.")
    tickets: int = Field(description="The tickets of the bookings confirmed in it.")


class WaitlistFigures(Out):
    waiting: int
    offered: int


class QueueFigures(Out):
    waiting: int = Field(description="Places not yet admitted (and the prequeue).")
    admitted: int = Field(description="Admissions still running (tokens still valid).")
    admit_per_minute: int


class StatsOut(Out):
    per_minute: list[MinuteOut] = Field(description="The last 60 minutes, the current last.")
    waitlist: WaitlistFigures
    queue: QueueFigures | None = Field(description="null without a waiting room.")
