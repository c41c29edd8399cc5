"""Booking mails go through the outbox written in the booking's own transaction: with the SMTP
server down they wait, and once it is back each is delivered exactly once."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from collections.abc import Iterator

import asyncpg
import pytest
from pytest_aiohttp import AiohttpClient

from server.app import create_app
from server.config import Config
from tests.support.api import Api
from tests.support.smtp import SmtpSink


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink()  # not started: the SMTP server is down when the test begins
    yield sink
    sink.stop()


@pytest.fixture
async def api(config: Config, smtp: SmtpSink, aiohttp_client: AiohttpClient) -> Api:
    mailing = dataclasses.replace(config, smtp_url=smtp.url, mail_retry_max_seconds=1)
    return Api(await aiohttp_client(create_app(mailing)))


def _body(message: object) -> str:
    return message.get_payload(decode=True).decode()  # type: ignore[attr-defined]


def _order(event_id: int, type_id: int, quantity: int) -> dict[str, object]:
    return {"event_id": event_id, "items": [{"ticket_type_id": type_id, "quantity": quantity}]}


async def _book(api: Api, token: dict[str, str], order: dict[str, object]) -> str:
    response = await api.client.post("/api/bookings/", json=order, headers=token)
    assert response.status == 201, await response.text()
    reference: str = (await response.json())["booking_reference"]
    return reference


async def test_booking_mails_wait_for_smtp_and_arrive_once_each(
    api: Api, smtp: SmtpSink, database_url: str
) -> None:
    organizer, ann, bob = await api.organizer(), await api.attendee(), await api.attendee()
    event = await api.event(organizer, name="Night Run", total_capacity=10)
    vip = await api.ticket_type(
        organizer, event["id"], name="VIP", price="80.00", quantity_available=3
    )
    first = await _book(api, ann.headers, _order(event["id"], vip["id"], 2))
    second = await _book(api, bob.headers, _order(event["id"], vip["id"], 1))
    refused = await api.client.post(
        "/api/bookings/", json=_order(event["id"], vip["id"], 1), headers=ann.headers
    )
    assert refused.status == 400  # sold out: no booking, so no mail
    cancel = await api.client.put(f"/api/bookings/{first}/cancel/", headers=ann.headers)
    assert cancel.status == 200
    # The organizer cancels the event: bob's booking is cancelled with it (ann's already was).
    update = await api.client.patch(
        f"/api/events/{event['id']}/", json={"status": "cancelled"}, headers=organizer.headers
    )
    assert update.status == 200, await update.text()

    conn = await asyncpg.connect(database_url)
    try:
        for _ in range(200):  # the sender has tried, and failed, every mail at least once
            failed = await conn.fetchval(
                "SELECT count(*) FROM outbox WHERE attempts >= 1 AND sent_at IS NULL"
            )
            if failed == 4:
                break
            await asyncio.sleep(0.05)
        assert failed == 4
        assert smtp.messages == []

        smtp.start()
        mails = await smtp.wait_for(4, seconds=15)
        await asyncio.sleep(2.5)  # retries are due every second: give a duplicate its chance
        assert len(smtp.messages) == 4
        unsent = await conn.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
        assert unsent == 0
    finally:
        await conn.close()

    received = Counter((m["To"], m["Subject"], _reference(m, first, second)) for m in mails)
    assert received == Counter(
        {
            (ann.email, "Booking confirmed: Night Run", first): 1,
            (bob.email, "Booking confirmed: Night Run", second): 1,
            (ann.email, "Booking cancelled: Night Run", first): 1,
            (bob.email, "Booking cancelled: Night Run", second): 1,
        }
    )
    assert len({m["Message-ID"] for m in mails}) == 4
    confirmation = next(m for m in mails if m["To"] == ann.email and "confirmed" in m["Subject"])
    assert "2 x VIP at 80.00" in _body(confirmation)
    assert "Total: 160.00" in _body(confirmation)


def _reference(message: object, *references: str) -> str:
    [found] = [r for r in references if r in _body(message)]
    return found
