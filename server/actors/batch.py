"""One batch of an event's commands in one PostgreSQL transaction.

The counts are read under ``SELECT … FOR UPDATE`` (event row, then its ticket types in id order,
then the bookings to cancel), every command is applied in order against them, and everything the
batch writes goes out in one statement. Memory is never trusted across batches: another instance,
or this actor after a restart, always starts from the locked rows. A transient failure retries
the batch; a failure during COMMIT is resolved by looking for what the batch would have written.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg
import orjson

from server.actors.commands import (
    Booked,
    BookingRejected,
    BookTickets,
    CancelBooking,
    Cancelled,
    Command,
    Outcome,
    booking_unavailable,
    outcome_unknown,
)
from server.db import Queries
from server.errors import ApiError, NotFound
from server.mail import booking_cancelled_mail, booking_confirmed_mail
from server.render import booking_item_json, booking_json

__all__ = ["QUERIES", "BatchResult", "BatchRunner", "Turn"]

log = logging.getLogger("stampede.actors")

QUERIES = (
    "lock_event_for_booking", "ticket_types_elsewhere", "lock_late_ticket_types",
    "lock_bookings_to_cancel", "booking_items_of", "apply_batch", "batch_committed",
    "claim_idempotency_key", "idempotency_key_owner", "release_idempotency_key",
)  # fmt: skip
TRANSIENT = (
    asyncpg.TransactionRollbackError,  # deadlock, serialization failure
    asyncpg.PostgresConnectionError,
    asyncpg.OperatorInterventionError,  # backend terminated, server shutting down
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,  # asyncpg's state error when a connection dies mid-query
    OSError,
    TimeoutError,
)
MAX_PAUSE = 0.5  # between retries of a batch
MAX_TOTAL = Decimal("9999999999.99")  # bookings.total_price is numeric(12, 2)
BOOKING_NOT_FOUND = "No Booking matches the given query."


def _nothing() -> None:
    pass


@dataclass(slots=True)
class TicketState:
    id: int
    name: str
    price: Decimal
    available: int
    sold: int
    active: bool
    changed: bool = False


@dataclass(frozen=True, slots=True)
class BatchResult:
    outcomes: list[Outcome]
    seq: int | None  # the event's new version, when the batch changed it
    missing: bool = False  # there is no such event (any more)


@dataclass(frozen=True, slots=True)
class Turn:
    """A batch's place in line, as the batch after it sees it.

    The next batch starts while this one commits, and waits in PostgreSQL for the event's
    lock. Once it has the lock it reads ``committed``: True, this batch is done and the next
    goes on; False, this batch's COMMIT failed and it must first settle whether it landed
    (and perhaps run again), so the next one lets go of the lock and waits for ``finished``.
    Batches thus commit in the order they started, and two at most are in flight.
    """

    committed: asyncio.Future[bool]
    finished: asyncio.Future[None]

    @classmethod
    def new(cls) -> Turn:
        loop = asyncio.get_running_loop()
        return cls(loop.create_future(), loop.create_future())

    def settle(self, committed: bool) -> None:
        if not self.committed.done():
            self.committed.set_result(committed)


class _AfterPrevious(Exception):
    """Raised inside a transaction to give the lock back to the batch before this one."""


@dataclass(slots=True)
class Plan:
    """What a batch will write, and the answer each command gets once it is committed."""

    event_id: int
    event_name: str
    stamp: datetime
    sold: int
    types: dict[int, TicketState]
    outcomes: list[Outcome | _Repeat | None]
    # (index of the command, the command, its total price) of each accepted booking
    bookings: list[tuple[int, BookTickets, Decimal]] = field(default_factory=list)
    cancelled_ids: list[int] = field(default_factory=list)
    keys: list[tuple[int, str, uuid.UUID]] = field(default_factory=list)
    mails: list[tuple[int, str, str]] = field(default_factory=list)  # (user id, subject, body)

    @property
    def writes(self) -> bool:
        return bool(self.bookings or self.cancelled_ids)


class BatchRunner:
    def __init__(
        self, pool: asyncpg.Pool, queries: Queries, retry_seconds: float = 6.0, spare: int = 4
    ) -> None:
        """``retry_seconds``: how long a batch retries transient failures; long enough to ride
        out a PostgreSQL restart and learn whether a COMMIT that lost its connection landed,
        and shorter than the askers wait."""
        self._pool = pool
        self._retry_seconds = retry_seconds
        self._q = queries
        self._max_spare = spare
        self._spare: list[asyncpg.Connection] = []

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pool connection, kept between batches instead of released: on a hot event the
        release (a task and two trips through a busy event loop) was a sixth of each batch."""
        conn = self._kept() or await self._pool.acquire()
        try:
            yield conn
        except BaseException:
            await self._pool.release(conn)  # possibly broken: the pool decides
            raise
        if len(self._spare) < self._max_spare and _usable(conn):
            self._spare.append(conn)
        else:
            await self._pool.release(conn)

    def _kept(self) -> asyncpg.Connection | None:
        """A kept connection that still works (one whose server went away is dropped)."""
        while self._spare:
            conn = self._spare.pop()
            if _usable(conn):
                return conn
        return None

    async def close(self) -> None:
        """Give the kept connections back to the pool (before it closes)."""
        spare, self._spare = self._spare, []
        for conn in spare:
            await self._pool.release(conn)

    async def run(
        self,
        event_id: int,
        commands: Sequence[Command],
        before_commit: Callable[[], None] = _nothing,
        turn: Turn | None = None,
        previous: Turn | None = None,
    ) -> BatchResult:
        """Every command's outcome; a batch that cannot commit answers 503 to each command.

        ``before_commit`` is called when only this batch's COMMIT is left (or when it failed):
        it still holds the event's lock, so a batch started then waits for this one's commit.
        ``turn`` is this batch's place in line, ``previous`` that of the batch before it.
        """
        turn = turn or Turn.new()
        try:
            return await self._run_with_retries(event_id, commands, before_commit, turn, previous)
        except TRANSIENT:
            turn.settle(False)
            before_commit()
            log.warning("event %s: batch of %d failed after retries", event_id, len(commands))
        except Exception:
            turn.settle(False)
            before_commit()
            if len(commands) > 1:  # find the culprit: every other command still gets its answer
                log.exception("event %s: batch failed; running its commands one by one", event_id)
                results = [await self.run(event_id, [c]) for c in commands]
                seqs = [r.seq for r in results if r.seq is not None]
                return BatchResult([r.outcomes[0] for r in results], max(seqs, default=None))
            log.exception("event %s: command %r failed", event_id, commands[0])
        finally:
            if not turn.finished.done():
                turn.finished.set_result(None)
        return BatchResult([booking_unavailable() for _ in commands], None)

    async def _run_with_retries(
        self,
        event_id: int,
        commands: Sequence[Command],
        before_commit: Callable[[], None],
        turn: Turn,
        previous: Turn | None,
    ) -> BatchResult:
        uncertain: Plan | None = None  # a plan whose COMMIT failed: it may or may not have landed
        deadline = time.monotonic() + self._retry_seconds
        for attempt in itertools.count(1):
            plan: Plan | None = None
            try:
                async with self._connection() as conn, conn.transaction():
                    locked = await conn.fetch(self._q["lock_event_for_booking"], event_id)
                    if previous is not None and not await previous.committed:
                        raise _AfterPrevious
                    previous = None
                    if uncertain is not None and await self._committed(conn, uncertain):
                        # It did commit: its answers stand, and the event is at least this new.
                        return self._answers(uncertain, seq=locked[0]["seq"])
                    uncertain = None
                    plan = await self._plan(conn, event_id, locked, commands)
                    seq = await self._apply(conn, plan) if plan.writes else None
                    uncertain = plan  # from here on, only COMMIT is left
                    before_commit()
                turn.settle(True)
                return self._answers(plan, seq, missing=not locked)
            except _AfterPrevious:
                assert previous is not None
                await previous.finished  # it settles its COMMIT, then this batch runs again
                previous = None
            except TRANSIENT as exc:
                turn.settle(False)
                pause = min(0.05 * 2**attempt, MAX_PAUSE)
                if time.monotonic() + pause > deadline:
                    if uncertain is not None:  # given up not knowing: say so, honestly
                        return self._unknown(uncertain, commands)
                    raise
                log.warning(
                    "event %s: batch attempt %d failed (%r); retrying", event_id, attempt, exc
                )
                await asyncio.sleep(pause)
        raise AssertionError("unreachable")

    @staticmethod
    def _unknown(plan: Plan, commands: Sequence[Command]) -> BatchResult:
        """The answers of a plan whose COMMIT may or may not have landed: unknown for what it
        would have written, 'nothing done' for what it refused."""
        new = {command.reference for _, command, _ in plan.bookings}
        outcomes: list[Outcome] = []
        for command, outcome in zip(commands, plan.outcomes, strict=True):
            if isinstance(outcome, Booked) and outcome.replayed and outcome.reference not in new:
                outcomes.append(outcome)  # an earlier booking's replay: certain
            elif isinstance(outcome, Booked | Cancelled):
                outcomes.append(outcome_unknown(command))
            else:
                outcomes.append(booking_unavailable())
        return BatchResult(outcomes, None)

    async def _committed(self, conn: asyncpg.Connection, plan: Plan) -> bool:
        references = [command.reference for _, command, _ in plan.bookings]
        return bool(
            await conn.fetchval(
                self._q["batch_committed"], references, plan.cancelled_ids, plan.stamp
            )
        )

    @staticmethod
    def _answers(plan: Plan, seq: int | None, missing: bool = False) -> BatchResult:
        outcomes: list[Outcome] = []
        for outcome in plan.outcomes:
            assert not isinstance(outcome, _Repeat)
            outcomes.append(outcome if outcome is not None else booking_unavailable())
        return BatchResult(outcomes, seq, missing)

    async def _plan(
        self,
        conn: asyncpg.Connection,
        event_id: int,
        locked: list[asyncpg.Record],
        commands: Sequence[Command],
    ) -> Plan:
        event = locked[0] if locked else None
        types = {
            r["type_id"]: TicketState(
                r["type_id"],
                r["type_name"],
                r["price"],
                r["quantity_available"],
                r["quantity_sold"],
                r["is_active"],
            )
            for r in locked
            if r["type_id"] is not None
        }
        plan = Plan(
            event_id=event_id,
            event_name=event["name"] if event else "",
            stamp=event["stamp"] if event else datetime.min,
            sold=event["tickets_sold"] if event else 0,
            types=types,
            outcomes=[None] * len(commands),
        )
        to_cancel = await self._lock_cancellations(conn, event_id, commands)
        claimed: dict[tuple[int, str], tuple[bytes, int]] = {}
        for index, command in enumerate(commands):
            if isinstance(command, CancelBooking):
                plan.outcomes[index] = self._cancel(plan, command, to_cancel)
                continue
            if command.idempotency_key is not None:
                earlier = await self._claim_key(conn, command, index, claimed)
                if earlier is not None:
                    plan.outcomes[index] = earlier
                    continue
            outcome = await self._book(conn, plan, event, index, command)
            plan.outcomes[index] = outcome
            if isinstance(outcome, Booked) and command.idempotency_key is not None:
                plan.keys.append((command.user_id, command.idempotency_key, command.reference))
            elif command.idempotency_key is not None:  # a refused booking frees its key
                await conn.execute(
                    self._q["release_idempotency_key"], command.user_id, command.idempotency_key
                )
        self._resolve_repeats(plan)
        return plan

    async def _claim_key(
        self,
        conn: asyncpg.Connection,
        command: BookTickets,
        index: int,
        claimed: dict[tuple[int, str], tuple[bytes, int]],
    ) -> Outcome | _Repeat | None:
        """None when this command owns its key; else the answer a repeat gets."""
        assert command.idempotency_key is not None
        slot = (command.user_id, command.idempotency_key)
        if slot in claimed:  # a repeat inside this batch: answered once the first is decided
            first_hash, _ = claimed[slot]
            if first_hash != command.request_hash:
                return _key_reused()
            return _Repeat(claimed[slot][1])
        if await conn.fetchval(self._q["claim_idempotency_key"], *slot, command.request_hash):
            claimed[slot] = (command.request_hash, index)
            return None
        owner = await conn.fetchrow(self._q["idempotency_key_owner"], *slot)
        if owner is None or owner["request_hash"] != command.request_hash:
            return _key_reused()
        if owner["booking_reference"] is None:
            return ApiError(
                "This Idempotency-Key is in use.", code="idempotency_key_in_use", status=409
            )
        return Booked(owner["booking_reference"], replayed=True)

    @staticmethod
    def _resolve_repeats(plan: Plan) -> None:
        """A repeat in the same batch gets what its first copy got (as a replay, if booked)."""
        for index, outcome in enumerate(plan.outcomes):
            if isinstance(outcome, _Repeat):
                first = plan.outcomes[outcome.first]
                assert first is not None
                assert not isinstance(first, _Repeat)
                if isinstance(first, Booked):
                    plan.outcomes[index] = Booked(first.reference, replayed=True)
                else:
                    plan.outcomes[index] = first

    async def _lock_cancellations(
        self, conn: asyncpg.Connection, event_id: int, commands: Sequence[Command]
    ) -> dict[uuid.UUID, dict[str, Any]]:
        references = [c.reference for c in commands if isinstance(c, CancelBooking)]
        if not references:
            return {}
        rows = await conn.fetch(self._q["lock_bookings_to_cancel"], references, event_id)
        items = await conn.fetch(self._q["booking_items_of"], [r["id"] for r in rows])
        bookings = {r["booking_reference"]: {**dict(r), "items": []} for r in rows}
        by_id = {b["id"]: b for b in bookings.values()}
        for item in items:
            by_id[item["booking_id"]]["items"].append((item["ticket_type_id"], item["quantity"]))
        return bookings

    @staticmethod
    def _cancel(
        plan: Plan, command: CancelBooking, bookings: dict[uuid.UUID, dict[str, Any]]
    ) -> Outcome:
        booking = bookings.get(command.reference)
        if booking is None or booking["user_id"] != command.user_id:
            return NotFound(BOOKING_NOT_FOUND)
        if booking["status"] != "confirmed":
            return BookingRejected(
                "Booking already cancelled or invalid status.", code="booking_not_cancellable"
            )
        booking["status"] = "cancelled"  # a second cancel in this batch sees it
        for type_id, quantity in booking["items"]:
            state = plan.types[type_id]
            state.available += quantity
            state.sold -= quantity
            state.changed = True
            plan.sold -= quantity
        plan.cancelled_ids.append(booking["id"])
        mail = booking_cancelled_mail(plan.event_name, str(command.reference))
        plan.mails.append((command.user_id, *mail))
        return Cancelled(command.reference)

    async def _book(
        self,
        conn: asyncpg.Connection,
        plan: Plan,
        event: asyncpg.Record | None,
        index: int,
        command: BookTickets,
    ) -> Outcome:
        unknown = [type_id for type_id, _ in command.items if type_id not in plan.types]
        if unknown and event is not None:
            unknown = await self._lock_late_types(conn, plan, unknown)
        if unknown:
            elsewhere = await conn.fetchval(self._q["ticket_types_elsewhere"], unknown)
            message = (
                "All ticket types must belong to the same event."
                if elsewhere == len(unknown)
                else "One or more ticket types are invalid."
            )
            return _invalid(message)
        assert event is not None
        if event["status"] in ("cancelled", "past") or event["started"]:
            return BookingRejected("This event is not open for booking.", code="event_closed")
        wanted = sum(quantity for _, quantity in command.items)
        if event["total_capacity"] < plan.sold + wanted:
            return BookingRejected(
                "Booking exceeds event capacity or ticket availability.", code="capacity_exceeded"
            )
        for type_id, quantity in command.items:
            state = plan.types[type_id]
            if state.available < quantity:
                return BookingRejected(f"Not enough tickets for: {state.name}.", code="sold_out")
            if not state.active:
                return BookingRejected(
                    "The ticket type is not available.", code="ticket_type_inactive"
                )
        total = sum((plan.types[t].price * q for t, q in command.items), Decimal(0))
        if total > MAX_TOTAL:
            return BookingRejected("The booking total is too large.", code="amount_too_large")
        for type_id, quantity in command.items:
            state = plan.types[type_id]
            state.available -= quantity
            state.sold += quantity
            state.changed = True
        plan.sold += wanted
        plan.bookings.append((index, command, total))
        lines = [(plan.types[t].name, q, plan.types[t].price) for t, q in command.items]
        mail = booking_confirmed_mail(plan.event_name, str(command.reference), lines, total)
        plan.mails.append((command.user_id, *mail))
        return Booked(command.reference)

    async def _lock_late_types(
        self, conn: asyncpg.Connection, plan: Plan, type_ids: list[int]
    ) -> list[int]:
        """Lock and add the event's ticket types that the lock statement's snapshot missed
        (added by a transaction it waited for); return the ids that are still unknown. The
        event's lock is held, so no other transaction can be locking them meanwhile."""
        for r in await conn.fetch(self._q["lock_late_ticket_types"], type_ids, plan.event_id):
            plan.types[r["id"]] = TicketState(
                r["id"], r["name"], r["price"], r["quantity_available"], r["quantity_sold"],
                r["is_active"],
            )  # fmt: skip
        return [type_id for type_id in type_ids if type_id not in plan.types]

    async def _apply(self, conn: asyncpg.Connection, plan: Plan) -> int:
        bookings = [command for _, command, _ in plan.bookings]
        items = [(c.reference, t, q, plan.types[t].price) for c in bookings for t, q in c.items]
        changed = [s for s in plan.types.values() if s.changed]
        row = await conn.fetchrow(
            self._q["apply_batch"],
            plan.event_id,
            [c.reference for c in bookings],
            [c.user_id for c in bookings],
            [total for _, _, total in plan.bookings],
            *_columns(items, 4),
            plan.cancelled_ids,
            [s.id for s in changed],
            [s.available for s in changed],
            [s.sold for s in changed],
            *_columns(plan.keys, 3),
            plan.sold,
            *_columns(plan.mails, 3),
        )
        item_ids = {(ref, type_id): item_id for ref, item_id, type_id in orjson.loads(row["items"])}
        for index, command, total in plan.bookings:
            plan.outcomes[index] = Booked(
                command.reference, detail=_detail(plan, command, total, item_ids)
            )
        return int(row["seq"])


