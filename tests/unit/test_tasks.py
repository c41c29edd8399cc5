"""``cancel_all`` ends a task even when a cancellation is swallowed (as Python 3.11's
``asyncio.wait_for`` can when its inner future completes at the same moment); ``finish`` lets
a statement finish however often its caller is cancelled, and says that it was."""

from __future__ import annotations

import asyncio

from server.tasks import cancel_all, finish


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


async def test_a_statement_runs_to_its_end_through_cancellations() -> None:
    finished: list[str] = []

    async def statement() -> str:
        await asyncio.sleep(0.3)
        finished.append("settled")
        return "settled"

    tidied: list[str] = []

    async def round_of_work() -> str:
        result, stopping = await finish(statement())
        if stopping:
            tidied.append(result)  # say, give back what a claim just took
            raise asyncio.CancelledError
        return result

    task = asyncio.create_task(round_of_work())
    await asyncio.sleep(0.05)
    await cancel_all([task])  # cancels it every 0.2 s until it ends
    assert finished == ["settled"]  # the statement was not cut short
    assert tidied == ["settled"]  # its result was there to tidy up with
    assert task.cancelled()  # and the cancellation went through once it was done
