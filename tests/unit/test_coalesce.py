"""Coalesced calls: one fetch for what is asked in a loop pass, one out at a time, errors to all."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from server.coalesce import Coalesced
from server.users import User, UserCache


class Recorder:
    """A fetch that answers each key doubled, after ``gate`` opens, and remembers its calls."""

    def __init__(self) -> None:
        self.calls: list[list[int]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.fail: Exception | None = None

    async def __call__(self, keys: Sequence[int]) -> list[int]:
        self.calls.append(list(keys))
        await self.gate.wait()
        if self.fail is not None:
            raise self.fail
        return [key * 2 for key in keys]


async def test_callers_of_one_loop_pass_share_one_fetch() -> None:
    fetch = Recorder()
    coalesced = Coalesced(fetch)
    answers = await asyncio.gather(*(coalesced(n) for n in [3, 1, 3, 2]))
    assert answers == [6, 2, 6, 4]
    assert fetch.calls == [[3, 1, 3, 2]]  # in the order asked, a repeated key twice


async def test_callers_arriving_while_a_fetch_is_out_wait_for_the_next_one() -> None:
    fetch = Recorder()
    fetch.gate.clear()
    coalesced = Coalesced(fetch)
    first = [asyncio.create_task(coalesced(n)) for n in (1, 2)]
    await asyncio.sleep(0.01)
    later = [asyncio.create_task(coalesced(n)) for n in (3, 4, 5)]
    await asyncio.sleep(0.01)
    assert fetch.calls == [[1, 2]]  # never two out at once
    fetch.gate.set()
    assert await asyncio.gather(*first, *later) == [2, 4, 6, 8, 10]
    assert fetch.calls == [[1, 2], [3, 4, 5]]


async def test_a_failed_fetch_fails_its_callers_and_the_next_one_runs() -> None:
    fetch = Recorder()
    fetch.fail = ConnectionError("gone")
    coalesced = Coalesced(fetch)
    results = await asyncio.gather(coalesced(1), coalesced(2), return_exceptions=True)
    assert [type(r) for r in results] == [ConnectionError, ConnectionError]
    fetch.fail = None
    assert await coalesced(7) == 14


async def test_a_caller_that_goes_away_does_not_disturb_the_others() -> None:
    fetch = Recorder()
    fetch.gate.clear()
    coalesced = Coalesced(fetch)
    leaving, staying = asyncio.create_task(coalesced(1)), asyncio.create_task(coalesced(2))
    await asyncio.sleep(0.01)
    leaving.cancel()
    fetch.gate.set()
    assert await staying == 4
    assert leaving.cancelled()


async def test_callers_are_not_left_hanging_when_the_sender_is_cancelled() -> None:
    fetch = Recorder()
    fetch.gate.clear()
    coalesced = Coalesced(fetch)
    callers = [asyncio.create_task(coalesced(n)) for n in (1, 2)]
    await asyncio.sleep(0.01)
    waiting = asyncio.create_task(coalesced(3))
    await asyncio.sleep(0)
    sender = coalesced._sender
    assert sender is not None
    sender.cancel()
    for caller in [*callers, waiting]:
        with pytest.raises(asyncio.CancelledError):
            await caller
    fetch.gate.set()
    assert await coalesced(5) == 10  # and the next call starts afresh


def _user(user_id: int) -> User:
    return User(
        user_id, f"u{user_id}", f"u{user_id}@example.org", "attendee", "", "", True, None, ""
    )


async def test_the_user_cache_loads_the_users_asked_for_together_once() -> None:
    loads: list[list[int]] = []

    async def load(user_ids: Sequence[int]) -> list[User | None]:
        loads.append(list(user_ids))
        return [_user(i) if i != 404 else None for i in user_ids]

    cache = UserCache(load=load)
    users = await asyncio.gather(*(cache.user(i) for i in (1, 2, 404, 2)))
    assert [u.id if u else None for u in users] == [1, 2, None, 2]
    assert loads == [[1, 2, 404, 2]]
    assert (await cache.user(1)) == _user(1)
    assert loads == [[1, 2, 404, 2]]  # cached now
    assert await cache.user(404) is None
    assert loads[-1] == [404]  # a missing one is asked again
