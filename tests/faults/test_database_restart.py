"""PostgreSQL restarted in the middle of a booking storm: every request gets a definite answer,
the server reconnects by itself, and the database holds exactly the bookings answered 201."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from server.config import Config
from server.db import apply_migrations
from server.embedded.postgres import _server_module, start_postgres, stop_postgres
from tests.support.api import Api
from tests.support.crowd import check_invariants, make_users, storm
from tests.support.databases import with_database

STORM_SECONDS = 4.0


@pytest.fixture
def private_postgres(tmp_path: Path) -> Iterator[Any]:
    """A PostgreSQL server of this test's own, so restarting it disturbs no other test."""
    server = start_postgres(tmp_path / "pg")
    try:
        yield server
    finally:
        stop_postgres(server)


def restart(server: Any) -> None:
    """``pg_ctl restart -m fast``: open transactions are rolled back, connections dropped."""
    _server_module().pg_ctl(
        ["-w", "-m", "fast", "restart"], pgdata=server.pgdata, user=server.system_user, timeout=60
    )


@pytest.fixture
async def database_url(private_postgres: Any) -> str:
    """This test's database lives on its private server (the conftest's app and api use it)."""
    admin = await asyncpg.connect(str(private_postgres.get_uri()))
    await admin.execute("CREATE DATABASE storm")
    await admin.close()
    url = with_database(str(private_postgres.get_uri()), "storm")
    conn = await asyncpg.connect(url)
    await apply_migrations(conn)
    await conn.close()
    return url


async def test_a_restart_mid_storm_loses_and_invents_nothing(
    api: Api, config: Config, database_url: str, private_postgres: Any
) -> None:
    client, dsn = api.client, database_url
    owner = await api.organizer()
    event = await api.event(owner, total_capacity=100_000)
    ticket = await api.ticket_type(owner, event["id"], quantity_available=100_000)
    crowd = await make_users(dsn, config.jwt_secret or "", 60)

    async def restart_soon() -> None:
        await asyncio.sleep(1.0)
        await asyncio.to_thread(restart, private_postgres)

    started = await _postmaster_started(dsn)
    answers, _ = await asyncio.gather(
        storm(client, crowd, event["id"], ticket["id"], STORM_SECONDS), restart_soon()
    )
    assert await _postmaster_started(dsn) > started  # it did restart, mid-storm
    statuses = Counter(answer.status for answer in answers)
    # Batches caught by the restart retry until PostgreSQL is back (and settle any COMMIT
    # whose answer was lost); a request answered 503 must have booked nothing.
    assert set(statuses) <= {201, 503}, statuses
    assert statuses[201] > 0

    # The server found PostgreSQL again by itself.
    health = await client.get("/api/health")
    assert health.status == 200
    order = {"event_id": event["id"], "items": [{"ticket_type_id": ticket["id"], "quantity": 1}]}
    after = await client.post("/api/bookings/", json=order, headers=crowd[0].headers)
    assert after.status == 201

    answered = {a.body["booking_reference"] for a in answers if a.status == 201}
    conn = await asyncpg.connect(dsn)
    try:
        stored = {
            str(r["booking_reference"])
            for r in await conn.fetch(
                "SELECT booking_reference FROM bookings WHERE event_id = $1", event["id"]
            )
        }
    finally:
        await conn.close()
    assert len(stored) == len(answered) + 1  # the one booked after the storm
    assert answered <= stored
    assert (await check_invariants(dsn, event["id"]))["event"] == len(stored)


async def _postmaster_started(dsn: str) -> Any:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval("SELECT pg_postmaster_start_time()")
    finally:
        await conn.close()
