"""Redis stopped and started during a booking storm on two instances: bookings go on, live
updates resume by themselves, and no watcher is ever shown an older state than it had."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from typing import Any

import aiohttp
from pytest_aiohttp import AiohttpClient

from server.config import Config
from server.embedded.redis import RedisServer
from tests.support.api import Api
from tests.support.crowd import check_invariants, make_users, storm
from tests.support.instances import two_instances

STORM_SECONDS = 4.0


async def _watch(ws: aiohttp.ClientWebSocketResponse, seen: list[dict[str, Any]]) -> None:
    async for message in ws:
        if message.type == aiohttp.WSMsgType.TEXT:
            seen.append(message.json())


async def test_bookings_and_live_updates_survive_a_redis_outage(
    config: Config, database_url: str, private_redis: RedisServer, aiohttp_client: AiohttpClient
) -> None:
    settings = dataclasses.replace(config, redis_url=private_redis.url)
    booking_side, watching_side = await two_instances(aiohttp_client, settings)
    api = Api(booking_side)
    owner = await api.organizer()
    event = await api.event(owner, total_capacity=50_000)
    ticket = await api.ticket_type(owner, event["id"], quantity_available=50_000)
    crowd = await make_users(database_url, config.jwt_secret or "", 40)
    path = f"/ws/events/{event['id']}"
    seen_remote: list[dict[str, Any]] = []
    seen_local: list[dict[str, Any]] = []
    remote = await watching_side.ws_connect(path)
    local = await booking_side.ws_connect(path)
    watchers = [
        asyncio.create_task(_watch(remote, seen_remote)),
        asyncio.create_task(_watch(local, seen_local)),
    ]

    async def outage() -> tuple[float, float]:
        await asyncio.sleep(1.0)
        private_redis.stop()
        await asyncio.sleep(1.5)
        private_redis.start()
        return 1.0, 2.5

    answers, (down, up) = await asyncio.gather(
        storm(booking_side, crowd, event["id"], ticket["id"], STORM_SECONDS), outage()
    )
    statuses = Counter(answer.status for answer in answers)
    assert set(statuses) == {201}, statuses
    assert any(down + 0.1 < answer.at < up for answer in answers)  # booked while Redis was down

    final = await check_invariants(database_url, event["id"])
    for _ in range(100):  # up to 5 s for the last state to reach both watchers
        if all(s and s[-1]["tickets_sold"] == final["event"] for s in (seen_remote, seen_local)):
            break
        await asyncio.sleep(0.05)
    for seen in (seen_remote, seen_local):
        assert seen[-1]["tickets_sold"] == final["event"] == statuses[201]
        seqs = [state["seq"] for state in seen]
        assert seqs == sorted(set(seqs)), "a state arrived twice or out of order"
        sold = [state["tickets_sold"] for state in seen]
        assert sold == sorted(sold), "a watcher was shown an older state"
    for task in watchers:
        task.cancel()
    await remote.close()
    await local.close()
