"""``cancel_all`` ends a task even when a cancellation is swallowed (as Python 3.11's
``asyncio.wait_for`` can when its inner future completes at the same moment)."""

from __future__ import annotations

import asyncio

from server.tasks import cancel_all


async def test_a_swallowed_cancellation_is_repeated() -> None:
    swallowed = 0

    async def stubborn() -> None:
        nonlocal swallowed
        while True:
            try:
                await asyncio.sleep(0.01)
            except asyncio.CancelledError:
                if swallowed == 2:
                    raise
                swallowed += 1  # lost, as wait_for loses one

    async def failing() -> None:
        raise RuntimeError("boom")

    tasks = [asyncio.create_task(stubborn()), asyncio.create_task(failing())]
    await asyncio.sleep(0.02)
    async with asyncio.timeout(5):
        await cancel_all(tasks)
    assert swallowed == 2
    assert tasks[0].cancelled()
    assert isinstance(tasks[1].exception(), RuntimeError)
