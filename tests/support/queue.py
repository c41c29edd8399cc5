"""Waiting-room helpers over the real HTTP API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from tests.support.api import Account, Api
from tests.support.crowd import Member

Caller = Account | Member


def at(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


async def room_event(
    api: Api, owner: Account, admit_per_minute: int = 600, session_seconds: int = 300, **event: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """An event with a waiting room and one ticket type of 100."""
    made = await api.event(
        owner,
        **{
            "name": "Hot Sale",
            "total_capacity": 100,
            "waiting_room": {
                "admit_per_minute": admit_per_minute,
                "session_seconds": session_seconds,
            },
            **event,
        },
    )
    ticket = await api.ticket_type(owner, made["id"], name="GA", quantity_available=100)
    return made, ticket


async def join(api: Api, who: Caller, event_id: int) -> tuple[int, Any]:
    response = await api.client.post(f"/api/events/{event_id}/queue/", headers=who.headers)
    return response.status, await response.json()


async def place(api: Api, who: Caller, event_id: int) -> dict[str, Any]:
    response = await api.client.get(f"/api/events/{event_id}/queue/", headers=who.headers)
    assert response.status == 200, await response.text()
    result: dict[str, Any] = await response.json()
    return result


async def start_sales_now(dsn: str, event_id: int) -> None:
    """Sales start now (as if the clock had reached sales_start): the draw is due."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "UPDATE events SET sales_start = now() - interval '1 millisecond' WHERE id = $1",
            event_id,
        )
    finally:
        await conn.close()


async def book(
    api: Api, who: Caller, event_id: int, type_id: int, token: str | None, hold: bool = False
) -> tuple[int, Any]:
    body = {
        "event_id": event_id,
        "items": [{"ticket_type_id": type_id, "quantity": 1}],
        "hold": hold,
    }
    headers = {**who.headers, **({"Queue-Token": token} if token else {})}
    response = await api.client.post("/api/bookings/", json=body, headers=headers)
    return response.status, await response.json()
