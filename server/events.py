"""Events and their ticket types: listing, and every change made under the event's row lock.

Lock order everywhere: the event row, then its ticket types in id order (as the booking actor
does), so changes and bookings of one event serialise and never deadlock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from server import audit
from server.db import Queries
from server.errors import Conflict, FieldErrors, NotFound, PermissionDenied
from server.mail import booking_cancelled_mail, waitlist_closed_mail
from server.users import User

__all__ = [
    "EVENT_NOT_FOUND",
    "EVENT_ORDERING",
    "NOT_OWNER",
    "TICKET_TYPE_ORDERING",
    "EventFilters",
    "Events",
    "OnChange",
    "check_window",
    "locked_event",
    "order_by",
]

QUERIES = (
    "event_by_id", "count_events", "list_events", "insert_event", "lock_event", "update_event",
    "touch_event", "event_has_bookings", "delete_event", "lock_ticket_types",
    "cancel_event_bookings", "enqueue_event_cancellation_mails", "enqueue_event_cancellation_hooks",
    "deactivate_ticket_types",
    "close_event_waitlist", "upsert_waiting_room", "delete_waiting_room", "set_event_status",
    "insert_audit",
)  # fmt: skip
EVENT_ORDERING = ("start_time", "total_capacity", "created_at")
TICKET_TYPE_ORDERING = (
    "id", "name", "description", "price", "quantity_available", "quantity_held", "quantity_sold",
    "is_active", "sales_start", "sales_end", "created_at", "updated_at",
)  # fmt: skip
NOT_OWNER = "You are not the organizer of this event."
EVENT_NOT_FOUND = "No Event matches the given query."
# The columns insert_event and update_event set, in their parameters' order.
EVENT_FIELDS = (
    "name", "description", "location", "start_time", "end_time", "total_capacity", "status",
    "hold_seconds", "max_tickets_per_booking", "max_tickets_per_customer", "sales_start",
    "sales_end", "waitlist_offer_seconds",
)  # fmt: skip
EVENT_DEFAULTS = {
    "description": "", "end_time": None, "status": "upcoming", "hold_seconds": 600,
    "max_tickets_per_booking": None, "max_tickets_per_customer": None, "sales_start": None,
    "sales_end": None, "waitlist_offer_seconds": 3600,
}  # fmt: skip


def order_by(ordering: str | None, allowed: tuple[str, ...], default: str) -> str:
    """An ORDER BY clause from ``?ordering=a,-b`` using only allowed columns (others ignored)."""
    terms: list[str] = []
    for raw in (ordering or "").split(","):
        name = raw.strip()
        column = name.removeprefix("-")
        if column in allowed and column not in {t.split()[0] for t in terms}:
            terms.append(f"{column} {'DESC' if name.startswith('-') else 'ASC'}")
    if not terms:
        terms.append(f"{default} ASC")
    return ", ".join([*terms, "id ASC"])


@dataclass(frozen=True, slots=True)
class EventFilters:
    status: str | None = None
    location: str | None = None
    search: list[str] | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def check_times(data: dict[str, Any], stored: asyncpg.Record | None) -> None:
    """The reference's time rules, with the stored value standing in for one left out."""
    errors: dict[str, list[str]] = {}
    start, end = data.get("start_time"), data.get("end_time")
    if start is not None and start < _now() and (stored is None or start != stored["start_time"]):
        errors["start_time"] = ["Start time cannot be in the past."]
    if end is not None and end < _now() and (stored is None or end != stored["end_time"]):
        errors["end_time"] = ["End time cannot be in the past."]
    if errors:
        raise FieldErrors(errors)
    start = start if "start_time" in data else (stored["start_time"] if stored else None)
    end = end if "end_time" in data else (stored["end_time"] if stored else None)
    if start is not None and end is not None and end <= start:
        raise FieldErrors({"non_field_errors": ["End time must be after start time."]})


def check_window(data: dict[str, Any], stored: asyncpg.Record | None) -> None:
    """A sales window ends after it starts (the stored value stands in for one left out)."""
    start = data["sales_start"] if "sales_start" in data else (stored and stored["sales_start"])
    end = data["sales_end"] if "sales_end" in data else (stored and stored["sales_end"])
    if start is not None and end is not None and end <= start:
        raise FieldErrors({"sales_end": ["Sales must end after they start."]})


@asynccontextmanager
async def locked_event(
    pool: asyncpg.Pool,
    queries: Queries,
    user: User | None,
    event_id: int,
    detail: str | None = None,
) -> AsyncIterator[tuple[asyncpg.Connection, asyncpg.Record]]:
    """A transaction holding the event's row lock, for its organizer only (else ``detail``);
    for anyone when ``user`` is None (an admin's change)."""
    async with pool.acquire() as conn, conn.transaction():
        event = await conn.fetchrow(queries["lock_event"], event_id)
        if event is None:
            raise NotFound(EVENT_NOT_FOUND)
        if user is not None and event["organizer_id"] != user.id:
            raise PermissionDenied(detail)
        yield conn, event


# Called after each committed change to an event's availability, with its id and whether its
# waiting list is to be settled now (the change may have freed seats to offer, or closed it).
OnChange = Callable[[int, bool], None]


def _ignore(event_id: int, settle: bool) -> None:
    pass


def _count_nothing(cancelled: int) -> None:
    pass


