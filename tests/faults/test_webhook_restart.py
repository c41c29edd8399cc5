"""Webhook deliveries outlive the server that wrote them: bookings made while the receiver
fails, the server stopped mid-retry, a new server process delivers each one exactly once (they
are rows written in the bookings' own transactions, not tasks in a process)."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from typing import Any

import asyncpg

from tests.support.bookings import insert_event
from tests.support.crowd import make_users
from tests.support.process import ServerProcess
from tests.support.receiver import Receiver, verify

SECRET = "webhook-restart-" + "w" * 32


def _post(url: str, body: object, token: str) -> Any:
    request = urllib.request.Request(
        url,
        json.dumps(body).encode(),
        {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


async def test_deliveries_survive_a_restart(database_url: str) -> None:
    receiver = Receiver(answer=lambda _n: 503)  # down while the first server runs
    await receiver.start()
    env = {
        "DATABASE_URL": database_url, "JWT_SECRET": SECRET, "RATE_LIMITS": "off",
        "WEBHOOKS_ALLOW_PRIVATE": "on",
    }  # fmt: skip
    [owner] = await make_users(database_url, SECRET, 1, role="organizer")
    buyers = await make_users(database_url, SECRET, 5)
    event_id, type_id = await insert_event(database_url, owner.id, 100, "Restart")
    conn = await asyncpg.connect(database_url)
    try:
        first = ServerProcess(env)
        first.start()
        try:
            first.wait_healthy()
            hook = {"url": receiver.url + "/hook", "events": ["booking.created"]}
            made = await asyncio.to_thread(
                _post,
                first.url + "/api/webhooks/",
                hook,
                owner.headers["Authorization"].removeprefix("Bearer "),
            )
            body = {"event_id": event_id, "items": [{"ticket_type_id": type_id, "quantity": 1}]}
            references = [
                (
                    await asyncio.to_thread(
                        _post,
                        first.url + "/api/bookings/",
                        body,
                        b.headers["Authorization"].removeprefix("Bearer "),
                    )
                )["booking_reference"]
                for b in buyers
            ]
            await receiver.wait_for(5, answered=False)  # each tried (and failed) at least once
        finally:
            assert first.stop() == 0  # mid-retry
            first.close()
        receiver.answer = lambda _n: 200
        second = ServerProcess(env)
        second.start()
        try:
            second.wait_healthy()
            delivered = await receiver.wait_for(5, seconds=20)
            await asyncio.sleep(1.5)  # nothing more comes
        finally:
            second.close()
        assert sorted(p.json["data"]["booking_reference"] for p in delivered) == sorted(references)
        assert len(receiver.delivered()) == 5
        assert len({p.json["id"] for p in delivered}) == 5
        assert all(
            verify(made["secret"], p.headers["Stampede-Signature"], p.body) for p in delivered
        )
        pending = await conn.fetchval(
            "SELECT count(*) FROM webhook_deliveries WHERE delivered_at IS NULL"
        )
        assert pending == 0
    finally:
        await conn.close()
        await receiver.stop()
