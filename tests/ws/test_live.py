"""Live availability over websockets, on real PostgreSQL (and a real Redis for two instances)."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient
from redis.asyncio import Redis

from server.app import create_app
from server.config import Config
from server.embedded.redis import RedisServer
from server.ws.publisher import CHANNEL_PREFIX
from tests.support.api import Api
from tests.support.crowd import Member, make_users
from tests.support.instances import two_instances


async def _receive(ws: aiohttp.ClientWebSocketResponse, seconds: float = 1.0) -> dict[str, Any]:
    message = await ws.receive(timeout=seconds)
    assert message.type == aiohttp.WSMsgType.TEXT, message
    data: dict[str, Any] = message.json()
    return data


async def _until(
    ws: aiohttp.ClientWebSocketResponse, predicate: Any, seconds: float = 1.0
) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        state = await _receive(ws, seconds=max(0.01, deadline - time.monotonic()))
        if predicate(state):
            return state


async def _book(
    client: TestClient[Any, Any], member: Member, event_id: int, type_id: int, quantity: int = 1
) -> int:
    body = {"event_id": event_id, "items": [{"ticket_type_id": type_id, "quantity": quantity}]}
    response = await client.post("/api/bookings/", json=body, headers=member.headers)
    return response.status


async def _shop(api: Api, stock: int = 100) -> tuple[dict[str, Any], dict[str, Any]]:
    owner = await api.organizer()
    event = await api.event(owner, total_capacity=1000)
    ticket = await api.ticket_type(
        owner, event["id"], name="VIP", price="99.00", quantity_available=stock
    )
    return event, ticket


async def test_snapshot_then_each_committed_change(
    api: Api, config: Config, database_url: str
) -> None:
    event, ticket = await _shop(api)
    [member] = await make_users(database_url, config.jwt_secret or "", 1)
    async with api.client.ws_connect(f"/ws/events/{event['id']}") as ws:
        first = await _receive(ws)
        assert first == {
            "type": "availability", "event_id": event["id"], "seq": first["seq"], "status": "upcoming",
            "total_capacity": 1000, "tickets_sold": 0, "tickets_held": 0, "tickets_available": 100,
            "sales_start": None, "sales_end": None,
            "ticket_types": [{"id": ticket["id"], "name": "VIP", "price": "99.00", "quantity_available": 100,
                              "quantity_held": 0, "quantity_sold": 0, "waiting": 0, "is_active": True, "on_sale": True,
                              "sales_start": None, "sales_end": None}],
        }  # fmt: skip
        started = time.monotonic()
        assert await _book(api.client, member, event["id"], ticket["id"], 3) == 201
        update = await _until(ws, lambda s: s["tickets_sold"] == 3)
        assert time.monotonic() - started < 1.0
        assert update["seq"] > first["seq"]
        rest = await (await api.client.get(f"/api/events/{event['id']}/")).json()
        assert (update["tickets_sold"], update["tickets_available"]) == (
            rest["tickets_sold"],
            rest["tickets_available"],
        )
        assert update["ticket_types"][0]["quantity_available"] == 97


async def test_organizer_changes_are_published_too(api: Api) -> None:
    owner = await api.organizer()
    event = await api.event(owner, total_capacity=50)
    async with api.client.ws_connect(f"/ws/events/{event['id']}") as ws:
        assert (await _receive(ws))["ticket_types"] == []
        await api.ticket_type(owner, event["id"], name="GA", quantity_available=20)
        assert (await _until(ws, lambda s: s["ticket_types"]))["tickets_available"] == 20
        await api.client.patch(
            f"/api/events/{event['id']}/", json={"status": "cancelled"}, headers=owner.headers
        )
        closed = await _until(ws, lambda s: s["status"] == "cancelled")
        assert closed["tickets_available"] == 0
        assert closed["ticket_types"][0]["is_active"] is False


async def test_unknown_event_is_an_error_then_4404(api: Api) -> None:
    for path in ("/ws/events/987654", "/ws/events/abc"):
        async with api.client.ws_connect(path) as ws:
            error = await _receive(ws)
            assert (error["type"], error["code"]) == ("error", "not_found")
            closing = await ws.receive(timeout=1)
            assert closing.type == aiohttp.WSMsgType.CLOSE
            assert ws.close_code == 4404


async def test_multiplexed_socket_subscribes_and_survives_bad_messages(
    api: Api, config: Config, database_url: str
) -> None:
    event, ticket = await _shop(api)
    other, _ = await _shop(api)
    [member] = await make_users(database_url, config.jwt_secret or "", 1)
    async with api.client.ws_connect("/ws") as ws:
        for bad in ("not json", '{"op": "dance"}', '{"op": "subscribe", "event_id": "x"}', "[]"):
            await ws.send_str(bad)
            error = await _receive(ws)
            assert (error["type"], error["code"]) == ("error", "bad_request")
        await ws.send_json({"op": "subscribe", "event_id": 987654})
        assert (await _receive(ws))["code"] == "not_found"
        await ws.send_json({"op": "subscribe", "event_id": event["id"]})
        await ws.send_json({"op": "subscribe", "event_id": other["id"]})
        firsts = {(await _receive(ws))["event_id"] for _ in range(2)}
        assert firsts == {event["id"], other["id"]}
        await ws.send_json({"op": "unsubscribe", "event_id": other["id"]})
        await asyncio.sleep(0.1)
        assert await _book(api.client, member, event["id"], ticket["id"]) == 201
        update = await _receive(ws)
        assert (update["event_id"], update["tickets_sold"]) == (event["id"], 1)
        assert not ws.closed


async def test_a_burst_is_coalesced_and_ends_on_the_final_state(
    api: Api, config: Config, database_url: str
) -> None:
    event, ticket = await _shop(api, stock=500)
    crowd = await make_users(database_url, config.jwt_secret or "", 500)
    async with api.client.ws_connect(f"/ws/events/{event['id']}") as ws:
        await _receive(ws)
        statuses = await asyncio.gather(
            *(_book(api.client, m, event["id"], ticket["id"]) for m in crowd)
        )
        assert statuses == [201] * 500
        received = [await _until(ws, lambda s: True, seconds=2.0)]
        while received[-1]["tickets_sold"] < 500:
            received.append(await _receive(ws, seconds=2.0))
        assert len(received) < 100  # far fewer messages than bookings
        seqs = [s["seq"] for s in received]
        assert seqs == sorted(seqs)
        rest = await (await api.client.get(f"/api/events/{event['id']}/")).json()
        assert (received[-1]["tickets_sold"], received[-1]["tickets_available"]) == (
            rest["tickets_sold"],
            rest["tickets_available"],
        )


async def test_a_client_that_never_reads_does_not_delay_one_that_does(
    api: Api, config: Config, database_url: str
) -> None:
    event, ticket = await _shop(api, stock=1000)
    crowd = await make_users(database_url, config.jwt_secret or "", 50)
    async with (
        api.client.ws_connect(f"/ws/events/{event['id']}") as stalled,
        api.client.ws_connect(f"/ws/events/{event['id']}") as reader,
    ):
        await _receive(reader)
        delays = []
        for round_ in range(5):
            started = time.monotonic()
            await asyncio.gather(
                *(
                    _book(api.client, m, event["id"], ticket["id"])
                    for m in crowd[round_ * 10 : round_ * 10 + 10]
                )
            )
            await _until(reader, lambda s, n=round_: s["tickets_sold"] == (n + 1) * 10)
            delays.append(time.monotonic() - started)
        assert max(delays) < 1.0, delays
        assert not stalled.closed


async def test_two_instances_share_changes_through_redis(
    config: Config, database_url: str, redis_server: RedisServer, aiohttp_client: AiohttpClient
) -> None:
    settings = dataclasses.replace(config, redis_url=redis_server.url)
    booking_side, watching_side = await two_instances(aiohttp_client, settings)
    event, ticket = await _shop(Api(booking_side))
    [member] = await make_users(database_url, config.jwt_secret or "", 1)
    async with watching_side.ws_connect(f"/ws/events/{event['id']}") as ws:
        await _receive(ws)
        started = time.monotonic()
        assert await _book(booking_side, member, event["id"], ticket["id"], 2) == 201
        update = await _until(ws, lambda s: s["tickets_sold"] == 2)
        assert time.monotonic() - started < 1.0
        assert update["ticket_types"][0]["quantity_available"] == 98


GARBAGE = (b"not json", b"\xff\xfe\x00", b"[]", b'{"seq": "high"}', b"{}", b"", b"7")


async def test_garbage_on_every_channel_stops_no_live_update(
    config: Config,
    database_url: str,
    private_redis: RedisServer,
    aiohttp_client: AiohttpClient,
) -> None:
    """Malformed messages on every channel the instances listen to (and channel names that
    only match the pattern) are logged and skipped: cross-instance updates go on."""
    settings = dataclasses.replace(config, redis_url=private_redis.url)
    booking_side, watching_side = await two_instances(aiohttp_client, settings)
    event, ticket = await _shop(Api(booking_side))
    [member] = await make_users(database_url, config.jwt_secret or "", 1)
    redis = Redis.from_url(private_redis.url)
    try:
        async with watching_side.ws_connect(f"/ws/events/{event['id']}") as ws:
            await _receive(ws)
            channels = [c.decode() for c in await redis.pubsub_channels()]
            assert channels  # the user-cache channel, at least
            channels += [
                CHANNEL_PREFIX + suffix
                for suffix in ("", "x", "-1", "99999999999999999999999", str(event["id"]), "\u00e9")
            ]
            for channel in channels:
                for data in GARBAGE:
                    await redis.publish(channel, data)
            await asyncio.sleep(0.2)
            assert await _book(booking_side, member, event["id"], ticket["id"], 3) == 201
            update = await _until(ws, lambda s: s["tickets_sold"] == 3, seconds=2.0)
            assert update["tickets_available"] == 97
    finally:
        await redis.aclose()
    # The user-cache listener outlived the garbage too: a deactivation is heard at once.
    account = await Api(booking_side).attendee()
    assert (await watching_side.get("/api/auth/profile/", headers=account.headers)).status == 200
    gone = await booking_side.delete("/api/auth/deactivate-account/", headers=account.headers)
    assert gone.status == 204
    for _ in range(20):  # well inside the cache's 2 s: told through Redis, not by expiry
        refused = await watching_side.get("/api/auth/profile/", headers=account.headers)
        if refused.status == 401:
            break
        await asyncio.sleep(0.025)
    assert refused.status == 401


async def test_after_redis_returns_the_watcher_resynchronises(
    config: Config, database_url: str, private_redis: RedisServer, aiohttp_client: AiohttpClient
) -> None:
    settings = dataclasses.replace(config, redis_url=private_redis.url)
    booking_side, watching_side = await two_instances(aiohttp_client, settings)
    event, ticket = await _shop(Api(booking_side))
    [member] = await make_users(database_url, config.jwt_secret or "", 1)
    async with watching_side.ws_connect(f"/ws/events/{event['id']}") as ws:
        await _receive(ws)
        private_redis.stop()
        assert (
            await _book(booking_side, member, event["id"], ticket["id"], 4) == 201
        )  # bookings go on
        with pytest.raises(TimeoutError):
            await _receive(ws, seconds=0.5)  # the other instance cannot know yet
        private_redis.start()
        update = await _until(ws, lambda s: s["tickets_sold"] == 4, seconds=5.0)
        assert update["tickets_available"] == 96
        assert not ws.closed


async def test_shutdown_closes_sockets_with_1001(
    config: Config, aiohttp_client: AiohttpClient
) -> None:
    client = await aiohttp_client(create_app(config))
    event, _ = await _shop(Api(client))
    ws = await client.ws_connect(f"/ws/events/{event['id']}")
    await _receive(ws)
    await client.app.shutdown()
    closing = await ws.receive(timeout=2)
    assert closing.type == aiohttp.WSMsgType.CLOSE
    assert ws.close_code == 1001
    await ws.close()


async def test_sockets_decline_compression(api: Api) -> None:
    event, _ = await _shop(api)
    # Browsers ask for permessage-deflate; compressing one state per socket would cost each
    # socket a compressor and the server a compression per subscriber.
    async with api.client.ws_connect(f"/ws/events/{event['id']}", compress=15) as ws:
        assert ws.compress == 0
        assert (await _receive(ws))["type"] == "availability"


async def test_an_oversized_message_closes_only_its_own_socket(
    api: Api, config: Config, database_url: str
) -> None:
    event, ticket = await _shop(api)
    [member] = await make_users(database_url, config.jwt_secret or "", 1)
    path = f"/ws/events/{event['id']}"
    async with api.client.ws_connect(path) as loud, api.client.ws_connect(path) as calm:
        await _receive(loud)
        await _receive(calm)
        await loud.send_str('{"op": "' + "x" * 10_000 + '"}')
        closing = await loud.receive(timeout=1)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert loud.close_code == aiohttp.WSCloseCode.MESSAGE_TOO_BIG
        assert await _book(api.client, member, event["id"], ticket["id"]) == 201
        update = await _until(calm, lambda s: s["tickets_sold"] == 1)
        assert update["event_id"] == event["id"]
        assert not calm.closed
