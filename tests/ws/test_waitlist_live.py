"""The waiting list live (stampede-api.md §7, §8): its counts in the public availability
messages, agreeing with REST, and each offer told on its user's authenticated sockets, on
whichever instance they are."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import aiohttp
import pytest
from pytest_aiohttp import AiohttpClient

from server.config import Config
from server.embedded.redis import RedisServer
from tests.support.api import Account, Api, Client
from tests.support.instances import two_instances
from tests.support.waitlist import cancel, counts, entry, joined, sold_out


async def _receive(ws: aiohttp.ClientWebSocketResponse, seconds: float = 1.0) -> dict[str, Any]:
    message = await ws.receive(timeout=seconds)
    assert message.type == aiohttp.WSMsgType.TEXT, message
    data: dict[str, Any] = message.json()
    return data


async def _until(ws: aiohttp.ClientWebSocketResponse, predicate: Any) -> dict[str, Any]:
    deadline = time.monotonic() + 1.0
    while True:
        message = await _receive(ws, max(0.01, deadline - time.monotonic()))
        if predicate(message):
            return message


async def _signed_in(client: Client, who: Account) -> aiohttp.ClientWebSocketResponse:
    ws = await client.ws_connect("/ws")
    await ws.send_json({"op": "auth", "token": who.access})
    assert await _receive(ws) == {"type": "authenticated", "user_id": who.id}
    return ws


async def test_kept_seats_and_the_number_waiting_are_live_and_agree_with_rest(api: Api) -> None:
    shop = await sold_out(api, [1, 1])
    fan = await api.attendee()
    async with api.client.ws_connect(f"/ws/events/{shop.event['id']}") as ws:
        await _receive(ws)
        await joined(api, fan, shop, 2)
        waiting = await _until(ws, lambda s: s["ticket_types"][0]["waiting"] == 1)
        assert waiting["tickets_available"] == 0
        buyer, booking = shop.bookings[0]
        await cancel(api, buyer, booking["booking_reference"])
        kept = await _until(ws, lambda s: s["tickets_sold"] == 1)
        [ticket] = kept["ticket_types"]
        assert (ticket["quantity_available"], ticket["quantity_held"], ticket["waiting"]) == (
            0, 1, 1,
        )  # fmt: skip
        assert (kept["tickets_available"], kept["tickets_held"]) == (0, 1)
        rest = await counts(api, shop)
        assert (rest["available"], rest["held"], rest["waiting"]) == (0, 1, 1)
        assert (rest["tickets_available"], rest["tickets_held"]) == (0, 1)


async def test_a_bad_token_is_refused_and_the_socket_stays(api: Api) -> None:
    owner = await api.organizer()
    event = await api.event(owner)
    async with api.client.ws_connect("/ws") as ws:
        for token in ("nope", "", 7, None):
            await ws.send_json({"op": "auth", "token": token})
            refusal = await _receive(ws)
            assert (refusal["type"], refusal["code"]) == ("error", "unauthorized")
        await ws.send_json({"op": "subscribe", "event_id": event["id"]})
        assert (await _receive(ws))["type"] == "availability"


async def test_an_offer_is_told_at_once_on_its_users_sockets_only(api: Api) -> None:
    shop = await sold_out(api, [1], waitlist_offer_seconds=600)
    fan, other = await api.attendee(), await api.attendee()
    await joined(api, fan, shop)
    mine, theirs = await _signed_in(api.client, fan), await _signed_in(api.client, other)
    try:
        buyer, booking = shop.bookings[0]
        started = time.monotonic()
        await cancel(api, buyer, booking["booking_reference"])
        told = await _receive(mine)
        assert time.monotonic() - started < 1.0
        offer = await entry(api, fan)
        assert told == {
            "type": "waitlist",
            "id": offer["id"],
            "event_id": shop.event["id"],
            "status": "offered",
            "booking_reference": offer["booking_reference"],
            "expires_at": offer["expires_at"],
        }
        await theirs.send_json({"op": "subscribe", "event_id": shop.event["id"]})
        assert (await _receive(theirs))["type"] == "availability"  # and nothing before it
    finally:
        await mine.close()
        await theirs.close()


async def test_an_offer_made_on_another_instance_reaches_the_socket(
    config: Config, redis_server: RedisServer, aiohttp_client: AiohttpClient
) -> None:
    settings = dataclasses.replace(config, redis_url=redis_server.url)
    booking_side, watching_side = await two_instances(aiohttp_client, settings)
    api = Api(booking_side)
    shop = await sold_out(api, [1])
    fan = await api.attendee()
    await joined(api, fan, shop)
    ws = await _signed_in(watching_side, fan)
    try:
        buyer, booking = shop.bookings[0]
        await cancel(api, buyer, booking["booking_reference"])
        told = await _receive(ws)
        assert (told["type"], told["status"]) == ("waitlist", "offered")
        assert told["booking_reference"] == (await entry(api, fan))["booking_reference"]
        assert (await entry(api, fan))["status"] == "offered"
        with pytest.raises(TimeoutError):  # once, though it went out through Redis as well
            await ws.receive(timeout=0.3)
    finally:
        await ws.close()
