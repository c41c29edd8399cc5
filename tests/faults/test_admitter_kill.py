"""The waiting room survives the death of an instance: its state is in PostgreSQL, and every
instance admits what is owed under the room's row lock. One of two real server processes is
killed (SIGKILL, perhaps mid-admission) while a queue is being admitted: admission goes on from
the other at the same rate, and no place is admitted twice."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Iterator

import aiohttp
import asyncpg
import pytest

from tests.support.crowd import make_users
from tests.support.process import ServerProcess

SECRET = "admitter-secret-" + "q" * 32
RATE = 600  # a minute: 10 a second


@pytest.fixture
def servers(database_url: str) -> Iterator[list[ServerProcess]]:
    env = {"DATABASE_URL": database_url, "JWT_SECRET": SECRET, "RATE_LIMITS": "off"}
    started = [ServerProcess(env), ServerProcess(env)]
    try:
        for server in started:
            server.start()
        for server in started:
            server.wait_healthy()
        yield started
    finally:
        for server in started:
            server.close()


async def _admissions(conn: asyncpg.Connection, event_id: int) -> tuple[int, list[int]]:
    """The room's admitted_through, and the positions admitted, in position order."""
    through = await conn.fetchval(
        "SELECT admitted_through FROM waiting_rooms WHERE event_id = $1", event_id
    )
    rows = await conn.fetch(
        "SELECT position FROM queue_places WHERE event_id = $1 AND admitted_at IS NOT NULL "
        "ORDER BY position",
        event_id,
    )
    return through, [r["position"] for r in rows]


async def test_killing_an_admitting_instance_loses_no_place_and_admits_none_twice(
    servers: list[ServerProcess], database_url: str
) -> None:
    owner = (await make_users(database_url, SECRET, 1, role="organizer"))[0]
    crowd = await make_users(database_url, SECRET, 200)
    conn = await asyncpg.connect(database_url)
    try:
        event_id = await conn.fetchval(
            "INSERT INTO events (organizer_id, name, location, start_time, total_capacity, sales_start) "
            "VALUES ($1, 'Queue', 'Here', now() + interval '30 days', 100, now() + interval '5 minutes') "
            "RETURNING id",
            owner.id,
        )  # fmt: skip
        await conn.execute(
            "INSERT INTO ticket_types (event_id, name, price, quantity_available) "
            "VALUES ($1, 'GA', 10, 100)",
            event_id,
        )
        await conn.execute(
            "INSERT INTO waiting_rooms (event_id, admit_per_minute, session_seconds) "
            "VALUES ($1, $2, 600)",
            event_id, RATE,
        )  # fmt: skip
        async with aiohttp.ClientSession() as session:
            for i, member in enumerate(crowd):  # joined through both, in the prequeue
                url = f"{servers[i % 2].url}/api/events/{event_id}/queue/"
                async with session.post(url, headers=member.headers) as response:
                    assert response.status == 201, await response.text()
        await conn.execute(
            "UPDATE events SET sales_start = now() WHERE id = $1", event_id
        )  # the draw is due: both instances race to do it, once
        await asyncio.sleep(2.0)
        servers[0].stop(signal.SIGKILL)
        killed = time.monotonic()
        before, _ = await _admissions(conn, event_id)
        await asyncio.sleep(4.0)
        after, positions = await _admissions(conn, event_id)
        elapsed = time.monotonic() - killed
        drawn = await conn.fetchval(
            "SELECT count(DISTINCT position) FROM queue_places WHERE event_id = $1", event_id
        )
    finally:
        await conn.close()
    assert drawn == 200  # every place drawn, once
    assert before > 0
    assert abs((after - before) - RATE / 60 * elapsed) <= 10, (before, after, elapsed)
    assert positions == list(range(1, after + 1))  # each admitted once, in order
