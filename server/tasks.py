"""The event loop the processes run on, stopping background tasks for good, and statements
that must not be cut short."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Generic, NamedTuple, TypeVar

__all__ = ["Finished", "cancel_all", "finish", "loop_factory"]

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop where it is installed (Linux, macOS): the same code, a faster event loop."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


async def cancel_all(tasks: Iterable[asyncio.Task[None]]) -> None:
    """Cancel the tasks and wait for them to end, cancelling again while one goes on: on
    Python 3.11 ``asyncio.wait_for`` (which libraries such as aiosmtplib await per reply) can
    swallow a cancellation that lands as its inner future completes, and a sender with a
    backlog would then keep a stopping server alive."""
    every = set(tasks)
    pending = every
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=0.2)
    for task in every:  # retrieved: a task that failed earlier was logged by its own loop
        if not task.cancelled():
            task.exception()


class Finished(NamedTuple, Generic[T]):
    result: T
    stopping: bool  # the caller was cancelled meanwhile: it should stop once it has tidied up


async def finish(statement: Awaitable[T]) -> Finished[T]:
    """Await a statement to its end even if the caller is cancelled meanwhile (as many times
    as it is), and say whether it was: the caller then tidies up (say, gives back the rows a
    claim just took) and raises ``CancelledError`` itself."""
    running = asyncio.ensure_future(statement)
    stopping = False
    while True:
        try:
            return Finished(await asyncio.shield(running), stopping)
        except asyncio.CancelledError:
            if running.cancelled():
                raise
            stopping = True
