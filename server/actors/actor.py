"""``EventActor``: one mailbox and one loop per event, turning waiting commands into batches."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from server.actors.transaction import BatchResult, BatchRunner, Turn
from server.booking.commands import Command, Tick
from server.booking.outcomes import (
    NotDone,
    Outcome,
    Unavailable,
    booking_unavailable,
    outcome_unknown,
)

__all__ = ["ActorSettings", "EventActor", "RunObserver"]

log = logging.getLogger("stampede.actors")

Mail = tuple[Command, "asyncio.Future[Outcome]"]
# Told of every batch: its commands, those still waiting when it started, its seconds, result.
RunObserver = Callable[[Sequence[Command], int, float, BatchResult], None]


@dataclass(frozen=True, slots=True)
class ActorSettings:
    batch_max: int = 256
    mailbox_size: int = 2048
    ask_timeout: float = 10.0
    idle_seconds: float = 60.0


MAILBOX_FULL = NotDone(
    Unavailable.BUSY, "Too many bookings are waiting for this event; retry shortly."
)


class EventActor:
    """Serialises an event's booking commands: drains what waits into one batch at a time.

    ``on_commit(event_id, result)`` runs after every batch that changed the event, never
    before its commit; ``on_run(commands, waiting, seconds, result)`` after every batch (its
    commands, those left waiting when it started, its duration); ``on_stop(actor)`` when the
    loop ends (idle, or closed).
    """

    def __init__(
        self,
        event_id: int,
        runner: BatchRunner,
        settings: ActorSettings,
        on_commit: Callable[[int, BatchResult], None],
        on_stop: Callable[[EventActor], None],
        on_run: RunObserver | None = None,
    ) -> None:
        self.event_id = event_id
        self._runner = runner
        self._settings = settings
        self._on_commit = on_commit
        self._on_stop = on_stop
        self._on_run = on_run
        self._mailbox: asyncio.Queue[Mail | None] = asyncio.Queue(settings.mailbox_size)
        self._task: asyncio.Task[None] | None = None
        self._running: set[asyncio.Future[Outcome]] = set()  # asks taken into a batch
        # Asks in order of arrival, with their deadlines; one timer answers those that run out.
        self._asked: deque[tuple[float, Command, asyncio.Future[Outcome]]] = deque()
        self._expiry: asyncio.TimerHandle | None = None
        self._last_turn: Turn | None = None
        self._timer: asyncio.TimerHandle | None = None  # for the event's next deadline
        self._deadline: datetime | None = None
        self._fired_for: datetime | None = None
        self._tick_queued = False
        self.busy = 0  # batches in flight
        self.peak_busy = 0  # the most ever in flight at once (two, by design)
        self.stopped = False
        self._closing = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=f"event-actor-{self.event_id}")

    async def ask(self, command: Command) -> Outcome:
        """The command's outcome; not done, at once when the mailbox is full, and after the
        ask timeout (then perhaps still to be carried out)."""
        if self._closing or self.stopped:
            return booking_unavailable()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()
        try:
            self._mailbox.put_nowait((command, future))
        except asyncio.QueueFull:
            return MAILBOX_FULL
        # The timeout answers the future itself (cheaper than wait_for and shield, or a timer
        # per ask, on the hot path): still queued, the loop then skips it; already in a batch,
        # its answer is dropped.
        self._asked.append((loop.time() + self._settings.ask_timeout, command, future))
        if self._expiry is None:
            self._expiry = loop.call_at(self._asked[0][0], self._expire_due)
        return await future

    def tick(self) -> None:
        """Run a batch soon even with nothing asked: what is due gets done (holds whose time
        ran out, a sales window that passed). At most one waits at a time."""
        if self._closing or self.stopped or self._tick_queued:
            return
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        try:
            self._mailbox.put_nowait((Tick(), future))  # nobody awaits its answer
        except asyncio.QueueFull:
            return  # a busy event runs batches anyway, and each does what is due
        self._tick_queued = True

    def _arm(self, deadline: datetime | None) -> None:
        """Keep one timer, for the event's next deadline (re-armed after each batch)."""
        if deadline == self._deadline and self._timer is not None:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._deadline = None, deadline
        if deadline is None or self._closing:
            return
        delay = (deadline - datetime.now(UTC)).total_seconds()
        if deadline == self._fired_for:  # it fired and nothing was due yet: clocks differ
            delay = max(delay, 0.1)
        self._timer = asyncio.get_running_loop().call_later(max(delay, 0.0), self._fire, deadline)

    def _fire(self, deadline: datetime) -> None:
        self._timer, self._fired_for = None, deadline
        self.tick()

    async def _loop(self) -> None:
        in_flight: set[asyncio.Task[None]] = set()
        try:
            # Closing, it stops once nothing is queued: checked before each wait, since the
            # wake-up close() queues may be taken inside a drained batch.
            while not (self._closing and self._mailbox.empty()):
                first = await self._next()
                if first is None:
                    continue
                batch = [first, *self._drain(self._settings.batch_max - 1)]
                live = [(command, future) for command, future in batch if not future.done()]
                self._tick_queued = self._tick_queued and not any(
                    isinstance(command, Tick) for command, _ in live
                )
                self._running.update(future for _, future in live)
                if live:
                    await self._start(live, in_flight)
        finally:
            await asyncio.gather(*in_flight, return_exceptions=True)
            if self._timer is not None:
                self._timer.cancel()  # the sweeper covers the event from now on
            if self._expiry is not None:
                self._expiry.cancel()  # every ask is answered below, or was in its batch
            self.stopped = True
            self._fail_waiting()
            self._on_stop(self)

    async def _start(self, live: list[Mail], in_flight: set[asyncio.Task[None]]) -> None:
        """Run a batch, and return once only its COMMIT is left.

        The next batch then starts at once: its BEGIN and lock request wait in PostgreSQL for
        this batch's COMMIT, instead of being sent after it. It goes on only once this one has
        committed (see ``Turn``), so two batches at most are in flight, in order.
        """
        committing = asyncio.Event()
        turn, previous = Turn.new(), self._last_turn
        self._last_turn = turn
        task = asyncio.create_task(self._process(live, committing.set, turn, previous))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
        waiter = asyncio.create_task(committing.wait())
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()

    async def _next(self) -> Mail | None:
        """The next mail; None to re-check for closing. An idle wait ends the actor."""
        try:
            return await asyncio.wait_for(self._mailbox.get(), self._settings.idle_seconds)
        except TimeoutError:
            if self._mailbox.empty():
                self._stop_now()
            return None

    def _stop_now(self) -> None:
        """Decided without awaiting, and marked stopped at once: the registry starts a fresh
        actor for any command that arrives while this one winds down."""
        self._closing = True
        self.stopped = True
        with contextlib.suppress(asyncio.QueueFull):
            self._mailbox.put_nowait(None)  # wakes the loop, which then ends

    def _drain(self, limit: int) -> list[Mail]:
        batch: list[Mail] = []
        while len(batch) < limit:
            try:
                mail = self._mailbox.get_nowait()
            except asyncio.QueueEmpty:
                break
            if mail is not None:
                batch.append(mail)
        return batch

    async def _process(
        self,
        live: list[Mail],
        before_commit: Callable[[], None],
        turn: Turn,
        previous: Turn | None,
    ) -> None:
        self.busy += 1
        self.peak_busy = max(self.peak_busy, self.busy)
        started, waiting = time.perf_counter(), self._mailbox.qsize()
        try:
            commands = [c for c, _ in live]
            result = await self._runner.run(self.event_id, commands, before_commit, turn, previous)
        finally:
            self.busy -= 1
            self._running.difference_update(future for _, future in live)
        if self._on_run is not None:
            self._on_run(commands, waiting, time.perf_counter() - started, result)
        for (_, future), outcome in zip(live, result.outcomes, strict=True):
            if not future.done():
                future.set_result(outcome)
        self._arm(result.deadline)
        if result.missing and self._mailbox.empty():
            self._stop_now()  # no such event: nothing to keep an actor for
        if result.seq is not None:
            try:
                self._on_commit(self.event_id, result)
            except Exception:
                log.exception("event %s: on_commit failed", self.event_id)

    def _fail_waiting(self) -> None:
        while True:
            try:
                mail = self._mailbox.get_nowait()
            except asyncio.QueueEmpty:
                return
            if mail is not None and not mail[1].done():
                mail[1].set_result(booking_unavailable())

    async def close(self, grace: float = 15.0) -> None:
        """Stop taking commands, finish the queued ones, then end the loop."""
        self._closing = True
        with contextlib.suppress(asyncio.QueueFull):
            self._mailbox.put_nowait(None)  # wakes an idle loop; a full one is busy anyway
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), grace)
        except TimeoutError:
            log.error("event %s: actor did not drain in %s s; cancelling it", self.event_id, grace)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _expire_due(self) -> None:
        """Answer the asks that waited ``ask_timeout``: still queued, the command will never
        run (the loop skips answered asks); already in a batch, it may still be carried out.
        Asks arrive in order of their deadlines, and most are answered long before them."""
        loop = asyncio.get_running_loop()
        self._expiry, now, asked = None, loop.time(), self._asked
        while asked and (asked[0][2].done() or asked[0][0] <= now):
            _, command, future = asked.popleft()
            if not future.done():
                running = future in self._running
                future.set_result(outcome_unknown(command) if running else booking_unavailable())
        if asked:
            self._expiry = loop.call_at(asked[0][0], self._expire_due)
