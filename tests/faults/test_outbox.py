"""Booking mails go through the outbox written in the booking's own transaction: with the SMTP
server down they wait, and once it is back each is delivered exactly once."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

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


async def _outbox(dsn: str, query: str) -> Any:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetch(query)
    finally:
        await conn.close()


async def test_the_sender_holds_no_transaction_or_lock_while_smtp_talks(
    config: Config, database_url: str, aiohttp_client: AiohttpClient
) -> None:
    """Mails are claimed (a lease) and committed before the SMTP conversation; while a slow
    server takes them, their rows are free to lock and no session idles in a transaction."""
    sink = SmtpSink(delay=0.5)
    sink.start()
    try:
        app = create_app(dataclasses.replace(config, smtp_url=sink.url))
        api = Api(await aiohttp_client(app))
        organizer, fan = await api.organizer(), await api.attendee()
        event = await api.event(organizer, total_capacity=10)
        ticket = await api.ticket_type(organizer, event["id"], quantity_available=10)
        for _ in range(3):
            await _book(api, fan.headers, _order(event["id"], ticket["id"], 1))
        for _ in range(200):
            if sink.receiving:
                break
            await asyncio.sleep(0.02)
        assert sink.receiving  # SMTP is in the middle of taking a mail
        conn = await asyncpg.connect(database_url)
        try:
            async with conn.transaction():
                locked = await conn.fetch("SELECT id FROM outbox FOR UPDATE NOWAIT")
            idle = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state LIKE 'idle in transaction%'"
            )
        finally:
            await conn.close()
        assert len(locked) == 3
        assert idle == 0
        await sink.wait_for(3, seconds=10)
        for _ in range(100):  # the round is settled once SMTP took its last mail
            rows = await _outbox(database_url, "SELECT sent_at, attempts FROM outbox")
            if all(r["sent_at"] is not None for r in rows):
                break
            await asyncio.sleep(0.05)
        assert all(r["sent_at"] is not None and r["attempts"] == 1 for r in rows)
    finally:
        sink.stop()


async def test_a_sender_stopped_mid_send_gives_its_claim_back(
    config: Config, database_url: str, aiohttp_client: AiohttpClient
) -> None:
    """One instance's sender claims the mails and is stopped while a hung SMTP server holds
    them: it gives its claim back (a sender that crashes instead leaves it to its lease), and
    another instance's sender delivers each of them once, without waiting out the lease."""
    hung, working = SmtpSink(delay=60), SmtpSink()
    hung.start()
    working.start()
    try:
        base = dataclasses.replace(config, outbox_lease_seconds=2)
        dying = create_app(dataclasses.replace(base, smtp_url=hung.url))
        api = Api(await aiohttp_client(dying))
        organizer, fan = await api.organizer(), await api.attendee()
        event = await api.event(organizer, total_capacity=10)
        ticket = await api.ticket_type(organizer, event["id"], quantity_available=10)
        for _ in range(2):
            await _book(api, fan.headers, _order(event["id"], ticket["id"], 1))
        for _ in range(200):
            if hung.receiving:
                break
            await asyncio.sleep(0.02)
        assert hung.receiving
        closing = time.monotonic()
        await api.client.close()  # the instance dies mid-send: its sender is cancelled
        assert time.monotonic() - closing < 5  # without waiting out the hung server (15 s)
        leased = await _outbox(database_url, "SELECT id FROM outbox WHERE next_attempt_at > now()")
        assert leased == []  # released: due again at once

        base = dataclasses.replace(base, outbox_lease_seconds=60)  # none waits for a lease now
        await aiohttp_client(create_app(dataclasses.replace(base, smtp_url=working.url)))
        mails = await working.wait_for(2, seconds=10)
        await asyncio.sleep(2.5)  # another lease's time: nothing is sent twice
        assert len(working.messages) == 2
        assert len({m["Message-ID"] for m in mails}) == 2
        assert hung.messages == []
    finally:
        hung.stop()
        working.stop()
