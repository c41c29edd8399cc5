"""The Idempotency-Key protocol inside a batch's transaction.

A booking with a key first claims it (a primary key in PostgreSQL: a racing copy on another
connection waits for the first to commit, then finds it taken). The key is the command's when
the claim succeeds; else the stored request is answered again (``rules.replay``). A copy in
the same batch repeats its first copy's answer. A refused booking frees its key; a booked one
is linked to its booking when the batch writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import asyncpg

from server.booking.commands import Keyed
from server.booking.outcomes import Outcome
from server.booking.rules import replay
from server.db import Queries

__all__ = ["QUERIES", "Keys", "Repeat"]

QUERIES = ("claim_idempotency_key", "idempotency_key_owner", "release_idempotency_key")


@dataclass(frozen=True, slots=True)
class Repeat:
    """A repeat of the command at ``first`` in the same batch, under the same key."""

    first: int


@dataclass(slots=True)
class Keys:
    """The keys of one batch's commands, claimed on the batch's connection."""

    conn: asyncpg.Connection
    q: Queries
    _claimed: dict[tuple[int, str], tuple[bytes, int]] = field(default_factory=dict)

    async def claim(self, index: int, command: Keyed) -> Outcome | Repeat | None:
        """None when the key is now this command's; else the answer a repeat gets."""
        assert command.idempotency_key is not None
        slot = (command.user_id, command.idempotency_key)
        if slot in self._claimed:
            first_hash, first = self._claimed[slot]
            if first_hash != command.request_hash:
                return replay(command, first_hash, None)  # another body: the key is reused
            return Repeat(first)
        if await self.conn.fetchval(self.q["claim_idempotency_key"], *slot, command.request_hash):
            self._claimed[slot] = (command.request_hash, index)
            return None
        owner = await self.conn.fetchrow(self.q["idempotency_key_owner"], *slot)
        if owner is None:  # it expired and was purged meanwhile: claim it afresh
            return await self.claim(index, command)
        return replay(command, owner["request_hash"], owner["booking_reference"])

    async def release(self, command: Keyed) -> None:
        """A refused booking frees its key for the next try."""
        await self.conn.execute(
            self.q["release_idempotency_key"], command.user_id, command.idempotency_key
        )
