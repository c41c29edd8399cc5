"""A user's own live messages (stampede-api.md §8 "Live"): their place in a waiting room while
they wait and at once on admission, and their holds (a minute before the end, at the end, on
confirm); and the waiting room on two instances: one admission sequence, tokens good on both."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any

import aiohttp
import asyncpg
from pytest_aiohttp import AiohttpClient

from server.config import Config
from tests.support.api import Account, Api, Client
from tests.support.crowd import make_users
from tests.support.instances import two_instances
from tests.support.queue import at, book, join, place, room_event, start_sales_now


async def _signed_in(client: Client, who: Account) -> aiohttp.ClientWebSocketResponse:
    ws = await client.ws_connect("/ws")
    await ws.send_json({"op": "auth", "token": who.access})
    assert (await ws.receive_json(timeout=2))["type"] == "authenticated"
    return ws


async def _next(
    ws: aiohttp.ClientWebSocketResponse, kind: str, seconds: float
) -> tuple[float, dict[str, Any]]:
    """The next message of that type, and when it came."""
    deadline = time.monotonic() + seconds
    while True:
        message = await ws.receive_json(timeout=max(0.01, deadline - time.monotonic()))
        if message["type"] == kind:
            return time.monotonic(), message


async def test_a_queued_socket_hears_its_place_every_few_seconds_and_its_admission_at_once(
    api: Api, database_url: str
) -> None:
    owner = await api.organizer()
    event, _ = await room_event(api, owner, admit_per_minute=6000, sales_start=at(minutes=5))
    fan = await api.attendee()
    ws = await _signed_in(api.client, fan)
    try:
        await join(api, fan, event["id"])
        first, told = await _next(ws, "queue", 5)
        assert told == {
            "type": "queue", "event_id": event["id"], "state": "prequeue", "position": None,
            "ahead": None, "eta_seconds": None,
        }  # fmt: skip
        second, again = await _next(ws, "queue", 5)
        assert again["state"] == "prequeue"
        assert second - first <= 5
        await start_sales_now(database_url, event["id"])
        started = time.monotonic()
        heard, admitted = await _next(ws, "queue", 5)
        while admitted["state"] != "admitted":
            heard, admitted = await _next(ws, "queue", 5)
        assert heard - started < 1.0  # told by the admission itself, not the next reminder
        assert (admitted["position"], admitted["ahead"]) == (1, 0)
        assert (await place(api, fan, event["id"]))["state"] == "admitted"
    finally:
        await ws.close()


async def test_waiting_places_are_told_how_many_stand_before_them(
    api: Api, config: Config, database_url: str
) -> None:
    owner = await api.organizer()
    event, _ = await room_event(api, owner, admit_per_minute=1)  # the first place in a minute
    crowd = await make_users(database_url, config.jwt_secret or "", 3)
    for member in crowd:
        await join(api, member, event["id"])
    fan = await api.attendee()
    ws = await _signed_in(api.client, fan)
    try:
        await join(api, fan, event["id"])
        _, told = await _next(ws, "queue", 5)
        assert (told["state"], told["position"], told["ahead"]) == ("waiting", 4, 3)
    finally:
        await ws.close()


async def test_holds_are_told_a_minute_before_their_end_at_their_end_and_on_confirm(
    api: Api,
) -> None:
    owner = await api.organizer()
    event = await api.event(owner, hold_seconds=5)
    ticket = await api.ticket_type(owner, event["id"])
    fan = await api.attendee()
    ws = await _signed_in(api.client, fan)
    try:
        status, kept = await book(api, fan, event["id"], ticket["id"], None, hold=True)
        assert status == 201
        status, bought = await book(api, fan, event["id"], ticket["id"], None, hold=True)
        assert status == 201
        path = f"/api/bookings/{bought['booking_reference']}/confirm/"
        assert (await api.client.post(path, headers=fan.headers)).status == 200
        told: dict[tuple[str, str], dict[str, Any]] = {}
        deadline = time.monotonic() + 8
        while len(told) < 3 and time.monotonic() < deadline:
            try:
                _, message = await _next(ws, "hold", deadline - time.monotonic())
            except TimeoutError:
                break
            told[(message["reference"], message["status"])] = message
        assert set(told) == {
            (kept["booking_reference"], "pending"),  # under a minute left: warned at once
            (bought["booking_reference"], "confirmed"),  # (confirmed before any warning)
            (kept["booking_reference"], "expired"),
        }
        assert told[(kept["booking_reference"], "pending")]["expires_at"] == kept["expires_at"]
    finally:
        await ws.close()


async def test_two_instances_admit_one_sequence_and_honour_each_others_tokens(
    config: Config, database_url: str, aiohttp_client: AiohttpClient
) -> None:
    settings = dataclasses.replace(config, admit_interval_ms=50)
    first, second = await two_instances(aiohttp_client, settings)
    api = Api(first)
    owner = await api.organizer()
    event, ticket = await room_event(api, owner, admit_per_minute=1200, sales_start=at(minutes=5))
    crowd = await make_users(database_url, config.jwt_secret or "", 40)
    for i, member in enumerate(crowd):
        assert (await join(Api((first, second)[i % 2]), member, event["id"]))[0] == 201
    await start_sales_now(database_url, event["id"])
    started = time.monotonic()
    await asyncio.sleep(1.5)
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT user_id, position, admitted_at FROM queue_places WHERE event_id = $1 "
            "AND admitted_at IS NOT NULL ORDER BY admitted_at, position",
            event["id"],
        )
    finally:
        await conn.close()
    elapsed = time.monotonic() - started
    # 20 a second from both instances together, not 20 each: one sequence, in order.
    assert abs(len(rows) - 20 * elapsed) <= 6, (len(rows), elapsed)
    assert [r["position"] for r in rows] == list(range(1, len(rows) + 1))
    admitted = next(m for m in crowd if m.id == rows[0]["user_id"])
    token = (await place(Api(first), admitted, event["id"]))["queue_token"]
    assert (await place(Api(second), admitted, event["id"]))["queue_token"] == token
    status, _ = await book(Api(second), admitted, event["id"], ticket["id"], token)
    assert status == 201
