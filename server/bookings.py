"""Bookings: placing and cancelling go through the event's actor; reading goes to the database."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from server.actors.registry import ActorRegistry
from server.booking.commands import BookTickets, Command
from server.booking.outcomes import Booked, Outcome, Reason, Refused
from server.booking.rules import BOOKING_NOT_FOUND
from server.db import Queries
from server.errors import NotFound
from server.render import booking_item_json, booking_json

__all__ = ["QUERIES", "BookingFilters", "Bookings"]

QUERIES = (
    "booking_event", "booking_details", "booking_items_detail", "count_user_bookings",
    "user_booking_references", "count_event_bookings", "event_booking_references",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class BookingFilters:
    status: str | None = None
    event_id: int | None = None
    created_from: datetime | None = None
    created_until: datetime | None = None


class EventOf:
    """Which event each booking belongs to, for the last ``size`` bookings met: that never
    changes, and a hold's confirm then finds its actor without a query."""

    def __init__(self, size: int = 100_000) -> None:
        self._events: OrderedDict[uuid.UUID, int] = OrderedDict()
        self._size = size

    def get(self, reference: uuid.UUID) -> int | None:
        return self._events.get(reference)

    def put(self, reference: uuid.UUID, event_id: int) -> None:
        self._events[reference] = event_id
        if len(self._events) > self._size:
            self._events.popitem(last=False)


@dataclass(frozen=True, slots=True)
class Bookings:
    pool: asyncpg.Pool
    queries: Queries
    actors: ActorRegistry
    event_of: EventOf = field(default_factory=EventOf)

    async def place(self, event_id: int, command: BookTickets) -> Outcome:
        outcome = await self.actors.ask(event_id, command)
        if command.hold and isinstance(outcome, Booked):  # its confirm follows soon
            self.event_of.put(outcome.reference, event_id)
        return outcome

    async def change(self, user_id: int, reference: uuid.UUID, command: Command) -> Outcome:
        """Ask the actor of the event a user's booking belongs to (cancel, confirm, extend);
        whose booking it is, the actor decides (another user's is not found)."""
        event_id = self.event_of.get(reference)
        if event_id is None:
            event_id = await self.pool.fetchval(self.queries["booking_event"], reference, user_id)
            if event_id is None:
                return Refused(Reason.NOT_FOUND, BOOKING_NOT_FOUND)
            self.event_of.put(reference, event_id)
        return await self.actors.ask(event_id, command)

    async def get(self, user_id: int, reference: uuid.UUID) -> dict[str, Any]:
        [detail] = await self.details([reference], owner=user_id)
        return detail

    async def details(
        self,
        references: Sequence[uuid.UUID],
        *,
        with_username: bool = False,
        owner: int | None = None,
    ) -> list[dict[str, Any]]:
        """Booking detail JSON, in the order of ``references``; with ``owner``, a booking of
        anyone else (or none) is 404."""
        rows = await self.pool.fetch(self.queries["booking_details"], list(references))
        if len(rows) != len(set(references)) or (
            owner is not None and any(r["user_id"] != owner for r in rows)
        ):
            raise NotFound(BOOKING_NOT_FOUND)
        items = await self.pool.fetch(self.queries["booking_items_detail"], [r["id"] for r in rows])
        lines: dict[int, list[dict[str, Any]]] = {r["id"]: [] for r in rows}
        for item in items:
            lines[item["booking_id"]].append(
                booking_item_json(
                    item["id"], item["ticket_type_name"], item["quantity"], item["price_at_booking"]
                )
            )
        by_reference = {r["booking_reference"]: r for r in rows}
        return [
            _detail(by_reference[ref], lines[by_reference[ref]["id"]], with_username)
            for ref in references
        ]

    async def of_user(
        self, user_id: int, filters: BookingFilters, limit: int, offset: int
    ) -> tuple[int, list[dict[str, Any]]]:
        args = (
            user_id,
            filters.status,
            filters.event_id,
            filters.created_from,
            filters.created_until,
        )
        count = await self.pool.fetchval(self.queries["count_user_bookings"], *args)
        rows = await self.pool.fetch(self.queries["user_booking_references"], *args, limit, offset)
        return count, await self.details([r["booking_reference"] for r in rows])

    async def of_event(
        self, event_id: int, status: str | None, limit: int, offset: int
    ) -> tuple[int, list[dict[str, Any]]]:
        count = await self.pool.fetchval(self.queries["count_event_bookings"], event_id, status)
        rows = await self.pool.fetch(
            self.queries["event_booking_references"], event_id, status, limit, offset
        )
        references = [r["booking_reference"] for r in rows]
        return count, await self.details(references, with_username=True)


def _detail(
    row: asyncpg.Record, items: list[dict[str, Any]], with_username: bool
) -> dict[str, Any]:
    detail = booking_json(row, items)
    if with_username:
        detail["username"] = row["username"]
    return detail
