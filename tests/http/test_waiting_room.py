"""The waiting room (stampede-api.md §8) through the HTTP API: joining, the prequeue and its
draw, admission in order at the room's rate, and the queue token that booking then needs."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import asyncpg

from server.config import Config
from server.waiting_room.tokens import QueueTokens
from tests.support.api import Api
from tests.support.crowd import make_users
from tests.support.queue import Caller, at, book, join, place, room_event, start_sales_now


async def _until_state(
    api: Api, who: Caller, event_id: int, state: str, seconds: float = 5
) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        mine = await place(api, who, event_id)
        if mine["state"] == state or time.monotonic() > deadline:
            return mine
        await asyncio.sleep(0.05)


async def test_the_room_is_an_event_setting(api: Api) -> None:
    owner = await api.organizer()
    event, _ = await room_event(api, owner, admit_per_minute=120, session_seconds=600)
    assert event["waiting_room"] == {"admit_per_minute": 120, "session_seconds": 600}
    path = f"/api/events/{event['id']}/"
    for bad in (
        {"admit_per_minute": 0, "session_seconds": 60},
        {"admit_per_minute": 5},
        {"admit_per_minute": 5, "session_seconds": 4},
        "fast",
    ):
        response = await api.client.patch(path, json={"waiting_room": bad}, headers=owner.headers)
        assert response.status == 400, bad
        assert "waiting_room" in await response.json()
    kept = await (await api.client.get(path)).json()
    assert kept["waiting_room"] == {"admit_per_minute": 120, "session_seconds": 600}  # unchanged
    off = await api.client.patch(path, json={"waiting_room": None}, headers=owner.headers)
    assert (await off.json())["waiting_room"] is None
    fan = await api.attendee()
    status, body = await join(api, fan, event["id"])
    assert (status, body["code"]) == (404, "not_found")


async def test_joining_before_it_opens_and_reading_before_joining(api: Api) -> None:
    owner = await api.organizer()
    event, _ = await room_event(api, owner, sales_start=at(hours=2))
    fan = await api.attendee()
    status, body = await join(api, fan, event["id"])
    assert (status, body["code"]) == (400, "queue_not_open")
    response = await api.client.get(f"/api/events/{event['id']}/queue/", headers=fan.headers)
    assert (response.status, (await response.json())["code"]) == (404, "not_in_queue")


async def test_the_prequeue_is_drawn_at_random_at_sales_start(
    api: Api, config: Config, database_url: str
) -> None:
    owner = await api.organizer()
    event, _ = await room_event(api, owner, admit_per_minute=1, sales_start=at(minutes=10))
    fans = await make_users(database_url, config.jwt_secret or "", 20)
    for fan in fans:
        status, body = await join(api, fan, event["id"])
        assert status == 201
        assert body == {
            "state": "prequeue", "position": None, "ahead": None, "eta_seconds": None,
            "queue_token": None, "admitted_until": None,
        }  # fmt: skip
    status, again = await join(api, fans[0], event["id"])
    assert (status, again["state"]) == (200, "prequeue")
    await start_sales_now(database_url, event["id"])
    late, later = await make_users(database_url, config.jwt_secret or "", 2)
    status, behind = await join(api, late, event["id"])  # the draw happens first
    assert (status, behind["position"]) == (201, 21)
    positions = [(await place(api, fan, event["id"]))["position"] for fan in fans]
    assert sorted(positions) == list(range(1, 21))
    assert positions != list(range(1, 21))  # drawn, not in the order of joining
    assert (await join(api, later, event["id"]))[1]["position"] == 22


async def test_places_are_admitted_in_order_at_the_rooms_rate(
    api: Api, config: Config, database_url: str
) -> None:
    owner = await api.organizer()
    event, _ = await room_event(api, owner, admit_per_minute=600)  # 10 a second
    fans = await make_users(database_url, config.jwt_secret or "", 60)
    for fan in fans:  # no sales_start: the room applies at once, places in order of joining
        assert (await join(api, fan, event["id"]))[0] == 201
    conn = await asyncpg.connect(database_url)
    try:
        await asyncio.sleep(0.5)
        started, first = time.monotonic(), await _admitted(conn, event["id"])
        await asyncio.sleep(3)
        admitted = await _admitted(conn, event["id"]) - first
        elapsed = time.monotonic() - started
        order = await conn.fetch(
            "SELECT position FROM queue_places WHERE event_id = $1 AND admitted_at IS NOT NULL "
            "ORDER BY admitted_at, position",
            event["id"],
        )
    finally:
        await conn.close()
    assert abs(admitted - 10 * elapsed) <= 4, (admitted, elapsed)
    assert [r["position"] for r in order] == list(range(1, len(order) + 1))


async def _admitted(conn: asyncpg.Connection, event_id: int) -> int:
    return await conn.fetchval(
        "SELECT count(*) FROM queue_places WHERE event_id = $1 AND admitted_at IS NOT NULL",
        event_id,
    )


async def test_booking_needs_ones_own_valid_queue_token(api: Api, config: Config) -> None:
    owner = await api.organizer()
    event, ticket = await room_event(api, owner, admit_per_minute=6000)
    fan, other = await api.attendee(), await api.attendee()
    status, _ = await book(api, fan, event["id"], ticket["id"], None)
    assert status == 403
    await join(api, fan, event["id"])
    mine = await _until_state(api, fan, event["id"], "admitted")
    assert mine["state"] == "admitted"
    assert datetime.fromisoformat(mine["admitted_until"]) > datetime.now(UTC)
    token = mine["queue_token"]
    status, body = await book(api, other, event["id"], ticket["id"], token)
    assert (status, body["code"]) == (403, "queue_required")
    expired = QueueTokens(config.jwt_secret or "").issue(event["id"], fan.id, datetime.now(UTC))
    assert (await book(api, fan, event["id"], ticket["id"], expired))[0] == 403
    assert (await book(api, fan, event["id"], ticket["id"], token + "x"))[0] == 403
    status, booking = await book(api, fan, event["id"], ticket["id"], token, hold=True)
    assert status == 201, booking
    confirm = await api.client.post(
        f"/api/bookings/{booking['booking_reference']}/confirm/", headers=fan.headers
    )
    assert confirm.status == 200  # confirming needs no token


async def test_after_ones_admission_runs_out_joining_again_queues_at_the_back(
    api: Api, config: Config, database_url: str
) -> None:
    owner = await api.organizer()
    event, _ = await room_event(api, owner, admit_per_minute=1, sales_start=at(minutes=10))
    first, *others = await make_users(database_url, config.jwt_secret or "", 3)
    conn = await asyncpg.connect(database_url)
    try:
        for who in (first, *others):
            await join(api, who, event["id"])
        await start_sales_now(database_url, event["id"])
        assert (await _until_state(api, first, event["id"], "waiting"))["position"] is not None
        await conn.execute(  # the first place drawn is admitted, and its time is over
            "UPDATE queue_places SET admitted_at = now() - interval '1 hour', "
            "admitted_until = now() - interval '1 second' WHERE event_id = $1 AND position = 1",
            event["id"],
        )
        await conn.execute(
            "UPDATE waiting_rooms SET admitted_through = 1 WHERE event_id = $1", event["id"]
        )
        expired_user = await conn.fetchval(
            "SELECT user_id FROM queue_places WHERE event_id = $1 AND position = 1", event["id"]
        )
    finally:
        await conn.close()
    who = next(m for m in (first, *others) if m.id == expired_user)
    mine = await place(api, who, event["id"])
    assert (mine["state"], mine["queue_token"]) == ("expired", None)
    status, again = await join(api, who, event["id"])
    assert (status, again["state"], again["position"]) == (201, "waiting", 4)
    assert again["ahead"] == 2


async def test_booking_before_sales_start_is_not_on_sale_and_a_sold_out_room_says_so(
    api: Api, config: Config, database_url: str
) -> None:
    owner = await api.organizer()
    event, ticket = await room_event(api, owner, admit_per_minute=6000, sales_start=at(minutes=5))
    fan, rival = await api.attendee(), await api.attendee()
    status, body = await book(api, fan, event["id"], ticket["id"], None)
    assert (status, body["code"]) == (400, "not_on_sale")  # as for any event
    await join(api, fan, event["id"])
    await join(api, rival, event["id"])
    await start_sales_now(database_url, event["id"])
    mine = await _until_state(api, fan, event["id"], "admitted")
    resized = await api.client.patch(
        f"/api/events/{event['id']}/ticket-types/{ticket['id']}/",
        json={"quantity_available": 1},
        headers=owner.headers,
    )
    assert resized.status == 200
    rivals = await _until_state(api, rival, event["id"], "admitted")
    assert (await book(api, fan, event["id"], ticket["id"], mine["queue_token"]))[0] == 201
    status, body = await book(api, rival, event["id"], ticket["id"], None)
    assert (status, body["code"]) == (400, "sold_out")  # nothing to queue for any more
    late = (await make_users(database_url, config.jwt_secret or "", 1))[0]
    status, body = await join(api, late, event["id"])
    assert (status, body["state"]) == (201, "sold_out")
    assert rivals["state"] == "admitted"


async def test_joins_racing_keep_one_place_each(
    api: Api, config: Config, database_url: str
) -> None:
    owner = await api.organizer()
    event, _ = await room_event(api, owner, admit_per_minute=1, sales_start=at(minutes=5))
    crowd = await make_users(database_url, config.jwt_secret or "", 30)
    twice = await asyncio.gather(*(join(api, m, event["id"]) for m in crowd for _ in range(2)))
    assert sorted(status for status, _ in twice) == [200] * 30 + [201] * 30
    await start_sales_now(database_url, event["id"])
    late = await make_users(database_url, config.jwt_secret or "", 20)
    again = await asyncio.gather(*(join(api, m, event["id"]) for m in late for _ in range(2)))
    assert sorted(status for status, _ in again) == [200] * 20 + [201] * 20
    positions = [(await place(api, m, event["id"]))["position"] for m in (*crowd, *late)]
    assert sorted(positions) == list(range(1, 51))  # every place once, no gaps
    assert min(positions[30:]) == 31  # the late ones behind everyone drawn
