"""A round of claimed outbox rows (``server/outbox.py``), stopped at each step: what it claimed
is never left to its lease."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from server.outbox import leased_round
from server.tasks import cancel_all

ROWS: list[Any] = [{"id": 1}, {"id": 2}]


class Sender:
    def __init__(self, slow: str) -> None:
        self.slow = slow  # the step that takes a while: claim, work or settle
        self.steps: list[str] = []

    async def _step(self, name: str) -> None:
        self.steps.append(name)
        await asyncio.sleep(0.3 if name == self.slow else 0)

    async def claim(self) -> list[Any]:
        await self._step("claim")
        return ROWS

    async def work(self, rows: list[Any]) -> str:
        await self._step("work")
        return "done"

    async def settle(self, rows: list[Any], result: str) -> None:
        await self._step("settle")
        self.steps.append("settled")

    async def release(self, rows: list[Any]) -> None:
        assert rows == ROWS
        self.steps.append("released")


@pytest.mark.parametrize(
    ("slow", "steps"),
    [
        ("claim", ["claim", "released"]),  # the claim finishes, then is given back
        ("work", ["claim", "work", "released"]),
        ("settle", ["claim", "work", "settle", "settled"]),  # settled, nothing to give back
    ],
)
async def test_a_round_stopped_midway_leaves_no_claim(slow: str, steps: list[str]) -> None:
    sender = Sender(slow)
    task = asyncio.create_task(
        leased_round(sender.claim(), sender.work, sender.settle, sender.release)
    )
    await asyncio.sleep(0.05)
    await cancel_all([task])
    assert task.cancelled()
    assert sender.steps == steps


async def test_a_round_runs_through() -> None:
    sender = Sender("none")
    assert await leased_round(sender.claim(), sender.work, sender.settle, sender.release) == 2
    assert sender.steps == ["claim", "work", "settle", "settled"]
