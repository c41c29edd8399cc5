"""Holds (stampede-api.md §5): pending bookings that keep their seats until confirmed, given
back, or expired; one request at a time (races and expiry over time: tests/concurrency, ws)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest
from pytest_aiohttp import AiohttpClient

from server.app import create_app
from server.config import Config
from tests.support.api import Account, Api
from tests.support.smtp import SmtpSink


async def _post(api: Api, who: Account, path: str, body: Any = None, **headers: str) -> Any:
    response = await api.client.post(path, json=body, headers={**who.headers, **headers})
    return response.status, await response.json(), response.headers


async def _hold(api: Api, who: Account, shop: dict[str, Any], quantity: int = 2) -> dict[str, Any]:
    body = {
        "event_id": shop["event"]["id"],
        "items": [{"ticket_type_id": shop["ga"]["id"], "quantity": quantity}],
        "hold": True,
    }
    status, booking, _ = await _post(api, who, "/api/bookings/", body)
    assert status == 201, booking
    held: dict[str, Any] = booking
    return held


async def _counts(api: Api, shop: dict[str, Any]) -> tuple[int, int, int, int]:
    """(tickets_available, tickets_held, tickets_sold, quantity_held of the type)."""
    event = await (await api.client.get(f"/api/events/{shop['event']['id']}/")).json()
    types = await (await api.client.get(f"/api/events/{shop['event']['id']}/ticket-types/")).json()
    [ga] = types["results"]
    assert ga["quantity_available"] + ga["quantity_held"] + ga["quantity_sold"] == 10
    return (
        event["tickets_available"],
        event["tickets_held"],
        event["tickets_sold"],
        ga["quantity_held"],
    )


async def _backdate(dsn: str, reference: str) -> None:
    """The hold's time ran out (rather than waiting for it): due now, for the next batch."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "UPDATE bookings SET expires_at = now() - interval '1 second', "
            "created_at = now() - interval '1 hour' WHERE booking_reference = $1",
            reference,
        )
    finally:
        await conn.close()


@pytest.fixture
async def shop(api: Api) -> dict[str, Any]:
    owner = await api.organizer()
    event = await api.event(owner, name="Checkout", total_capacity=10, hold_seconds=60)
    ga = await api.ticket_type(owner, event["id"], name="GA", price="20.00", quantity_available=10)
    return {"owner": owner, "event": event, "ga": ga, "buyer": await api.attendee()}


async def test_a_hold_is_pending_with_its_expiry_and_keeps_its_seats(
    api: Api, shop: dict[str, Any]
) -> None:
    booking = await _hold(api, shop["buyer"], shop)
    assert booking["status"] == "pending"
    created = datetime.fromisoformat(booking["created_at"])
    expires = datetime.fromisoformat(booking["expires_at"])
    assert expires - created == timedelta(seconds=60)
    assert await _counts(api, shop) == (8, 2, 0, 2)
    detail = await api.client.get(
        f"/api/bookings/{booking['booking_reference']}", headers=shop["buyer"].headers
    )
    assert (await detail.json())["expires_at"] == booking["expires_at"]


@pytest.fixture
async def smtp_api(
    config: Config, aiohttp_client: AiohttpClient
) -> AsyncIterator[tuple[Api, SmtpSink]]:
    sink = SmtpSink()
    sink.start()
    try:
        app = create_app(dataclasses.replace(config, smtp_url=sink.url))
        yield Api(await aiohttp_client(app)), sink
    finally:
        sink.stop()


async def _mails(dsn: str) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        return [r["subject"] for r in await conn.fetch("SELECT subject FROM outbox ORDER BY id")]
    finally:
        await conn.close()


