"""What happens with time, seen live: a hold expires and a sales window opens or closes with no
request for the event, and every watcher has the new state within a second."""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from pytest_aiohttp import AiohttpClient

from server.app import create_app
from server.config import Config
from tests.support.api import Api
from tests.support.crowd import check_invariants, make_users

LATE = 1.0  # seconds a change may come after its moment, at most


async def _until(
    ws: aiohttp.ClientWebSocketResponse, predicate: Any, seconds: float
) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        message = await ws.receive(timeout=max(0.01, deadline - time.monotonic()))
        assert message.type == aiohttp.WSMsgType.TEXT, message
        state: dict[str, Any] = message.json()
        if predicate(state):
            return state


def _seconds_until(moment: str) -> float:
    return (datetime.fromisoformat(moment) - datetime.now(UTC)).total_seconds()


@pytest.mark.parametrize("actor", ["running", "idle"])
async def test_a_5_second_hold_expires_with_no_request_and_is_seen_live(
    config: Config, database_url: str, aiohttp_client: AiohttpClient, actor: str
) -> None:
    """The event's actor expires it on its own timer; an idle actor has stopped, and the
    sweeper hands the event to a new one."""
    idle = 1 if actor == "idle" else 60
    client = await aiohttp_client(create_app(dataclasses.replace(config, actor_idle_seconds=idle)))
    api = Api(client)
    owner = await api.organizer()
    event = await api.event(owner, total_capacity=20, hold_seconds=5)
    ticket = await api.ticket_type(owner, event["id"], quantity_available=20)
    [member] = await make_users(database_url, config.jwt_secret or "", 1)
    async with client.ws_connect(f"/ws/events/{event['id']}") as ws:
        await ws.receive_json(timeout=2)
        body = {
            "event_id": event["id"],
            "items": [{"ticket_type_id": ticket["id"], "quantity": 4}],
            "hold": True,
        }
        response = await client.post("/api/bookings/", json=body, headers=member.headers)
        hold = await response.json()
        held = await _until(ws, lambda s: s["tickets_held"] == 4, 2)
        assert held["tickets_available"] == 16
        assert held["ticket_types"][0]["quantity_held"] == 4
        back = await _until(ws, lambda s: s["tickets_held"] == 0, 5 + LATE + 1)
        late = -_seconds_until(hold["expires_at"])
    assert 0 <= late <= LATE, late
    assert back["tickets_available"] == 20
    mine = await client.get(f"/api/bookings/{hold['booking_reference']}", headers=member.headers)
    assert (await mine.json())["status"] == "expired"
    await check_invariants(database_url, event["id"])


async def test_a_sales_window_opening_and_closing_is_pushed_live(api: Api) -> None:
    owner = await api.organizer()
    opens = datetime.now(UTC) + timedelta(seconds=2)
    closes = opens + timedelta(seconds=2)
    event = await api.event(owner, sales_start=opens.isoformat(), sales_end=closes.isoformat())
    ticket = await api.ticket_type(owner, event["id"], name="GA", quantity_available=7)
    async with api.client.ws_connect(f"/ws/events/{event['id']}") as ws:
        first = await ws.receive_json(timeout=2)
        assert first["ticket_types"][0]["on_sale"] is False
        assert first["tickets_available"] == 0
        assert datetime.fromisoformat(first["ticket_types"][0]["sales_start"]) == opens
        opened = await _until(ws, lambda s: s["ticket_types"][0]["on_sale"], 2 + LATE + 1)
        assert -_seconds_until(opens.isoformat()) <= LATE
        assert opened["tickets_available"] == 7
        closed = await _until(ws, lambda s: not s["ticket_types"][0]["on_sale"], 2 + LATE + 1)
        assert -_seconds_until(closes.isoformat()) <= LATE
        assert closed["tickets_available"] == 0
    assert ticket["on_sale"] is False  # as created, before the window opened
