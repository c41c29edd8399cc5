"""Webhooks (stampede-api.md §9) through the HTTP API, delivered to a real HTTP receiver in the
test process: registration and who may, each delivery signed and received once after failures,
redirects not followed, and no URL to a private address."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from pytest_aiohttp import AiohttpClient

from server.app import create_app
from server.config import Config
from tests.support.api import Account, Api
from tests.support.receiver import Receiver, verify

ALL = ["booking.created", "booking.cancelled", "hold.expired", "waitlist.offered", "event.sold_out"]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    server = Receiver()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def local(config: Config, aiohttp_client: AiohttpClient) -> Api:
    """An app that may post to 127.0.0.1 (WEBHOOKS_ALLOW_PRIVATE=on), as the receiver is."""
    return Api(
        await aiohttp_client(create_app(dataclasses.replace(config, webhooks_allow_private=True)))
    )


async def _register(api: Api, who: Account, **body: Any) -> tuple[int, Any]:
    response = await api.client.post("/api/webhooks/", json=body, headers=who.headers)
    return response.status, await response.json()


async def _log(api: Api, who: Account, webhook_id: int) -> list[dict[str, Any]]:
    response = await api.client.get(f"/api/webhooks/{webhook_id}/deliveries/", headers=who.headers)
    assert response.status == 200
    results: list[dict[str, Any]] = (await response.json())["results"]
    return results


async def _book(
    api: Api, who: Account, event: dict[str, Any], ticket: dict[str, Any], n: int
) -> Any:
    body = {"event_id": event["id"], "items": [{"ticket_type_id": ticket["id"], "quantity": n}]}
    response = await api.client.post("/api/bookings/", json=body, headers=who.headers)
    assert response.status == 201, await response.text()
    return await response.json()


async def test_register_list_and_delete_only_ones_own(api: Api) -> None:
    owner, rival, fan = await api.organizer(), await api.organizer(), await api.attendee()
    event = await api.event(owner)
    url = "https://93.184.216.34/hooks/stampede"  # a public address; nothing is posted yet
    status, made = await _register(api, owner, url=url, events=ALL[:2], event_id=event["id"])
    assert status == 201
    assert made["secret"].startswith("whsec_")
    assert (made["url"], made["events"], made["event_id"]) == (url, ALL[:2], event["id"])
    status, everywhere = await _register(api, owner, url=url, events=["event.sold_out"])
    assert (status, everywhere["event_id"]) == (201, None)
    listed = await (await api.client.get("/api/webhooks/", headers=owner.headers)).json()
    assert [w["id"] for w in listed["results"]] == [made["id"], everywhere["id"]]
    assert all("secret" not in w for w in listed["results"])
    assert (await api.client.get("/api/webhooks/", headers=rival.headers)).status == 200
    rivals = await (await api.client.get("/api/webhooks/", headers=rival.headers)).json()
    assert rivals["count"] == 0
    status, body = await _register(api, rival, url=url, events=ALL, event_id=event["id"])
    assert (status, body["code"]) == (404, "not_found")  # not their event
    assert (await _register(api, fan, url=url, events=ALL))[0] == 403
    assert (await api.client.post("/api/webhooks/", json={"url": url, "events": ALL})).status == 401
    for path in (f"/api/webhooks/{made['id']}/", f"/api/webhooks/{made['id']}/deliveries/"):
        method = api.client.delete if path.count("/") == 4 else api.client.get
        assert (await method(path, headers=rival.headers)).status == 404
    gone = await api.client.delete(f"/api/webhooks/{made['id']}/", headers=owner.headers)
    assert gone.status == 204
    again = await api.client.delete(f"/api/webhooks/{made['id']}/", headers=owner.headers)
    assert again.status == 404


@pytest.mark.parametrize(
    "body",
    [
        {"url": "https://93.184.216.34/", "events": []},
        {"url": "https://93.184.216.34/", "events": ["booking.paid"]},
        {"url": "https://93.184.216.34/", "events": "booking.created"},
        {"url": "", "events": ["booking.created"]},
        {"url": "https://93.184.216.34/", "events": ["booking.created"], "event_id": "x"},
        {"events": ["booking.created"]},
    ],
)
async def test_bad_input_is_a_400_naming_the_field(api: Api, body: dict[str, Any]) -> None:
    owner = await api.organizer()
    status, answer = await _register(api, owner, **body)
    assert status == 400
    assert set(answer) <= {"url", "events", "event_id"}
    assert answer


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook", "http://localhost/hook", "http://10.1.2.3/",
        "http://192.168.0.10/", "http://172.16.5.4/", "http://169.254.169.254/latest/meta-data",
        "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/", "http://100.64.0.1/",
        "ftp://93.184.216.34/", "javascript:alert(1)", "https://user:pw@93.184.216.34/",
        "http:///nohost", "https://93.184.216.34:99999/",
    ],
)  # fmt: skip
async def test_urls_to_private_addresses_or_other_schemes_are_refused(api: Api, url: str) -> None:
    owner = await api.organizer()
    status, answer = await _register(api, owner, url=url, events=["booking.created"])
    assert (status, answer["code"]) == (400, "webhook_url_not_allowed")
    listed = await (await api.client.get("/api/webhooks/", headers=owner.headers)).json()
    assert listed["count"] == 0


async def test_each_delivery_arrives_once_signed_after_two_failures(
    local: Api, receiver: Receiver
) -> None:
    receiver.answer = lambda n: 500 if n <= 2 else 200  # each delivery fails twice
    owner, fan = await local.organizer(), await local.attendee()
    event = await local.event(owner, total_capacity=10)
    ticket = await local.ticket_type(owner, event["id"], quantity_available=10)
    _, hook = await _register(
        local, owner, url=receiver.url + "/in", events=["booking.created", "booking.cancelled"],
        event_id=event["id"],
    )  # fmt: skip
    booking = await _book(local, fan, event, ticket, 2)
    reference = booking["booking_reference"]
    cancel = await local.client.patch(f"/api/bookings/{reference}/cancel/", headers=fan.headers)
    assert cancel.status == 200
    delivered = await receiver.wait_for(2)
    assert sorted(p.json["type"] for p in delivered) == ["booking.cancelled", "booking.created"]
    for post in delivered:
        assert verify(hook["secret"], post.headers["Stampede-Signature"], post.body)
        assert not verify("whsec_other", post.headers["Stampede-Signature"], post.body)
        data = post.json["data"]
        assert (data["booking_reference"], data["event_id"]) == (reference, event["id"])
        assert data["items"][0]["quantity"] == 2
        tries = [p for p in receiver.posts if p.json["id"] == post.json["id"]]
        assert [p.answered for p in tries] == [500, 500, 200]  # the same id on every retry
        assert {p.body for p in tries} == {post.body}
    for _ in range(100):  # the round is settled just after the receiver answered
        log = await _log(local, owner, hook["id"])
        if all(d["delivered_at"] is not None for d in log):
            break
        await asyncio.sleep(0.05)
    assert [(d["status_code"], d["attempts"]) for d in log] == [(200, 3), (200, 3)]
    assert all(d["delivered_at"] is not None and d["next_attempt_at"] is None for d in log)


async def test_redirects_are_not_followed(local: Api, receiver: Receiver) -> None:
    receiver.answer = lambda n: 302
    owner, fan = await local.organizer(), await local.attendee()
    event = await local.event(owner)
    ticket = await local.ticket_type(owner, event["id"])
    _, hook = await _register(local, owner, url=receiver.url + "/in", events=["booking.created"])
    await _book(local, fan, event, ticket, 1)
    for _ in range(100):
        log = await _log(local, owner, hook["id"])
        if log and log[0]["attempts"] >= 2:
            break
        await receiver.arrived.wait()
        receiver.arrived.clear()
    [delivery] = log
    assert (delivery["status_code"], delivery["delivered_at"]) == (302, None)
    assert delivery["next_attempt_at"] is not None  # retried, as any non-2xx
    assert {p.path for p in receiver.posts} == {"/in"}  # never /elsewhere


async def test_only_the_types_asked_for_and_only_the_organizers_events(
    local: Api, receiver: Receiver
) -> None:
    owner, other, fan = await local.organizer(), await local.organizer(), await local.attendee()
    mine = await local.event(owner, total_capacity=3)
    ticket = await local.ticket_type(owner, mine["id"], quantity_available=3)
    theirs = await local.event(other)
    their_ticket = await local.ticket_type(other, theirs["id"])
    await _register(local, owner, url=receiver.url + "/sold", events=["event.sold_out"])
    await _book(local, fan, theirs, their_ticket, 3)  # another organizer's: not sent
    await _book(local, fan, mine, ticket, 1)  # booking.created: not asked for
    await _book(local, fan, mine, ticket, 2)  # the last tickets: event.sold_out
    [post] = await receiver.wait_for(1)
    assert post.json["type"] == "event.sold_out"
    assert post.json["data"] == {
        "event_id": mine["id"], "name": mine["name"], "total_capacity": 3, "tickets_sold": 3,
        "tickets_held": 0, "tickets_available": 0,
    }  # fmt: skip
    assert len(receiver.posts) == 1


async def test_an_on_sale_sends_every_type(local: Api, receiver: Receiver) -> None:
    """A hold takes the last seat (sold out); a fan waits; the hold runs out (expired), its
    seat is offered to the fan (offered); the event is cancelled (the offer's hold cancelled,
    written by the event's cancellation itself)."""
    owner, early, late = await local.organizer(), await local.attendee(), await local.attendee()
    event = await local.event(owner, total_capacity=1, hold_seconds=5)
    ticket = await local.ticket_type(owner, event["id"], quantity_available=1)
    _, hook = await _register(
        local, owner, url=receiver.url + "/in", events=ALL, event_id=event["id"]
    )
    body = {"event_id": event["id"], "items": [{"ticket_type_id": ticket["id"], "quantity": 1}]}
    held = await local.client.post(
        "/api/bookings/", json={**body, "hold": True}, headers=early.headers
    )
    assert held.status == 201
    hold = await held.json()
    wait = {"ticket_type_id": ticket["id"], "quantity": 1}
    joined = await local.client.post(
        f"/api/events/{event['id']}/waitlist/", json=wait, headers=late.headers
    )
    assert joined.status == 201
    posts = await receiver.wait_for(3, seconds=20)  # sold out, expired, offered
    kinds = [p.json["type"] for p in posts]
    assert kinds == ["event.sold_out", "hold.expired", "waitlist.offered"]
    expired, offered = posts[1].json["data"], posts[2].json["data"]
    assert (expired["booking_reference"], expired["status"]) == (
        hold["booking_reference"],
        "expired",
    )
    assert (offered["user_id"], offered["status"]) == (late.id, "pending")
    assert offered["waitlist_entry_id"] == (await joined.json())["id"]
    cancel = await local.client.patch(
        f"/api/events/{event['id']}/", json={"status": "cancelled"}, headers=owner.headers
    )
    assert cancel.status == 200
    posts = await receiver.wait_for(4)
    last = posts[3].json
    assert last["type"] == "booking.cancelled"
    assert last["data"]["booking_reference"] == offered["booking_reference"]
    assert set(last["data"]) == set(offered) - {"waitlist_entry_id"}  # the same shape from SQL
    assert last["data"]["items"] == offered["items"]
    assert len(await _log(local, owner, hook["id"])) == 4


async def test_a_delivery_never_connects_to_a_private_address(
    api: Api, database_url: str, receiver: Receiver
) -> None:
    """Checked again when posting (a name may point elsewhere by then): a webhook whose URL
    is now private (written here straight to the table) gets no post, only a failed attempt."""
    owner, fan = await api.organizer(), await api.attendee()
    event = await api.event(owner)
    ticket = await api.ticket_type(owner, event["id"])
    _, hook = await _register(
        api, owner, url="https://93.184.216.34/in", events=["booking.created"]
    )
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            "UPDATE webhooks SET url = $1 WHERE id = $2", receiver.url + "/in", hook["id"]
        )
    finally:
        await conn.close()
    await _book(api, fan, event, ticket, 1)
    for _ in range(100):
        log = await _log(api, owner, hook["id"])
        if log and log[0]["attempts"] >= 1:
            break
        await asyncio.sleep(0.05)
    [delivery] = log
    assert (delivery["status_code"], delivery["delivered_at"]) == (None, None)
    assert "non-public" in delivery["last_error"]
    assert receiver.posts == []


async def test_a_slow_endpoint_never_slows_bookings(local: Api, receiver: Receiver) -> None:
    receiver.delay = 5.0  # each post takes 5 s to answer
    owner, fan = await local.organizer(), await local.attendee()
    event = await local.event(owner, total_capacity=20)
    ticket = await local.ticket_type(owner, event["id"], quantity_available=20)
    await _register(local, owner, url=receiver.url + "/slow", events=["booking.created"])
    took = []
    for _ in range(10):
        started = time.monotonic()
        await _book(local, fan, event, ticket, 1)
        took.append(time.monotonic() - started)
    await receiver.wait_for(1, answered=False)  # posts are in flight meanwhile
    assert max(took) < 1.0, took
    assert sum(took) < receiver.delay  # all ten booked before the first post could be answered
