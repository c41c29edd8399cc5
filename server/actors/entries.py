"""A batch's reads of the waiting list, under the event's lock: the entries its commands and
bookings name, its joiners' live entries, and each type's queue, read a page at a time while
the type has seats to offer. ``settle`` runs the waiting list's rules over them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import asyncpg

from server.booking import waitlist
from server.booking.outcomes import Closed, Offered
from server.booking.state import EntryState, EventState, TicketState
from server.db import Queries

__all__ = ["QUERIES", "Entries"]

QUERIES = ("lock_waitlist_entries", "live_waitlist_entries", "waiting_entries", "customer_tickets")
PAGE = 500
EVERY = 2**31 - 1  # no limit on an entry's quantity


class Entries:
    def __init__(self, conn: asyncpg.Connection, queries: Queries, state: EventState) -> None:
        self._conn = conn
        self._q = queries
        self._state = state

    async def lock(self, ids: Iterable[int]) -> None:
        """Lock and load the entries (those not loaded yet)."""
        wanted = sorted(set(ids) - self._state.entries.keys())
        if not wanted:
            return
        for row in await self._conn.fetch(self._q["lock_waitlist_entries"], self._state.id, wanted):
            self._state.entries[row["id"]] = EntryState(
                row["id"], row["user_id"], row["ticket_type_id"], row["quantity"], row["status"],
                row["booking_reference"], row["expires_at"],
            )  # fmt: skip

    async def live(self, users: Iterable[int]) -> None:
        """Note which of the users already have a live entry, for which type."""
        wanted = sorted(set(users))
        if wanted:
            rows = await self._conn.fetch(self._q["live_waitlist_entries"], self._state.id, wanted)
            self._state.live_entries = {(r["user_id"], r["ticket_type_id"]) for r in rows}

    async def settle(self, now: datetime, everything: bool) -> list[Offered | Closed]:
        """Settle each type with something new (``everything``: each with entries or kept
        seats): offer what it has, in joining order, or close its entries when it no longer
        sells; then nobody waiting means nothing kept back."""
        state = self._state
        done: list[Offered | Closed] = []
        for ticket in waitlist.unsettled(state, everything):
            joined = [entry for entry in state.joined if entry.type_id == ticket.id]
            if state.selling(ticket, now):
                after = 0
                while (most := waitlist.offerable(state, ticket)) > 0:
                    page = await self._waiting(ticket, most, after)
                    done += waitlist.offer(state, ticket, page, now)
                    if len(page) < PAGE:
                        break
                    after = page[-1].id or 0
                done += waitlist.offer(state, ticket, joined, now)  # they joined last
            else:
                after = 0
                while page := await self._waiting(ticket, EVERY, after):
                    done += waitlist.close(state, ticket, page)
                    after = page[-1].id or 0
                done += waitlist.close(state, ticket, joined)
            waitlist.release(state, ticket)
        return done

    async def _waiting(self, ticket: TicketState, most: int, after: int) -> list[EntryState]:
        """The next page of the type's waiting entries of at most ``most`` tickets, locked; an
        entry the batch already holds is that one (it may have left meanwhile)."""
        rows = await self._conn.fetch(self._q["waiting_entries"], ticket.id, most, after, PAGE)
        page: list[EntryState] = []
        for row in rows:
            entry = self._state.entries.get(row["id"])
            if entry is None:
                entry = EntryState(
                    row["id"], row["user_id"], row["ticket_type_id"], row["quantity"]
                )
                self._state.entries[row["id"]] = entry
            page.append(entry)
        await self._customers(entry.user_id for entry in page)
        return page

    async def _customers(self, users: Iterable[int]) -> None:
        """The tickets of the users whose counts the batch lacks, when the event limits them."""
        state = self._state
        if state.max_per_customer is None:
            return
        wanted = sorted(set(users) - state.customers.keys())
        if wanted:
            rows = await self._conn.fetch(self._q["customer_tickets"], state.id, wanted)
            state.customers.update(dict.fromkeys(wanted, 0))
            state.customers.update((r["user_id"], r["tickets"]) for r in rows)
