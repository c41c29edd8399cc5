"""Ticket types: listing, and every change made under their event's row lock (the event row,
then its ticket types in id order, as the booking actor locks them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from server.db import Queries
from server.errors import ApiError, Conflict, FieldErrors, NotFound, PermissionDenied
from server.events import (
    EVENT_NOT_FOUND,
    NOT_OWNER,
    TICKET_TYPE_ORDERING,
    OnChange,
    check_window,
    locked_event,
    order_by,
)
from server.users import User

__all__ = ["QUERIES", "TicketTypes"]

QUERIES = (
    "lock_event", "event_organizer", "touch_event", "lock_ticket_types", "count_ticket_types",
    "list_ticket_types", "ticket_type_by_id", "lock_ticket_type", "insert_ticket_type",
    "update_ticket_type", "ticket_type_has_bookings", "delete_ticket_type", "keep_for_waitlist",
)  # fmt: skip
TICKET_TYPE_NOT_FOUND = "No TicketType matches the given query."
# The columns insert_ticket_type and update_ticket_type set, in their parameters' order.
TICKET_TYPE_FIELDS = (
    "name", "description", "price", "quantity_available", "is_active", "sales_start", "sales_end",
)  # fmt: skip
TICKET_TYPE_DEFAULTS = {
    "description": "",
    "is_active": True,
    "sales_start": None,
    "sales_end": None,
}


def _ignore(event_id: int, settle: bool) -> None:
    pass


def _for_waitlist(event: asyncpg.Record, stored: asyncpg.Record, available: int) -> int:
    """How many of the seats an organizer adds to a type go to its waiting entries instead of
    on sale: all of them while entries wait, as far as the event's capacity allows."""
    added: int = available - stored["quantity_available"]
    if added <= 0 or not stored["waiting"]:
        return 0
    room: int = event["total_capacity"] - event["tickets_sold"] - event["tickets_held"]
    return max(0, min(added, room))


@dataclass(frozen=True, slots=True)
class TicketTypes:
    pool: asyncpg.Pool
    queries: Queries
    on_change: OnChange = _ignore

    async def of_event(
        self, event_id: int, ordering: str | None, limit: int, offset: int
    ) -> tuple[int, list[asyncpg.Record]]:
        count = await self.pool.fetchval(self.queries["count_ticket_types"], event_id)
        clause = order_by(ordering, TICKET_TYPE_ORDERING, "id")
        sql = self.queries["list_ticket_types"].format(order_by=clause)
        return count, await self.pool.fetch(sql, event_id, limit, offset)

    async def add(self, user: User, event_id: int, data: dict[str, Any]) -> asyncpg.Record:
        if data["quantity_available"] < 1:
            raise FieldErrors(
                {"quantity_available": ["Quantity must be at least 1 when creating."]}
            )
        check_window(data, None)
        async with locked_event(self.pool, self.queries, user, event_id, NOT_OWNER) as (
            conn,
            event,
        ):
            if event["status"] == "cancelled":
                raise ApiError(
                    "Ticket types cannot be added to a cancelled event.", code="event_closed"
                )
            values = {**TICKET_TYPE_DEFAULTS, **data}
            type_id = await self._write(
                conn, "insert_ticket_type", event_id, *(values[f] for f in TICKET_TYPE_FIELDS)
            )
            row, settle = await self._touched(conn, event_id, type_id)
        self.on_change(event_id, settle)
        return row

    async def _write(self, conn: asyncpg.Connection, query: str, *args: Any) -> int:
        try:
            async with conn.transaction():  # a savepoint: a clash leaves the outer one usable
                type_id: int = await conn.fetchval(self.queries[query], *args)
                return type_id
        except asyncpg.UniqueViolationError:
            raise FieldErrors(
                {"name": ["This ticket name already exists for this event."]}
            ) from None

    async def _touched(
        self, conn: asyncpg.Connection, event_id: int, type_id: int
    ) -> tuple[asyncpg.Record, bool]:
        """A new version of the event for live subscribers: the type as the API shows it, and
        whether the event's waiting list is to be settled now."""
        settle = await conn.fetchval(self.queries["touch_event"], event_id)
        row = await conn.fetchrow(self.queries["ticket_type_by_id"], type_id, event_id)
        return row, bool(settle)

    async def get(self, user: User, event_id: int, type_id: int) -> asyncpg.Record:
        event = await self.pool.fetchrow(
            self.queries["lock_event"].replace(" FOR UPDATE", ""), event_id
        )
        if event is None:
            raise NotFound(EVENT_NOT_FOUND)
        if event["organizer_id"] != user.id:
            raise PermissionDenied(NOT_OWNER)
        row = await self.pool.fetchrow(self.queries["ticket_type_by_id"], type_id, event_id)
        if row is None:
            raise NotFound(TICKET_TYPE_NOT_FOUND)
        return row

    async def update(
        self, user: User, event_id: int, type_id: int, data: dict[str, Any]
    ) -> asyncpg.Record:
        async with locked_event(self.pool, self.queries, user, event_id) as (conn, event):
            await conn.execute(self.queries["lock_ticket_types"], event_id)
            stored = await conn.fetchrow(self.queries["lock_ticket_type"], type_id, event_id)
            if stored is None:
                raise NotFound(TICKET_TYPE_NOT_FOUND)
            check_window(data, stored)
            values = {f: data.get(f, stored[f]) for f in TICKET_TYPE_FIELDS}
            keep = _for_waitlist(event, stored, values["quantity_available"])
            values["quantity_available"] -= keep
            await self._write(conn, "update_ticket_type", type_id, event_id, *values.values())
            if keep:
                await conn.execute(self.queries["keep_for_waitlist"], type_id, event_id, keep)
            row, settle = await self._touched(conn, event_id, type_id)
        self.on_change(event_id, settle)
        return row

    async def delete(self, user: User, event_id: int, type_id: int) -> None:
        async with locked_event(self.pool, self.queries, user, event_id) as (conn, _):
            await conn.execute(self.queries["lock_ticket_types"], event_id)
            if await conn.fetchrow(self.queries["lock_ticket_type"], type_id, event_id) is None:
                raise NotFound(TICKET_TYPE_NOT_FOUND)
            if await conn.fetchval(self.queries["ticket_type_has_bookings"], type_id):
                raise Conflict(
                    "Tickets of this type were sold; deactivate it instead.",
                    code="ticket_type_has_bookings",
                )
            await conn.execute(self.queries["delete_ticket_type"], type_id)
            settle = await conn.fetchval(self.queries["touch_event"], event_id)
        self.on_change(event_id, bool(settle))
