"""The database dies in the middle of a batch's COMMIT while the next batch already waits for
the event's lock: the failed batch is settled first (its bookings keep their place in line),
and no more than two batches, and so two connections, are ever in flight."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import asyncpg
from aiohttp import web
from aiohttp.test_utils import TestClient

from server.config import Config
from server.keys import actors_key
from tests.support.api import Api
from tests.support.crowd import Member, check_invariants, make_users

# A deferred constraint trigger runs inside COMMIT: for the victim's booking, the first time
# only (a sequence, which no rollback undoes), it stalls there, holding the event's lock, so
# that the test can kill that backend in the middle of its COMMIT.
STALL_AT_COMMIT = """
CREATE SEQUENCE commit_stalls;
CREATE FUNCTION stall_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.user_id = {victim} AND nextval('commit_stalls') = 1 THEN
        PERFORM pg_sleep(30);
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER stall_at_commit AFTER INSERT ON bookings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION stall_at_commit();
"""
STALLED = (
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'"
)


async def _book(client: TestClient[Any, Any], member: Member, event_id: int, type_id: int) -> Any:
    body = {"event_id": event_id, "items": [{"ticket_type_id": type_id, "quantity": 1}]}
    response = await client.post("/api/bookings/", json=body, headers=member.headers)
    return response.status, await response.json()


async def test_a_batch_killed_mid_commit_keeps_its_place_and_two_in_flight_at_most(
    app: web.Application, api: Api, config: Config, database_url: str
) -> None:
    owner = await api.organizer()
    event = await api.event(owner, total_capacity=1000)
    ticket = await api.ticket_type(owner, event["id"], quantity_available=1000)
    victim, *crowd = await make_users(database_url, config.jwt_secret or "", 41)
    admin = await asyncpg.connect(database_url)
    try:
        await admin.execute(STALL_AT_COMMIT.format(victim=victim.id))
        first = asyncio.create_task(_book(api.client, victim, event["id"], ticket["id"]))
        stalled = None
        for _ in range(250):  # until the victim's batch stalls in its COMMIT
            if stalled := await admin.fetchval(STALLED):
                break
            await asyncio.sleep(0.02)
        assert stalled
        # The rest ask now: their batch starts and waits in PostgreSQL for the event's lock.
        later = [
            asyncio.create_task(_book(api.client, m, event["id"], ticket["id"])) for m in crowd[:20]
        ]
        await asyncio.sleep(0.3)
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", stalled)
        answers = [await first, *await asyncio.gather(*later)]
        # A steady stream after the failure: each batch goes on only behind the one before.
        answers += await asyncio.gather(
            *(_book(api.client, m, event["id"], ticket["id"]) for m in crowd[20:])
        )
    finally:
        await admin.close()

    assert Counter(status for status, _ in answers) == {201: 41}, answers
    conn = await asyncpg.connect(database_url)
    try:
        order = [
            r["user_id"]
            for r in await conn.fetch(
                "SELECT user_id FROM bookings WHERE event_id = $1 ORDER BY id", event["id"]
            )
        ]
    finally:
        await conn.close()
    # The victim asked first: its booking is written before any of those that came after it.
    assert order[0] == victim.id
    assert (await check_invariants(database_url, event["id"]))["event"] == 41
    [actor] = list(app[actors_key].actors())
    assert actor.peak_busy == 2  # the next batch did start while the victim's committed