async def test_confirming_sells_the_seats_once_and_mails_then(
    smtp_api: tuple[Api, SmtpSink], database_url: str
) -> None:
    mailing, sink = smtp_api
    owner = await mailing.organizer()
    event = await mailing.event(owner, name="Mailed", hold_seconds=60)
    ga = await mailing.ticket_type(owner, event["id"], name="GA", quantity_available=10)
    buyer = await mailing.attendee()
    booking = await _hold(mailing, buyer, {"event": event, "ga": ga}, 3)
    assert await _mails(database_url) == []  # no mail for a hold
    path = f"/api/bookings/{booking['booking_reference']}/confirm/"
    status, confirmed, _ = await _post(mailing, buyer, path)
    assert (status, confirmed["status"], confirmed["expires_at"]) == (200, "confirmed", None)
    assert await _mails(database_url) == ["Booking confirmed: Mailed"]  # with the confirm
    [mail] = await sink.wait_for(1)
    assert "3 x GA at 25.00" in mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    again = await _post(mailing, buyer, path)
    assert (again[0], again[1]) == (200, confirmed)  # confirming twice changes nothing
    types = await (await mailing.client.get(f"/api/events/{event['id']}/ticket-types/")).json()
    assert (types["results"][0]["quantity_sold"], types["results"][0]["quantity_held"]) == (3, 0)
    assert await _mails(database_url) == ["Booking confirmed: Mailed"]


async def test_an_expired_hold_is_confirmed_when_its_seats_are_still_free(
    api: Api, shop: dict[str, Any], database_url: str
) -> None:
    booking = await _hold(api, shop["buyer"], shop, 2)
    await _backdate(database_url, booking["booking_reference"])
    listed = await api.client.get(
        "/api/users/me/bookings/?status=expired", headers=shop["buyer"].headers
    )
    status, confirmed, _ = await _post(
        api, shop["buyer"], f"/api/bookings/{booking['booking_reference']}/confirm/"
    )
    assert (status, confirmed["status"]) == (200, "confirmed")
    assert await _counts(api, shop) == (8, 0, 2, 0)
    assert listed.status == 200


async def test_an_expired_hold_whose_seats_went_is_409_and_changes_nothing(
    api: Api, shop: dict[str, Any], database_url: str
) -> None:
    booking = await _hold(api, shop["buyer"], shop, 2)
    await _backdate(database_url, booking["booking_reference"])
    rival = await api.attendee()
    body = {
        "event_id": shop["event"]["id"],
        "items": [{"ticket_type_id": shop["ga"]["id"], "quantity": 9}],
    }
    assert (await _post(api, rival, "/api/bookings/", body))[0] == 201  # it expired meanwhile
    status, answer, _ = await _post(
        api, shop["buyer"], f"/api/bookings/{booking['booking_reference']}/confirm/"
    )
    assert (status, answer["code"]) == (409, "hold_expired")
    mine = await (
        await api.client.get(
            f"/api/bookings/{booking['booking_reference']}", headers=shop["buyer"].headers
        )
    ).json()
    assert (mine["status"], mine["expires_at"]) == ("expired", None)
    assert await _counts(api, shop) == (1, 0, 9, 0)
    expired = await api.client.get(
        "/api/users/me/bookings/?status=expired", headers=shop["buyer"].headers
    )
    assert [b["booking_reference"] for b in (await expired.json())["results"]] == [
        booking["booking_reference"]
    ]


async def test_extending_adds_a_hold_time_up_to_three_from_its_start(
    api: Api, shop: dict[str, Any], database_url: str
) -> None:
    booking = await _hold(api, shop["buyer"], shop)
    reference = booking["booking_reference"]
    path = f"/api/bookings/{reference}/extend/"
    status, extended, _ = await _post(api, shop["buyer"], path)
    assert status == 200
    assert datetime.fromisoformat(extended["expires_at"]) > datetime.fromisoformat(
        booking["expires_at"]
    )
    conn = await asyncpg.connect(database_url)
    try:  # made 150 s ago, 10 s left: the cap (3 x 60 s) is 30 s away, the extension stops there
        await conn.execute(
            "UPDATE bookings SET created_at = now() - interval '150 seconds', "
            "expires_at = now() + interval '10 seconds' WHERE booking_reference = $1",
            reference,
        )
        status, capped, _ = await _post(api, shop["buyer"], path)
        cap = await conn.fetchval(
            "SELECT created_at + interval '180 seconds' FROM bookings WHERE booking_reference = $1",
            reference,
        )
    finally:
        await conn.close()
    assert (status, datetime.fromisoformat(capped["expires_at"])) == (200, cap)
    status, answer, _ = await _post(api, shop["buyer"], path)
    assert (status, answer["code"]) == (409, "hold_extension_limit")
    await _backdate(database_url, reference)
    status, answer, _ = await _post(api, shop["buyer"], path)
    assert (status, answer["code"]) == (409, "not_pending")


