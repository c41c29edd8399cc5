"""An ask that waits too long: queued, it is answered "unavailable" and never runs; already in a
batch, "unknown" (it may still be carried out). One timer serves every ask, and lets none leak."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from server.actors.actor import ActorSettings, EventActor
from server.actors.transaction import BatchResult
from server.booking.commands import BookTickets, Command
from server.booking.outcomes import NotDone, Unavailable, booking_unavailable, outcome_unknown

TIMEOUT = 0.3
ANSWERED = NotDone(Unavailable.BUSY, "answered by its batch")  # told apart from a timeout


class HeldRunner:
    """A stand-in for BatchRunner whose batches wait until ``release`` is set."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.ran: list[list[Command]] = []

    async def run(
        self, event_id: int, commands: list[Command], before_commit: Callable[[], None], *_: Any
    ) -> BatchResult:
        self.ran.append(list(commands))
        await self.release.wait()
        before_commit()
        return BatchResult([ANSWERED for _ in commands], None)


def _actor(runner: HeldRunner) -> EventActor:
    settings = ActorSettings(ask_timeout=TIMEOUT, idle_seconds=30)
    actor = EventActor(1, runner, settings, lambda *_: None, lambda _: None)  # type: ignore[arg-type]
    actor.start()
    return actor


def _book(user_id: int) -> BookTickets:
    return BookTickets(user_id, ((7, 1),))


async def test_a_running_ask_is_unknown_and_a_queued_one_unavailable_and_never_run() -> None:
    runner = HeldRunner()
    actor = _actor(runner)
    running = asyncio.create_task(actor.ask(_book(1)))
    await asyncio.sleep(0.05)  # the first batch holds it
    queued = asyncio.create_task(actor.ask(_book(2)))
    assert await asyncio.wait_for(running, TIMEOUT * 3) == outcome_unknown(_book(1))
    assert await asyncio.wait_for(queued, TIMEOUT * 3) == booking_unavailable()
    runner.release.set()
    await asyncio.sleep(0.05)
    ran = [[command.user_id for command in batch] for batch in runner.ran]  # type: ignore[attr-defined]
    assert ran == [[1]]  # the second ask, answered already, never ran
    await actor.close()


async def test_answered_asks_are_not_touched_and_none_is_kept() -> None:
    runner = HeldRunner()
    runner.release.set()
    actor = _actor(runner)
    answers = await asyncio.gather(*(actor.ask(_book(n)) for n in range(50)))
    assert answers == [ANSWERED] * 50
    late = await asyncio.wait_for(actor.ask(_book(99)), TIMEOUT * 3)
    assert late == ANSWERED
    await asyncio.sleep(TIMEOUT * 1.5)  # every deadline has passed
    assert not actor._asked  # the timer let go of every answered ask
    assert actor._expiry is None
    await actor.close()
