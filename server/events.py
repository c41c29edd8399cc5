"""Events and their ticket types: listing, and every change made under the event's row lock.

Lock order everywhere: the event row, then its ticket types in id order (as the booking actor
does), so changes and bookings of one event serialise and never deadlock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from server.db import Queries
from server.errors import ApiError, Conflict, FieldErrors, NotFound, PermissionDenied
from server.mail import booking_cancelled_mail
from server.users import User

__all__ = ["EVENT_ORDERING", "TICKET_TYPE_ORDERING", "EventFilters", "Events", "order_by"]

QUERIES = (
    "event_by_id", "count_events", "list_events", "insert_event", "lock_event", "update_event",
    "bump_event_seq", "event_has_bookings", "delete_event", "lock_ticket_types",
    "cancel_event_bookings", "enqueue_event_cancellation_mails", "deactivate_ticket_types",
    "count_ticket_types", "list_ticket_types",
    "ticket_type_by_id", "lock_ticket_type", "insert_ticket_type", "update_ticket_type",
    "ticket_type_has_bookings", "delete_ticket_type",
)  # fmt: skip
EVENT_ORDERING = ("start_time", "total_capacity", "created_at")
TICKET_TYPE_ORDERING = (
    "id", "name", "description", "price", "quantity_available", "quantity_sold", "is_active",
    "created_at", "updated_at",
)  # fmt: skip
NOT_OWNER = "You are not the organizer of this event."
EVENT_NOT_FOUND = "No Event matches the given query."
TICKET_TYPE_NOT_FOUND = "No TicketType matches the given query."
EVENT_FIELDS = (
    "name",
    "description",
    "location",
    "start_time",
    "end_time",
    "total_capacity",
    "status",
)
TICKET_TYPE_FIELDS = ("name", "description", "price", "quantity_available", "is_active")


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


def _ignore(event_id: int) -> None:
    pass


@dataclass(frozen=True, slots=True)
class Events:
    pool: asyncpg.Pool
    queries: Queries
    # Called with the event's id after each committed change to its availability.
    on_change: Callable[[int], None] = _ignore

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
        if data.get("status", "upcoming") != "upcoming":
            raise FieldErrors({"status": ["Only 'upcoming' events can be created."]})
        values = {"description": "", "end_time": None, "status": "upcoming", **data}
        event_id = await self.pool.fetchval(
            self.queries["insert_event"], organizer.id, *(values[f] for f in EVENT_FIELDS)
        )
        return await self.get(event_id)

    @asynccontextmanager
    async def _locked(
        self, user: User, event_id: int
    ) -> AsyncIterator[tuple[asyncpg.Connection, asyncpg.Record]]:
        """A transaction holding the event's row lock, for its owner only."""
        async with self.pool.acquire() as conn, conn.transaction():
            event = await conn.fetchrow(self.queries["lock_event"], event_id)
            if event is None:
                raise NotFound(EVENT_NOT_FOUND)
            if event["organizer_id"] != user.id:
                raise PermissionDenied()
            yield conn, event

    async def update(self, user: User, event_id: int, data: dict[str, Any]) -> asyncpg.Record:
        async with self._locked(user, event_id) as (conn, event):
            check_times(data, event)
            capacity = data.get("total_capacity", event["total_capacity"])
            if capacity < event["tickets_sold"]:
                sold = event["tickets_sold"]
                message = f"Total capacity cannot be less than the tickets already sold ({sold})."
                raise FieldErrors({"total_capacity": [message]})
            values = {f: data.get(f, event[f]) for f in EVENT_FIELDS}
            if values["status"] == "cancelled" and event["status"] != "cancelled":
                await self._cancel(conn, event_id, event["name"])
            await conn.execute(self.queries["update_event"], event_id, *values.values())
        self.on_change(event_id)
        return await self.get(event_id)

    async def _cancel(self, conn: asyncpg.Connection, event_id: int, name: str) -> None:
        """Cancel every confirmed booking (tickets given back, owners mailed) and close the
        ticket types."""
        await conn.execute(self.queries["lock_ticket_types"], event_id)
        await conn.execute(self.queries["cancel_event_bookings"], event_id)
        subject, body = booking_cancelled_mail(name, "{reference}")
        await conn.execute(
            self.queries["enqueue_event_cancellation_mails"], event_id, subject, body
        )
        await conn.execute(self.queries["deactivate_ticket_types"], event_id)

    async def delete(self, user: User, event_id: int) -> None:
        async with self._locked(user, event_id) as (conn, _):
            if await conn.fetchval(self.queries["event_has_bookings"], event_id):
                raise Conflict(
                    "This event has bookings and cannot be deleted; cancel it instead.",
                    code="event_has_bookings",
                )
            await conn.execute(self.queries["delete_event"], event_id)

    async def ticket_types(
        self, event_id: int, ordering: str | None, limit: int, offset: int
    ) -> tuple[int, list[asyncpg.Record]]:
        count = await self.pool.fetchval(self.queries["count_ticket_types"], event_id)
        clause = order_by(ordering, TICKET_TYPE_ORDERING, "id")
        sql = self.queries["list_ticket_types"].format(order_by=clause)
        return count, await self.pool.fetch(sql, event_id, limit, offset)

    async def add_ticket_type(
        self, user: User, event_id: int, data: dict[str, Any]
    ) -> asyncpg.Record:
        if data["quantity_available"] < 1:
            raise FieldErrors(
                {"quantity_available": ["Quantity must be at least 1 when creating."]}
            )
        async with self.pool.acquire() as conn, conn.transaction():
            event = await conn.fetchrow(self.queries["lock_event"], event_id)
            if event is None:
                raise NotFound(EVENT_NOT_FOUND)
            if event["organizer_id"] != user.id:
                raise PermissionDenied(NOT_OWNER)
            if event["status"] == "cancelled":
                raise ApiError(
                    "Ticket types cannot be added to a cancelled event.", code="event_closed"
                )
            values = {"description": "", "is_active": True, **data}
            row = await self._write_ticket_type(
                conn, "insert_ticket_type", event_id, *(values[f] for f in TICKET_TYPE_FIELDS)
            )
            await conn.execute(self.queries["bump_event_seq"], event_id)
        self.on_change(event_id)
        return row

    async def _write_ticket_type(
        self, conn: asyncpg.Connection, query: str, *args: Any
    ) -> asyncpg.Record:
        try:
            async with conn.transaction():  # a savepoint: a clash leaves the outer one usable
                return await conn.fetchrow(self.queries[query], *args)
        except asyncpg.UniqueViolationError:
            raise FieldErrors(
                {"name": ["This ticket name already exists for this event."]}
            ) from None

    async def get_ticket_type(self, user: User, event_id: int, type_id: int) -> asyncpg.Record:
        event = await self.get(event_id)
        if event["organizer_id"] != user.id:
            raise PermissionDenied(NOT_OWNER)
        row = await self.pool.fetchrow(self.queries["ticket_type_by_id"], type_id, event_id)
        if row is None:
            raise NotFound(TICKET_TYPE_NOT_FOUND)
        return row

    async def update_ticket_type(
        self, user: User, event_id: int, type_id: int, data: dict[str, Any]
    ) -> asyncpg.Record:
        async with self._locked(user, event_id) as (conn, _):
            await conn.execute(self.queries["lock_ticket_types"], event_id)
            stored = await conn.fetchrow(self.queries["lock_ticket_type"], type_id, event_id)
            if stored is None:
                raise NotFound(TICKET_TYPE_NOT_FOUND)
            values = [data.get(f, stored[f]) for f in TICKET_TYPE_FIELDS]
            row = await self._write_ticket_type(
                conn, "update_ticket_type", type_id, event_id, *values
            )
            await conn.execute(self.queries["bump_event_seq"], event_id)
        self.on_change(event_id)
        return row

    async def delete_ticket_type(self, user: User, event_id: int, type_id: int) -> None:
        async with self._locked(user, event_id) as (conn, _):
            await conn.execute(self.queries["lock_ticket_types"], event_id)
            if await conn.fetchrow(self.queries["lock_ticket_type"], type_id, event_id) is None:
                raise NotFound(TICKET_TYPE_NOT_FOUND)
            if await conn.fetchval(self.queries["ticket_type_has_bookings"], type_id):
                raise Conflict(
                    "Tickets of this type were sold; deactivate it instead.",
                    code="ticket_type_has_bookings",
                )
            await conn.execute(self.queries["delete_ticket_type"], type_id)
            await conn.execute(self.queries["bump_event_seq"], event_id)
        self.on_change(event_id)
