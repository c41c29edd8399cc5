"""One batch of an event's commands in one PostgreSQL transaction: locking, the plan, the
write, retries, and settling a COMMIT whose answer was lost.

The counts are read under ``SELECT … FOR UPDATE`` (event row, then its ticket types in id
order, then the bookings to cancel); the rules decide every command in order against them
(``planning``), and everything the batch writes goes out in one statement (``store``). Memory
is never trusted across batches: another instance, or this actor after a restart, always
starts from the locked rows. A transient failure retries the batch; a failure during COMMIT
is settled by looking for what the batch would have written.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from server.actors import idempotency, store
from server.actors.entries import Entries
from server.actors.idempotency import Keys
from server.actors.planning import Notices, Plan, make_plan
from server.booking.commands import Command
from server.booking.outcomes import (
    Booked,
    Cancelled,
    Closed,
    Expired,
    Joined,
    Left,
    Offered,
    Outcome,
    booking_unavailable,
    outcome_unknown,
)
from server.db import Queries

__all__ = ["QUERIES", "BatchResult", "BatchRunner", "Turn"]

log = logging.getLogger("stampede.actors")

QUERIES = (*store.QUERIES, *idempotency.QUERIES)
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


def _nothing() -> None:
    pass


@dataclass(frozen=True, slots=True)
class BatchResult:
    outcomes: list[Outcome]
    seq: int | None  # the event's new version, when the batch changed it
    missing: bool = False  # there is no such event (any more)
    deadline: datetime | None = None  # when the event next has something due
    expired: tuple[Expired, ...] = ()  # holds given back, their time having run out
    settled: tuple[Offered | Closed, ...] = ()  # waiting-list entries offered seats, or closed
    retries: int = 0  # attempts it took beyond the first (deadlocks, lost connections)


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

    def finish(self) -> None:
        if not self.finished.done():
            self.finished.set_result(None)


class _AfterPrevious(Exception):
    """Raised inside a transaction to give the lock back to the batch before this one."""


class BatchRunner:
    def __init__(
        self,
        pool: asyncpg.Pool,
        queries: Queries,
        notices: Notices,
        retry_seconds: float = 6.0,
        spare: int = 4,
    ) -> None:
        """``retry_seconds``: how long a batch retries transient failures; long enough to ride
        out a PostgreSQL restart and learn whether a COMMIT that lost its connection landed,
        and shorter than the askers wait. ``notices`` composes the owners' mails."""
        self._pool = pool
        self._q = queries
        self._notices = notices
        self._retry_seconds = retry_seconds
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
            turn.finish()
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
            try:
                async with self._connection() as conn, conn.transaction():
                    locked = await conn.fetch(self._q["lock_event_for_booking"], event_id)
                    if previous is not None and not await previous.committed:
                        raise _AfterPrevious
                    previous = None
                    if uncertain is not None and await store.committed(
                        conn, self._q, event_id, uncertain.writes, uncertain.stamp
                    ):  # it did commit: its answers stand, and the event is at least this new
                        return BatchResult(uncertain.outcomes, locked[0]["seq"], deadline=now())
                    uncertain = None
                    plan, result = await self._plan_and_write(conn, event_id, locked, commands)
                    uncertain = plan  # from here on, only COMMIT is left
                    before_commit()
                turn.settle(True)
                return result if attempt == 1 else dataclasses.replace(result, retries=attempt - 1)
            except _AfterPrevious:
                assert previous is not None
                await previous.finished  # it settles its COMMIT, then this batch runs again
                previous = None
            except TRANSIENT as exc:
                turn.settle(False)
                pause = min(0.05 * 2**attempt, MAX_PAUSE)
                if time.monotonic() + pause > deadline:
                    if uncertain is not None:  # given up not knowing: say so, honestly
                        return BatchResult(_unknown(uncertain, commands), None)
                    raise
                log.warning(
                    "event %s: batch attempt %d failed (%r); retrying", event_id, attempt, exc
                )
                await asyncio.sleep(pause)
        raise AssertionError("unreachable")

    async def _plan_and_write(
        self,
        conn: asyncpg.Connection,
        event_id: int,
        locked: list[asyncpg.Record],
        commands: Sequence[Command],
    ) -> tuple[Plan, BatchResult]:
        state = await store.load_state(conn, self._q, event_id, locked, commands)
        times = store.lock_times(locked)
        entries = Entries(conn, self._q, state)
        plan = await make_plan(Keys(conn, self._q), entries, state, commands, times, self._notices)
        seq, next_transition = None, times.next_transition
        if plan.writes:
            written = await store.write(conn, self._q, state, plan.writes)
            seq, next_transition = written.seq, written.next_transition
            plan.written(written)
        deadline = plan.deadline(times, next_transition)
        result = BatchResult(
            plan.outcomes, seq, not locked, deadline, tuple(plan.expired), tuple(plan.settled)
        )
        return plan, result


def now() -> datetime:
    return datetime.now(UTC)


def _unknown(plan: Plan, commands: Sequence[Command]) -> list[Outcome]:
    """The answers of a plan whose COMMIT may or may not have landed: unknown for what it
    would have written, 'nothing done' for what it refused."""
    new = {row.reference for row in plan.writes.bookings}
    outcomes: list[Outcome] = []
    for command, outcome in zip(commands, plan.outcomes, strict=True):
        if isinstance(outcome, Booked) and outcome.replayed and outcome.reference not in new:
            outcomes.append(outcome)  # an earlier booking's replay: certain
        elif isinstance(outcome, Booked | Cancelled | Joined | Left):
            outcomes.append(outcome_unknown(command))
        else:
            outcomes.append(booking_unavailable())
    return outcomes


def _usable(conn: asyncpg.Connection) -> bool:
    try:
        return not conn.is_closed()
    except asyncpg.InterfaceError:  # the pool took it back itself when its connection died
        return False