def _usable(conn: asyncpg.Connection) -> bool:
    try:
        return not conn.is_closed()
    except asyncpg.InterfaceError:  # the pool took it back itself when its connection died
        return False


def _columns(rows: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows turned into ``width`` column lists, for ``unnest`` of several arrays."""
    return [[row[i] for row in rows] for i in range(width)]


def _detail(
    plan: Plan, command: BookTickets, total: Decimal, item_ids: dict[tuple[str, int], int]
) -> dict[str, Any]:
    """The 201 body of a new booking, built from what the batch wrote."""
    reference = str(command.reference)
    lines = [
        booking_item_json(
            item_ids[(reference, type_id)],
            plan.types[type_id].name,
            quantity,
            plan.types[type_id].price,
        )
        for type_id, quantity in command.items
    ]
    written = {
        "booking_reference": reference,
        "event_id": plan.event_id,
        "event_name": plan.event_name,
        "status": "confirmed",
        "created_at": plan.stamp,
        "updated_at": plan.stamp,
        "cancelled_at": None,
        "total_price": total,
    }
    return booking_json(written, lines)


@dataclass(frozen=True, slots=True)
class _Repeat:
    """A repeat of the command at ``first`` in the same batch, under the same key."""

    first: int


def _invalid(message: str) -> BookingRejected:
    return BookingRejected(message, code="invalid_ticket_types", non_field_errors=[message])


def _key_reused() -> ApiError:
    return ApiError(
        "This Idempotency-Key was used with a different request.",
        code="idempotency_key_reused",
        status=422,
    )
