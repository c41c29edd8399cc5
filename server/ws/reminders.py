"""Reminders: what the users with a socket on this instance are told on a schedule, by this
instance alone (so never twice): their place in each waiting room while they wait, every
``QUEUE_EVERY`` seconds, and each hold of theirs 60 seconds before it runs out."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from server.db import DATABASE_ERRORS, Queries
from server.waiting_room.rooms import queue_view
from server.waiting_room.rules import Place, Room
from server.waiting_room.tokens import QueueTokens
from server.ws.hub import Hub
from server.ws.personal import hold_message, queue_message

__all__ = ["HOLD_WARNING", "QUERIES", "Reminders"]

log = logging.getLogger("stampede.live")

QUERIES = ("places_of_users", "holds_ending")
HOLD_WARNING = timedelta(seconds=60)
QUEUE_EVERY = 2.0  # seconds between two places told (at least every 5 s, says the contract)
TICK = 1.0


class Reminders:
    def __init__(self, pool: asyncpg.Pool, queries: Queries, hub: Hub, tokens: QueueTokens) -> None:
        self._pool = pool
        self._q = queries
        self._hub = hub
        self._tokens = tokens
        self._warned: dict[uuid.UUID, datetime] = {}  # holds warned of, and when they end

    async def run(self) -> None:
        """Until cancelled."""
        ticks = 0
        while True:
            try:
                await self.holds()
                if ticks % round(QUEUE_EVERY / TICK) == 0:
                    await self.places()
            except DATABASE_ERRORS as exc:
                log.warning("reminders: cannot reach the database (%r)", exc)
            ticks += 1
            await asyncio.sleep(TICK)

    async def holds(self) -> None:
        """Warn of the holds ending within a minute not warned of yet (a shorter hold: at
        once)."""
        now = datetime.now(UTC)
        self._warned = {ref: end for ref, end in self._warned.items() if end > now}
        users = self._hub.users_here()
        if not users:
            return
        rows = await self._pool.fetch(self._q["holds_ending"], users, now, now + HOLD_WARNING)
        for row in rows:
            if row["booking_reference"] not in self._warned:
                self._warned[row["booking_reference"]] = row["expires_at"]
                message = hold_message(
                    row["user_id"], row["booking_reference"], "pending", row["expires_at"]
                )
                self._hub.tell_here(*message)

    async def places(self) -> None:
        """Tell each user waiting in a room their place."""
        users = self._hub.users_here()
        if not users:
            return
        for row in await self._pool.fetch(self._q["places_of_users"], users):
            room = Room.from_row(row)
            place = Place(row["position"], row["admitted_at"], row["admitted_until"])
            view = queue_view(room, place, self._tokens, row["user_id"], room.stamp)
            self._hub.tell_here(row["user_id"], queue_message(room.event_id, view))