async def test_only_the_holder_confirms_or_extends(api: Api, shop: dict[str, Any]) -> None:
    booking = await _hold(api, shop["buyer"], shop)
    someone = await api.attendee()
    for action in ("confirm", "extend"):
        path = f"/api/bookings/{booking['booking_reference']}/{action}/"
        status, answer, _ = await _post(api, someone, path)
        assert (status, answer["detail"]) == (404, "No Booking matches the given query.")
    for path in (
        "/api/bookings/not-a-uuid/confirm/",
        "/api/bookings/00000000-0000-0000-0000-000000000000/extend/",
    ):
        assert (await _post(api, shop["buyer"], path))[0] == 404
    assert await _counts(api, shop) == (8, 2, 0, 2)


async def test_cancelling_a_hold_gives_its_seats_back_once(api: Api, shop: dict[str, Any]) -> None:
    booking = await _hold(api, shop["buyer"], shop, 3)
    path = f"/api/bookings/{booking['booking_reference']}/cancel/"
    first = await api.client.patch(path, headers=shop["buyer"].headers)
    second = await api.client.patch(path, headers=shop["buyer"].headers)
    assert (first.status, second.status) == (200, 400)
    assert await _counts(api, shop) == (10, 0, 0, 0)
    confirm = await _post(
        api, shop["buyer"], f"/api/bookings/{booking['booking_reference']}/confirm/"
    )
    assert (confirm[0], confirm[1]["code"]) == (409, "not_pending")


async def test_idempotency_keys_cover_holds_and_confirms(api: Api, shop: dict[str, Any]) -> None:
    body = {
        "event_id": shop["event"]["id"],
        "items": [{"ticket_type_id": shop["ga"]["id"], "quantity": 1}],
        "hold": True,
    }
    first = await _post(api, shop["buyer"], "/api/bookings/", body, **{"Idempotency-Key": "h1"})
    again = await _post(api, shop["buyer"], "/api/bookings/", body, **{"Idempotency-Key": "h1"})
    assert (first[0], again[0], again[2]["Idempotent-Replayed"]) == (201, 201, "true")
    assert again[1]["booking_reference"] == first[1]["booking_reference"]
    booked = {**body, "hold": False}  # the same key for another request: refused
    assert (await _post(api, shop["buyer"], "/api/bookings/", booked, **{"Idempotency-Key": "h1"}))[
        0
    ] == 422
    path = f"/api/bookings/{first[1]['booking_reference']}/confirm/"
    confirmed = await _post(api, shop["buyer"], path, **{"Idempotency-Key": "c1"})
    replayed = await _post(api, shop["buyer"], path, **{"Idempotency-Key": "c1"})
    assert (confirmed[0], replayed[0], replayed[2]["Idempotent-Replayed"]) == (200, 200, "true")
    assert replayed[1] == confirmed[1]
    other = (
        f"/api/bookings/{(await _hold(api, shop['buyer'], shop, 1))['booking_reference']}/confirm/"
    )
    assert (await _post(api, shop["buyer"], other, **{"Idempotency-Key": "c1"}))[0] == 422
    assert await _counts(api, shop) == (8, 1, 1, 1)


@pytest.mark.parametrize("hold_seconds", [4, 7201, "ten", None, 60.5])
async def test_hold_seconds_is_5_to_7200(api: Api, hold_seconds: Any) -> None:
    owner = await api.organizer()
    body = {
        "name": "N", "location": "L", "start_time": "2031-01-01T10:00:00Z", "total_capacity": 5,
        "hold_seconds": hold_seconds,
    }  # fmt: skip
    response = await api.client.post("/api/events/", json=body, headers=owner.headers)
    assert response.status == 400
    assert list(await response.json()) == ["hold_seconds"]


@pytest.mark.parametrize("hold", ["maybe", 2, [], None])
async def test_a_bad_hold_flag_is_a_field_error(api: Api, shop: dict[str, Any], hold: Any) -> None:
    body = {
        "event_id": shop["event"]["id"],
        "items": [{"ticket_type_id": shop["ga"]["id"], "quantity": 1}],
        "hold": hold,
    }
    status, answer, _ = await _post(api, shop["buyer"], "/api/bookings/", body)
    assert (status, list(answer)) == (400, ["hold"])
    assert await _counts(api, shop) == (10, 0, 0, 0)
