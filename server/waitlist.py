"""The waiting list: joining and leaving go through the event's actor (which makes the offers);
reading goes to the database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from server.actors.registry import ActorRegistry
from server.booking.commands import JoinWaitlist, LeaveWaitlist
from server.booking.outcomes import Outcome, Reason, Refused
from server.booking.waitlist import ENTRY_NOT_FOUND
from server.db import Queries
from server.render import waitlist_entry_json

__all__ = ["QUERIES", "Waitlist"]

QUERIES = (
    "waitlist_entry_event", "waitlist_entries_detail", "count_user_waitlist", "user_waitlist_ids",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Waitlist:
    pool: asyncpg.Pool
    queries: Queries
    actors: ActorRegistry

    async def join(self, event_id: int, command: JoinWaitlist) -> Outcome:
        return await self.actors.ask(event_id, command)

    async def leave(self, command: LeaveWaitlist) -> Outcome:
        """Ask the actor of the entry's event; another user's entry is not found."""
        event_id = await self.pool.fetchval(
            self.queries["waitlist_entry_event"], command.entry_id, command.user_id
        )
        if event_id is None:
            return Refused(Reason.NOT_FOUND, ENTRY_NOT_FOUND)
        return await self.actors.ask(event_id, command)

    async def details(self, ids: Sequence[int]) -> list[dict[str, Any]]:
        """Entries as the API shows them, in the order of ``ids``."""
        rows = await self.pool.fetch(self.queries["waitlist_entries_detail"], list(ids))
        by_id = {row["id"]: row for row in rows}
        return [waitlist_entry_json(by_id[entry_id]) for entry_id in ids]

    async def of_user(
        self, user_id: int, status: str | None, limit: int, offset: int
    ) -> tuple[int, list[dict[str, Any]]]:
        count = await self.pool.fetchval(self.queries["count_user_waitlist"], user_id, status)
        rows = await self.pool.fetch(
            self.queries["user_waitlist_ids"], user_id, status, limit, offset
        )
        return count, await self.details([row["id"] for row in rows])
