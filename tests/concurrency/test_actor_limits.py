"""The actor's limits on real PostgreSQL: full mailbox, timeouts, idling, bounds, shutdown.

A transaction holding the event's row lock stands in for a slow database: the actor's batch
waits on it, exactly as it would behind another instance's batch.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import random
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from server.app import create_app
from server.config import Config
from server.keys import actors_key
from tests.support.api import Api
from tests.support.crowd import Member, check_invariants, make_users


@asynccontextmanager
async def event_locked(dsn: str, event_id: int) -> AsyncIterator[None]:
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await conn.execute("SELECT 1 FROM events WHERE id = $1 FOR UPDATE", event_id)
            yield
    finally:
        await conn.close()


async def _setup(
    client: TestClient[Any, Any], config: Config, dsn: str, buyers: int
) -> tuple[int, int, list[Member]]:
    api = Api(client)
    owner = await api.organizer()
    event = await api.event(owner, total_capacity=1000)
    ticket = await api.ticket_type(owner, event["id"], quantity_available=1000)
    return event["id"], ticket["id"], await make_users(dsn, config.jwt_secret or "", buyers)


async def _book(client: TestClient[Any, Any], member: Member, event_id: int, type_id: int) -> Any:
    body = {"event_id": event_id, "items": [{"ticket_type_id": type_id, "quantity": 1}]}
    return await client.post("/api/bookings/", json=body, headers=member.headers)


async def test_a_full_mailbox_answers_503_at_once(
    config: Config, database_url: str, aiohttp_client: AiohttpClient
) -> None:
    client = await aiohttp_client(
        create_app(dataclasses.replace(config, booking_mailbox=5, booking_batch_max=5))
    )
    event_id, type_id, crowd = await _setup(client, config, database_url, 20)
    async with event_locked(database_url, event_id):
        # The first batch waits on the lock; five more fill the mailbox; the rest are refused.
        first = [asyncio.create_task(_book(client, m, event_id, type_id)) for m in crowd[:10]]
        await asyncio.sleep(0.5)
        loop = asyncio.get_running_loop()
        started = loop.time()
        refused = await asyncio.gather(*(_book(client, m, event_id, type_id) for m in crowd[10:]))
        assert loop.time() - started < 1.0
        assert {r.status for r in refused} == {503}
        assert all(r.headers["Retry-After"] == "1" for r in refused)
        assert {(await r.json())["code"] for r in refused} == {"booking_busy"}
    answered = Counter(r.status for r in await asyncio.gather(*first))
    assert set(answered) <= {201, 503}
    assert 6 <= answered[201] <= 10  # at least the mailbox's five and one in the batch
    assert (await check_invariants(database_url, event_id))["event"] == answered[201]


async def test_an_ask_that_waits_too_long_is_503_not_a_hang(
    config: Config, database_url: str, aiohttp_client: AiohttpClient
) -> None:
    """The booking may still commit after its asker gave up: the 503 says so, and how to
    find out, without telling a client that sent no key to retry with one."""
    client = await aiohttp_client(create_app(dataclasses.replace(config, booking_timeout=1)))
    event_id, type_id, [member] = await _setup(client, config, database_url, 1)
    async with event_locked(database_url, event_id):
        response = await _book(client, member, event_id, type_id)
        assert response.status == 503
        answer = await response.json()
        assert answer["code"] == "booking_outcome_unknown"
        assert "GET /api/users/me/bookings/" in answer["detail"]
        assert "Idempotency-Key" not in answer["detail"]
        assert response.headers["Retry-After"] == "1"
    await asyncio.sleep(0.5)
    mine = await client.get("/api/users/me/bookings/", headers=member.headers)
    committed = (await mine.json())["count"]
    assert committed == 1  # it did commit once the lock was gone: "unknown" was the truth
    assert (await check_invariants(database_url, event_id))["event"] == committed


async def test_after_a_timeout_a_retry_with_the_key_replays_the_committed_booking(
    config: Config, database_url: str, aiohttp_client: AiohttpClient
) -> None:
    client = await aiohttp_client(create_app(dataclasses.replace(config, booking_timeout=1)))
    event_id, type_id, [member] = await _setup(client, config, database_url, 1)
    body = {"event_id": event_id, "items": [{"ticket_type_id": type_id, "quantity": 1}]}
    headers = {**member.headers, "Idempotency-Key": "pay-once"}
    async with event_locked(database_url, event_id):
        response = await client.post("/api/bookings/", json=body, headers=headers)
        assert response.status == 503
        answer = await response.json()
        assert answer["code"] == "booking_outcome_unknown"
        assert "same Idempotency-Key" in answer["detail"]
    for _ in range(50):  # the retry waits behind the first attempt, then replays it
        retry = await client.post("/api/bookings/", json=body, headers=headers)
        if retry.status == 201:
            break
        await asyncio.sleep(0.1)
    assert retry.status == 201, await retry.text()
    assert retry.headers["Idempotent-Replayed"] == "true"
    mine = await (await client.get("/api/users/me/bookings/", headers=member.headers)).json()
    assert [b["booking_reference"] for b in mine["results"]] == [
        (await retry.json())["booking_reference"]
    ]
    assert (await check_invariants(database_url, event_id))["event"] == 1


async def test_bookings_for_missing_events_leave_no_actors_behind(
    config: Config, database_url: str, aiohttp_client: AiohttpClient
) -> None:
    """10,000 bookings for events that do not exist: each is refused, and no actor outlives
    its answer (the registry and the process's memory stay flat)."""
    app = create_app(config)
    client = await aiohttp_client(app)
    _, type_id, crowd = await _setup(client, config, database_url, 1)
    registry = app[actors_key]
    randoms = random.Random(7)
    statuses: Counter[int] = Counter()
    largest = 0

    async def book(event_id: int) -> None:
        nonlocal largest
        # Straight through the client's session: the test client keeps every response it
        # made, which would be the only thing here that grows.
        body = {"event_id": event_id, "items": [{"ticket_type_id": type_id, "quantity": 1}]}
        url = client.make_url("/api/bookings/")
        async with client.session.post(url, json=body, headers=crowd[0].headers) as response:
            await response.read()
            statuses[response.status] += 1
        largest = max(largest, len(registry))

    async def storm(count: int) -> None:
        pending: set[asyncio.Task[None]] = set()
        for _ in range(count):
            if len(pending) >= 64:
                _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            pending.add(asyncio.create_task(book(randoms.randrange(10**6, 10**12))))
        await asyncio.gather(*pending)

    await storm(2_000)  # warm: pools, caches and allocator arenas reach their working size
    rss_warm = _rss_mib()
    await storm(8_000)
    assert set(statuses) <= {400, 404}, statuses
    assert sum(statuses.values()) == 10_000
    assert largest <= 64 + 1  # at most the requests in flight
    await asyncio.sleep(0.2)
    assert len(registry) == 0
    assert _rss_mib() - rss_warm < 8  # flat: 8,000 more leave nothing behind


def _rss_mib() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


async def test_idle_actors_stop_and_the_registry_stays_bounded(
    config: Config, database_url: str, aiohttp_client: AiohttpClient
) -> None:
    app = create_app(dataclasses.replace(config, actor_idle_seconds=1, max_actors=1))
    client = await aiohttp_client(app)
    api = Api(client)
    owner = await api.organizer()
    [member] = await make_users(database_url, config.jwt_secret or "", 1)
    events = []
    for _ in range(2):
        event = await api.event(owner)
        events.append((event["id"], (await api.ticket_type(owner, event["id"]))["id"]))
    assert (await _book(client, member, *events[0])).status == 201
    assert len(app[actors_key]) == 1
    assert (await _book(client, member, *events[1])).status == 201  # the idle one makes room
    assert len(app[actors_key]) == 1
    await asyncio.sleep(1.5)
    assert len(app[actors_key]) == 0
    async with event_locked(database_url, events[0][0]):
        busy = asyncio.create_task(_book(client, member, *events[0]))
        await asyncio.sleep(0.3)
        refused = await _book(client, member, *events[1])  # the only actor is busy
        assert refused.status == 503
        assert (await refused.json())["code"] == "booking_busy"
    assert (await busy).status == 201


@pytest.mark.parametrize("queued", [11, 12])
async def test_shutdown_finishes_every_queued_command(
    config: Config, database_url: str, aiohttp_client: AiohttpClient, queued: int
) -> None:
    """With 11, the close's wake-up lands inside the last batch (3 at a time): the actor
    must still stop at once, not wait out its idle time."""
    app = create_app(dataclasses.replace(config, booking_batch_max=3))
    client = await aiohttp_client(app)
    event_id, type_id, crowd = await _setup(client, config, database_url, queued)
    async with event_locked(database_url, event_id):
        pending = [asyncio.create_task(_book(client, m, event_id, type_id)) for m in crowd]
        await asyncio.sleep(0.5)
        closing = asyncio.create_task(app[actors_key].close())
        await asyncio.sleep(0.2)
        assert not closing.done()  # it waits for the queued commands
    await asyncio.wait_for(closing, 5)  # its grace is 15 s: this is no timeout at work
    statuses = Counter(r.status for r in await asyncio.gather(*pending))
    assert statuses == {201: queued}
    assert (await check_invariants(database_url, event_id))["event"] == queued
    late = await _book(client, crowd[0], event_id, type_id)
    assert late.status == 503  # closed: refused at once, not queued


async def test_each_commit_is_announced_after_it_with_a_rising_seq(
    config: Config, database_url: str, aiohttp_client: AiohttpClient
) -> None:
    app = create_app(config)
    client = await aiohttp_client(app)
    event_id, type_id, crowd = await _setup(client, config, database_url, 30)
    announced: list[tuple[int, int]] = []
    conn = await asyncpg.connect(database_url)

    def on_commit(event: int, seq: int) -> None:
        announced.append((event, seq))

    app[actors_key].on_commit.append(on_commit)
    try:
        await asyncio.gather(*(_book(client, m, event_id, type_id) for m in crowd))
        stored = await conn.fetchval("SELECT seq FROM events WHERE id = $1", event_id)
    finally:
        await conn.close()
    seqs = [seq for _, seq in announced]
    assert {event for event, _ in announced} == {event_id}
    assert len(set(seqs)) == len(seqs)
    assert max(seqs) == stored  # the last announcement is the committed state
