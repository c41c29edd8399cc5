"""Waiting rooms: joining one's place, reading it, and admitting the places owed, each in a
transaction holding the room's row lock (never the event's: that stays the booking actor's)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from server.db import Queries
from server.errors import ApiError, NotFound
from server.waiting_room import rules
from server.waiting_room.rules import Place, Room
from server.waiting_room.tokens import QueueTokens

__all__ = ["NO_ROOM", "QUERIES", "Admitted", "WaitingRooms", "queue_view"]

QUERIES = (
    "lock_waiting_room", "draw_prequeue", "admit_places", "save_waiting_room", "rooms_to_admit",
    "queue_place", "insert_queue_place", "requeue_place", "read_waiting_room",
)  # fmt: skip
NO_ROOM = "This event has no waiting room."


@dataclass(frozen=True, slots=True)
class Admitted:
    """Places admitted by one admission: (user, position), in order, for how long."""

    event_id: int
    places: Sequence[tuple[int, int]]
    until: datetime | None = None


def queue_view(
    room: Room, place: Place, tokens: QueueTokens, user_id: int, now: datetime
) -> dict[str, Any]:
    """A place as the API (and a live message) shows it."""
    state = rules.state_of(room, place, now)
    places_ahead = rules.ahead(room, place) if state in ("waiting", "prequeue") else None
    if state == "admitted":
        places_ahead = 0
    admitted = state == "admitted" and place.admitted_until is not None
    return {
        "state": state,
        "position": place.position,
        "ahead": places_ahead,
        "eta_seconds": rules.eta_seconds(room, places_ahead) if state == "waiting" else None,
        "queue_token": (
            tokens.issue(room.event_id, user_id, place.admitted_until)
            if admitted and place.admitted_until is not None
            else None
        ),
        "admitted_until": place.admitted_until,
    }


@dataclass(frozen=True, slots=True)
class WaitingRooms:
    pool: asyncpg.Pool
    queries: Queries
    tokens: QueueTokens

    async def join(self, event_id: int, user_id: int) -> tuple[bool, dict[str, Any]]:
        """(whether a new place was given, the place): the same place when already queued, a
        new one at the back when one's admission ran out. Joins to the prequeue run side by
        side (the room's row shared); once places are given, one at a time."""
        async with self.pool.acquire() as conn:
            async with conn.transaction():
                joined = await self._join(conn, event_id, user_id, "SHARE")
            if joined is not None:
                return joined
            async with conn.transaction():
                joined = await self._join(conn, event_id, user_id, "UPDATE")
            assert joined is not None
            return joined

    async def _join(
        self, conn: asyncpg.Connection, event_id: int, user_id: int, strength: str
    ) -> tuple[bool, dict[str, Any]] | None:
        """The join, under the room's row lock of that strength; None when it needs more (a
        place to give, or the draw to make) than a shared lock allows."""
        room = await self._locked(conn, event_id, strength)
        if not room.open(room.stamp):
            raise ApiError(
                "The waiting room is not open yet: it opens 30 minutes before sales start.",
                code="queue_not_open",
            )
        if not room.selling:
            raise ApiError("This event is not on sale any more.", code="event_closed")
        stored = await conn.fetchrow(self.queries["queue_place"], event_id, user_id)
        place = Place(*stored) if stored else None
        fresh = place is None or rules.state_of(room, place, room.stamp) == "expired"
        prequeue = room.drawn_at is None and not room.draw_due(room.stamp)
        if fresh and strength == "SHARE" and not prequeue:
            return None
        if fresh:
            if room.draw_due(room.stamp):
                await self._draw(conn, room)
            position = self._next_position(room)
            if place is None:
                query = self.queries["insert_queue_place"]
                fresh = bool(await conn.fetchval(query, event_id, user_id, position))
            else:
                await conn.execute(self.queries["requeue_place"], event_id, user_id, position)
            if position is not None:
                await self._save(conn, room)
            place = Place(position, None, None)
        assert place is not None
        return fresh, queue_view(room, place, self.tokens, user_id, room.stamp)

    def _next_position(self, room: Room) -> int | None:
        """The back of the queue; none in the prequeue (the draw gives it)."""
        if room.drawn_at is None:
            return None
        room.last_position += 1
        return room.last_position

    async def place(self, event_id: int, user_id: int) -> dict[str, Any]:
        row = await self.pool.fetchrow(self.queries["read_waiting_room"], event_id)
        if row is None:
            raise NotFound(NO_ROOM)
        stored = await self.pool.fetchrow(self.queries["queue_place"], event_id, user_id)
        if stored is None:
            raise NotFound("You have not joined this waiting room.", code="not_in_queue")
        room = Room.from_row(row)
        return queue_view(room, Place(*stored), self.tokens, user_id, room.stamp)

    async def admit(self, event_id: int) -> Admitted:
        """Draw the prequeue if it is due, then admit the places owed by now: once, whatever
        instance runs it, since the room's row is locked and its counters only move on."""
        async with self.pool.acquire() as conn, conn.transaction():
            query = self.queries["lock_waiting_room"].format(strength="UPDATE")
            row = await conn.fetchrow(query, event_id)
            if row is None:
                return Admitted(event_id, ())
            room = Room.from_row(row)
            if room.draw_due(room.stamp):
                await self._draw(conn, room)
            after, through = rules.admit(room, room.stamp)
            places: list[tuple[int, int]] = []
            if through > after:
                rows = await conn.fetch(
                    self.queries["admit_places"], event_id, after, through, room.session_seconds
                )
                places = sorted(((r["user_id"], r["position"]) for r in rows), key=lambda p: p[1])
            await self._save(conn, room)
        until = room.stamp + timedelta(seconds=room.session_seconds)
        return Admitted(event_id, places, until)

    async def due(self) -> list[int]:
        """The rooms with a draw due or places waiting."""
        return [r["event_id"] for r in await self.pool.fetch(self.queries["rooms_to_admit"])]

    async def _locked(
        self, conn: asyncpg.Connection, event_id: int, strength: str = "UPDATE"
    ) -> Room:
        query = self.queries["lock_waiting_room"].format(strength=strength)
        row = await conn.fetchrow(query, event_id)
        if row is None:
            raise NotFound(NO_ROOM)
        return Room.from_row(row)

    async def _draw(self, conn: asyncpg.Connection, room: Room) -> None:
        prequeued = await conn.fetchval(
            self.queries["draw_prequeue"], room.event_id, room.last_position
        )
        room.drawn(prequeued, room.stamp)

    async def _save(self, conn: asyncpg.Connection, room: Room) -> None:
        await conn.execute(
            self.queries["save_waiting_room"], room.event_id, room.drawn_at, room.last_position,
            room.admitted_through, room.clock, room.window_start, room.window_admitted,
            room.observed_per_minute,
        )  # fmt: skip
