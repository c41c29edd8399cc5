"""The actor registry: one ``EventActor`` per event, created on first use, bounded in number."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator, Sequence

from server.actors.actor import ActorSettings, EventActor, RunObserver
from server.actors.transaction import BatchResult, BatchRunner
from server.booking.commands import Command
from server.booking.outcomes import NotDone, Outcome, Unavailable, booking_unavailable

__all__ = ["ActorRegistry"]

log = logging.getLogger("stampede.actors")

TOO_MANY_EVENTS = NotDone(
    Unavailable.BUSY, "Too many events are being booked at once; retry shortly."
)


class ActorRegistry:
    def __init__(
        self, runner: BatchRunner, settings: ActorSettings, max_actors: int = 10_000
    ) -> None:
        self._runner = runner
        self._settings = settings
        self._max_actors = max_actors
        self._actors: dict[int, EventActor] = {}  # in order of creation: the oldest first
        self._evicted: set[asyncio.Task[None]] = set()  # actors told to close, not yet closed
        self._closing = False
        # Called with (event_id, seq) after each committed batch that changed an event.
        self.on_commit: list[Callable[[int, int], None]] = []
        # Called with (event_id, the batch's result) after each committed batch that changed
        # an event: what it did, for those it concerns.
        self.on_batch: list[Callable[[int, BatchResult], None]] = []
        # Told of every batch, changed or not (the metrics).
        self.on_run: list[RunObserver] = []

    def __len__(self) -> int:
        return len(self._actors)

    def actors(self) -> Iterator[EventActor]:
        return iter(list(self._actors.values()))

    async def ask(self, event_id: int, command: Command) -> Outcome:
        if self._closing:
            return booking_unavailable()
        actor = self._actors.get(event_id)
        if actor is None or actor.stopped:
            actor = self._spawn(event_id)
            if actor is None:
                return TOO_MANY_EVENTS
        return await actor.ask(command)

    def tick(self, event_id: int) -> None:
        """Have the event's actor (started if need be) do what is due for it."""
        if self._closing:
            return
        actor = self._actors.get(event_id)
        if actor is None or actor.stopped:
            actor = self._spawn(event_id)
        if actor is not None:
            actor.tick()

    def _spawn(self, event_id: int) -> EventActor | None:
        if len(self._actors) >= self._max_actors and not self._evict_idle():
            return None
        actor = EventActor(
            event_id, self._runner, self._settings, self._committed, self._forget, self._ran
        )
        self._actors[event_id] = actor
        actor.start()
        return actor

    def _evict_idle(self) -> bool:
        """Close the oldest actor with no batch in flight, to make room; False if all are busy."""
        for actor in self._actors.values():
            if not actor.busy:
                self._actors.pop(actor.event_id)
                closing = asyncio.create_task(actor.close())
                self._evicted.add(closing)
                closing.add_done_callback(self._evicted.discard)
                return True
        return False

    def _committed(self, event_id: int, result: BatchResult) -> None:
        assert result.seq is not None
        for changed in self.on_commit:
            changed(event_id, result.seq)
        for told in self.on_batch:
            told(event_id, result)

    def _ran(
        self, commands: Sequence[Command], waiting: int, seconds: float, result: BatchResult
    ) -> None:
        for observe in self.on_run:
            observe(commands, waiting, seconds, result)

    def _forget(self, actor: EventActor) -> None:
        if self._actors.get(actor.event_id) is actor:
            del self._actors[actor.event_id]

    async def close(self) -> None:
        """Refuse new commands, let every actor finish (or fail) what it has queued."""
        self._closing = True
        actors = list(self._actors.values())
        await asyncio.gather(*(actor.close() for actor in actors), *self._evicted)
        await self._runner.close()
        log.info("closed %d event actors", len(actors))
