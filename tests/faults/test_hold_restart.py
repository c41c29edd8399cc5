"""A hold outlives the server that made it: after a restart mid-hold, with no request for the
event, the new server process gives its seats back on time (expiry is kept in PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import urllib.request

import asyncpg

from tests.support.bookings import insert_event
from tests.support.crowd import check_invariants, make_users
from tests.support.process import ServerProcess

SECRET = "restart-secret-" + "r" * 32


def _post(url: str, body: object, token: str) -> dict[str, object]:
    request = urllib.request.Request(
        url,
        json.dumps(body).encode(),
        {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        answer: dict[str, object] = json.loads(response.read())
        return answer


async def test_a_hold_expires_on_time_after_the_server_restarted(database_url: str) -> None:
    env = {"DATABASE_URL": database_url, "JWT_SECRET": SECRET, "RATE_LIMITS": "off"}
    [owner] = await make_users(database_url, SECRET, 1, role="organizer")
    [buyer] = await make_users(database_url, SECRET, 1)
    event_id, type_id = await insert_event(database_url, owner.id, 10, "Restart", hold_seconds=5)
    conn = await asyncpg.connect(database_url)
    try:
        first = ServerProcess(env)
        first.start()
        try:
            first.wait_healthy()
            body = {
                "event_id": event_id,
                "items": [{"ticket_type_id": type_id, "quantity": 3}],
                "hold": True,
            }
            token = buyer.headers["Authorization"].removeprefix("Bearer ")
            hold = await asyncio.to_thread(_post, first.url + "/api/bookings/", body, token)
            assert hold["status"] == "pending"
        finally:
            assert first.stop() == 0  # mid-hold
            first.close()
        second = ServerProcess(env)
        second.start()
        try:
            second.wait_healthy()
            for _ in range(100):  # no request for the event: the new server does it alone
                status = await conn.fetchval(
                    "SELECT status FROM bookings WHERE booking_reference = $1::uuid",
                    hold["booking_reference"],
                )
                if status == "expired":
                    break
                await asyncio.sleep(0.1)
        finally:
            second.close()
        assert status == "expired"
        made, expired_at = await conn.fetchrow(
            "SELECT created_at, updated_at FROM bookings WHERE booking_reference = $1::uuid",
            hold["booking_reference"],
        )
    finally:
        await conn.close()
    late = (expired_at - made).total_seconds() - 5
    assert 0 <= late <= 1.0, late
    assert (await check_invariants(database_url, event_id))["GA"] == 0