@dataclass(frozen=True, slots=True)
class Events:
    pool: asyncpg.Pool
    queries: Queries
    on_change: OnChange = _ignore
    on_cancelled: Callable[[int], None] = _count_nothing  # bookings cancelled with an event

    async def get(self, event_id: int) -> asyncpg.Record:
        row = await self.pool.fetchrow(self.queries["event_by_id"], event_id)
        if row is None:
            raise NotFound(EVENT_NOT_FOUND)
        return row

    async def search(
        self, filters: EventFilters, ordering: str | None, limit: int, offset: int
    ) -> tuple[int, list[asyncpg.Record]]:
        args = (filters.status, filters.location, filters.search)
        count = await self.pool.fetchval(self.queries["count_events"], *args)
        sql = self.queries["list_events"].format(
            order_by=order_by(ordering, EVENT_ORDERING, "start_time")
        )
        return count, await self.pool.fetch(sql, *args, limit, offset)

    async def create(self, organizer: User, data: dict[str, Any]) -> asyncpg.Record:
        check_times(data, None)
        check_window(data, None)
        if data.get("status", "upcoming") != "upcoming":
            raise FieldErrors({"status": ["Only 'upcoming' events can be created."]})
        values = {**EVENT_DEFAULTS, **data}
        async with self.pool.acquire() as conn, conn.transaction():
            event_id = await conn.fetchval(
                self.queries["insert_event"], organizer.id, *(values[f] for f in EVENT_FIELDS)
            )
            await self._set_waiting_room(conn, event_id, data)
            await conn.execute(self.queries["touch_event"], event_id)
        return await self.get(event_id)

    def _locked(
        self, user: User, event_id: int
    ) -> AbstractAsyncContextManager[tuple[asyncpg.Connection, asyncpg.Record]]:
        return locked_event(self.pool, self.queries, user, event_id)

    async def update(self, user: User, event_id: int, data: dict[str, Any]) -> asyncpg.Record:
        async with self._locked(user, event_id) as (conn, event):
            check_times(data, event)
            check_window(data, event)
            taken = event["tickets_sold"] + event["tickets_held"]
            if data.get("total_capacity", event["total_capacity"]) < taken:
                message = (
                    "Total capacity cannot be less than the tickets already sold or held "
                    f"({taken})."
                )
                raise FieldErrors({"total_capacity": [message]})
            values = {f: data.get(f, event[f]) for f in EVENT_FIELDS}
            cancelled = 0
            if values["status"] == "cancelled" and event["status"] != "cancelled":
                cancelled = await self._cancel(conn, event_id, event["name"])
            await conn.execute(self.queries["update_event"], event_id, *values.values())
            await self._set_waiting_room(conn, event_id, data)
            settle = await conn.fetchval(self.queries["touch_event"], event_id)
        self.on_cancelled(cancelled)
        self.on_change(event_id, bool(settle))
        return await self.get(event_id)

    async def cancel_as_admin(self, admin: User, event_id: int) -> asyncpg.Record:
        """An admin cancels any organizer's event: as its organizer would (bookings cancelled,
        tickets given back, everyone mailed), audited in the same transaction."""
        async with locked_event(self.pool, self.queries, None, event_id) as (conn, event):
            if event["status"] == "cancelled":
                raise Conflict("This event is already cancelled.", code="already_cancelled")
            cancelled = await self._cancel(conn, event_id, event["name"])
            await conn.execute(self.queries["set_event_status"], event_id, "cancelled")
            settle = await conn.fetchval(self.queries["touch_event"], event_id)
            await audit.record(
                conn, self.queries, admin, "event.cancel", f"event:{event_id}",
                {"name": event["name"], "organizer_id": event["organizer_id"]},
            )  # fmt: skip
        self.on_cancelled(cancelled)
        self.on_change(event_id, bool(settle))
        return await self.get(event_id)

    async def _set_waiting_room(
        self, conn: asyncpg.Connection, event_id: int, data: dict[str, Any]
    ) -> None:
        """Turn the event's waiting room on (or change its settings: its queue stays), or off
        (its queue goes)."""
        if "waiting_room" not in data:
            return
        room = data["waiting_room"]
        if room is None:
            await conn.execute(self.queries["delete_waiting_room"], event_id)
        else:
            await conn.execute(
                self.queries["upsert_waiting_room"],
                event_id,
                room["admit_per_minute"],
                room["session_seconds"],
            )

    async def _cancel(self, conn: asyncpg.Connection, event_id: int, name: str) -> int:
        """Cancel every confirmed booking and pending hold (tickets given back, owners mailed,
        webhooks told), close the waiting list (its users mailed) and the ticket types; return
        how many bookings were cancelled."""
        await conn.execute(self.queries["lock_ticket_types"], event_id)
        cancelled = await conn.fetchval(self.queries["cancel_event_bookings"], event_id)
        subject, body = booking_cancelled_mail(name, "{reference}")
        await conn.execute(
            self.queries["enqueue_event_cancellation_mails"], event_id, subject, body
        )
        await conn.execute(self.queries["enqueue_event_cancellation_hooks"], event_id)
        subject, body = waitlist_closed_mail(name, "{ticket_type}")
        await conn.execute(self.queries["close_event_waitlist"], event_id, subject, body)
        await conn.execute(self.queries["deactivate_ticket_types"], event_id)
        return int(cancelled)

    async def delete(self, user: User, event_id: int) -> None:
        async with self._locked(user, event_id) as (conn, _):
            if await conn.fetchval(self.queries["event_has_bookings"], event_id):
                raise Conflict(
                    "This event has bookings and cannot be deleted; cancel it instead.",
                    code="event_has_bookings",
                )
            await conn.execute(self.queries["delete_event"], event_id)
