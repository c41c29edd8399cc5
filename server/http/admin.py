"""``/api/admin/…``: the admin console's API (role ``admin`` only), and
``/api/events/{id}/stats`` for an event's organizer (or an admin)."""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson
from aiohttp import web

from server.admin import USER_NOT_FOUND, UserFilters
from server.booking.rules import BOOKING_NOT_FOUND
from server.errors import PermissionDenied
from server.events import EventFilters
from server.http.endpoints import SIGNED_IN, endpoint
from server.http.pagination import Page, paginated
from server.http.paths import path_id, path_reference
from server.http.shapes.admin import (
    AdminEventQuery,
    AdminUserOut,
    AdminUserPage,
    AdminUserPatch,
    AdminUserQuery,
    AuditPage,
    StatsOut,
)
from server.http.shapes.bookings import EventBookingOut
from server.http.shapes.common import PageQuery
from server.http.shapes.events import EventOut, EventPage
from server.jsonio import json_response
from server.keys import admin_key, bookings_key, events_key, stats_key
from server.render import event_json, iso
from server.users import ADMIN, User

__all__ = [
    "admin_booking",
    "admin_cancel_event",
    "admin_events",
    "admin_update_user",
    "admin_users",
    "audit_log",
    "event_stats",
]

ADMIN_TAG = "Admin"
DEACTIVATING = """`is_active: false` refuses every token the user holds, on every instance, at \
once; `true` lets them sign in again. `role`: `attendee` or `organizer`. Admin accounts are not \
changed here (403). Audited."""
CANCELLING = """As the organizer's own cancel: bookings cancelled, tickets given back, owners \
and waiting lists mailed, live pages told; 409 `already_cancelled`. Audited."""


def _user(row: asyncpg.Record) -> dict[str, Any]:
    return {**dict(row), "date_joined": iso(row["date_joined"])}


@endpoint("admin-users", "Find users", ADMIN_TAG, returns=AdminUserPage, access=ADMIN)
async def admin_users(request: web.Request, user: User, query: AdminUserQuery) -> web.Response:
    page = Page(query.page, query.page_size)
    filters = UserFilters(query.search or None, query.role, query.is_active)
    count, rows = await request.app[admin_key].find_users(filters, page.size, page.offset)
    return paginated(request, page, count, [_user(row) for row in rows])


@endpoint(
    "admin-user-update",
    "Change a user's role or activity",
    ADMIN_TAG,
    returns=AdminUserOut,
    access=ADMIN,
    partial_body=True,
    description=DEACTIVATING,
)
async def admin_update_user(request: web.Request, user: User, body: AdminUserPatch) -> web.Response:
    user_id = path_id(request, "user_id", USER_NOT_FOUND)
    changes = body.model_dump(exclude_unset=True)
    return json_response(_user(await request.app[admin_key].update_user(user, user_id, changes)))


@endpoint("admin-events", "Every organizer's events", ADMIN_TAG, returns=EventPage, access=ADMIN)
async def admin_events(request: web.Request, user: User, query: AdminEventQuery) -> web.Response:
    page = Page(query.page, query.page_size)
    words = (query.search or "").replace(",", " ").split()
    filters = EventFilters(query.status, None, words or None)
    count, rows = await request.app[events_key].search(filters, None, page.size, page.offset)
    return paginated(request, page, count, [event_json(r) for r in rows])


@endpoint(
    "admin-event-cancel",
    "Cancel any event",
    ADMIN_TAG,
    returns=EventOut,
    access=ADMIN,
    errors=(409,),
    description=CANCELLING,
)
async def admin_cancel_event(request: web.Request, user: User) -> web.Response:
    event_id = path_id(request, "event_id")
    return json_response(event_json(await request.app[events_key].cancel_as_admin(user, event_id)))


@endpoint("admin-booking", "Any booking", ADMIN_TAG, returns=EventBookingOut, access=ADMIN)
async def admin_booking(request: web.Request, user: User) -> web.Response:
    reference = path_reference(request, BOOKING_NOT_FOUND)
    [found] = await request.app[bookings_key].details([reference], with_username=True)
    return json_response(found)


@endpoint("admin-audit", "The audit log of admin changes", ADMIN_TAG, returns=AuditPage,
          access=ADMIN)  # fmt: skip
async def audit_log(request: web.Request, user: User, query: PageQuery) -> web.Response:
    page = Page(query.page, query.page_size)
    count, rows = await request.app[admin_key].audit_log(page.size, page.offset)
    entries = [{**dict(r), "at": iso(r["at"]), "detail": orjson.loads(r["detail"])} for r in rows]
    return paginated(request, page, count, entries)


@endpoint(
    "event-stats",
    "An event's figures for its dashboard (its organizer, or an admin)",
    "Events",
    returns=StatsOut,
    access=SIGNED_IN,
    errors=(403,),
    description="Bookings per minute over the last hour, the waiting list, the waiting room.",
)
async def event_stats(request: web.Request, user: User) -> web.Response:
    event = await request.app[events_key].get(path_id(request, "event_id"))
    if event["organizer_id"] != user.id and user.role != ADMIN:
        raise PermissionDenied("You are not the organizer of this event.")
    stats = await request.app[stats_key].of_event(event["id"])
    for row in stats["per_minute"]:
        row["minute"] = iso(row["minute"])
    return json_response(stats)
