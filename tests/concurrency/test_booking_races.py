"""Real parallel HTTP clients against real PostgreSQL: never oversold, cancels counted once."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import time
from collections import Counter
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from server.config import Config
from tests.support.api import Api
from tests.support.crowd import Member, check_invariants, make_users
from tests.support.instances import two_instances


async def _book(
    client: TestClient[Any, Any],
    member: Member,
    event_id: int,
    items: list[tuple[int, int]],
    **headers: str,
) -> tuple[int, Any]:
    body = {"event_id": event_id, "items": [{"ticket_type_id": t, "quantity": q} for t, q in items]}
    response = await client.post("/api/bookings/", json=body, headers={**member.headers, **headers})
    return response.status, await response.json()


async def _hot_event(api: Api, capacity: int, **stocks: int) -> tuple[int, dict[str, int]]:
    owner = await api.organizer()
    event = await api.event(owner, total_capacity=capacity)
    ids = {}
    for name, stock in stocks.items():
        ids[name] = (
            await api.ticket_type(owner, event["id"], name=name, quantity_available=stock)
        )["id"]
    return event["id"], ids


async def test_200_attendees_race_for_100_tickets(
    api: Api, config: Config, database_url: str
) -> None:
    event_id, types = await _hot_event(api, 1000, GA=100)
    crowd = await make_users(database_url, config.jwt_secret or "", 200)
    results = await asyncio.gather(
        *(_book(api.client, m, event_id, [(types["GA"], 1)]) for m in crowd)
    )
    statuses = Counter(status for status, _ in results)
    codes = Counter(body.get("code") for status, body in results if status == 400)
    assert statuses == {201: 100, 400: 100}
    assert codes == {"sold_out": 100}
    assert all(
        body["detail"] == "Not enough tickets for: GA." for status, body in results if status == 400
    )
    sold = await check_invariants(database_url, event_id)
    assert sold == {"event": 100, "GA": 100}


async def test_shared_capacity_holds_across_types(
    api: Api, config: Config, database_url: str
) -> None:
    event_id, types = await _hot_event(api, 100, A=60, B=60)
    crowd = await make_users(database_url, config.jwt_secret or "", 300)
    rng = random.Random(7)
    orders = [
        rng.choice(
            [
                [(types["A"], 1)],
                [(types["B"], 1)],
                [(types["A"], 1), (types["B"], 2)],
                [(types["B"], 1), (types["A"], 1)],
            ]
        )
        for _ in crowd
    ]
    results = await asyncio.gather(
        *(_book(api.client, m, event_id, order) for m, order in zip(crowd, orders, strict=True))
    )
    booked = sum(
        sum(q for _, q in order)
        for (status, _), order in zip(results, orders, strict=True)
        if status == 201
    )
    sold = await check_invariants(database_url, event_id)
    assert sold["event"] == booked
    assert 95 <= sold["event"] <= 100  # full, up to the orders that no longer fit
    assert sold["A"] <= 60
    assert sold["B"] <= 60
    assert {body["code"] for status, body in results if status == 400} <= {
        "capacity_exceeded",
        "sold_out",
    }


@pytest.mark.parametrize("batch_max", [256, 1])
async def test_two_instances_never_oversell(
    config: Config, database_url: str, aiohttp_client: AiohttpClient, batch_max: int
) -> None:
    settings = dataclasses.replace(config, booking_batch_max=batch_max)
    first, second = await two_instances(aiohttp_client, settings)
    event_id, types = await _hot_event(Api(first), 1000, GA=150)
    crowd = await make_users(database_url, config.jwt_secret or "", 300)
    clients = [first, second]
    results = await asyncio.gather(
        *(_book(clients[i % 2], m, event_id, [(types["GA"], 1)]) for i, m in enumerate(crowd))
    )
    assert Counter(status for status, _ in results) == {201: 150, 400: 150}
    assert (await check_invariants(database_url, event_id))["GA"] == 150


async def test_50_concurrent_cancels_give_tickets_back_once(
    api: Api, config: Config, database_url: str
) -> None:
    event_id, types = await _hot_event(api, 100, GA=10)
    [member] = await make_users(database_url, config.jwt_secret or "", 1)
    status, booking = await _book(api.client, member, event_id, [(types["GA"], 3)])
    assert status == 201
    path = f"/api/bookings/{booking['booking_reference']}/cancel"
    responses = await asyncio.gather(
        *(api.client.put(path, headers=member.headers) for _ in range(50))
    )
    assert Counter(r.status for r in responses) == {200: 1, 400: 49}
    sold = await check_invariants(database_url, event_id)
    assert sold == {"event": 0, "GA": 0}


async def test_book_and_cancel_churn_keeps_counters_true(
    api: Api, config: Config, database_url: str
) -> None:
    event_id, types = await _hot_event(api, 40, A=25, B=25)
    crowd = await make_users(database_url, config.jwt_secret or "", 40)
    deadline = time.monotonic() + 4

    async def churn(member: Member, seed: int) -> int:
        rng, done = random.Random(seed), 0
        while time.monotonic() < deadline:
            status, booking = await _book(
                api.client,
                member,
                event_id,
                [(rng.choice(list(types.values())), rng.randint(1, 3))],
            )
            if status == 201 and rng.random() < 0.7:
                response = await api.client.patch(
                    f"/api/bookings/{booking['booking_reference']}/cancel", headers=member.headers
                )
                assert response.status == 200
            done += 1
        return done

    rounds = await asyncio.gather(*(churn(m, i) for i, m in enumerate(crowd)))
    assert sum(rounds) > 200
    await check_invariants(database_url, event_id)


async def test_one_idempotency_key_racing_20_times_books_once(
    api: Api, config: Config, database_url: str
) -> None:
    event_id, types = await _hot_event(api, 100, GA=50)
    [member] = await make_users(database_url, config.jwt_secret or "", 1)
    results = await asyncio.gather(
        *(
            _book(api.client, member, event_id, [(types["GA"], 2)], **{"Idempotency-Key": "once"})
            for _ in range(20)
        )
    )
    assert {status for status, _ in results} == {201}
    assert len({str(sorted(body.items())) for _, body in results}) == 1
    assert (await check_invariants(database_url, event_id))["GA"] == 2


async def test_killed_connections_mid_batch_leave_no_doubt(
    api: Api, config: Config, database_url: str
) -> None:
    event_id, types = await _hot_event(api, 10_000, GA=10_000)
    crowd = await make_users(database_url, config.jwt_secret or "", 400)
    admin = await asyncpg.connect(database_url)

    async def killer() -> int:
        kills = 0
        for _ in range(6):
            await asyncio.sleep(0.05)
            kills += await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            )
        return kills

    try:
        results, kills = await asyncio.gather(
            asyncio.gather(*(_book(api.client, m, event_id, [(types["GA"], 1)]) for m in crowd)),
            killer(),
        )
        assert kills > 0
        statuses = Counter(status for status, _ in results)
        assert set(statuses) <= {201, 503}, statuses
        answered = {body["booking_reference"] for status, body in results if status == 201}
        stored = {
            str(r["booking_reference"])
            for r in await admin.fetch(
                "SELECT booking_reference FROM bookings WHERE event_id = $1", event_id
            )
        }
        assert stored == answered
    finally:
        await admin.close()
    assert (await check_invariants(database_url, event_id))["GA"] == len(answered)


async def test_a_ticket_type_added_while_a_batch_waits_for_the_event_is_booked(
    api: Api, config: Config, database_url: str
) -> None:
    """The batch's lock statement waits for the organizer's transaction that adds a type; the
    new type is judged as committed (booked), not by the statement's older snapshot."""
    event_id, _ = await _hot_event(api, 100, GA=10)
    [member] = await make_users(database_url, config.jwt_secret or "", 1)
    organizer = await asyncpg.connect(database_url)
    watcher = await asyncpg.connect(database_url)
    try:
        adding = organizer.transaction()
        await adding.start()  # as the ticket-type route does: the event's lock, then the insert
        await organizer.execute("SELECT 1 FROM events WHERE id = $1 FOR UPDATE", event_id)
        late = await organizer.fetchval(
            "INSERT INTO ticket_types (event_id, name, price, quantity_available) "
            "VALUES ($1, 'Late', 10, 5) RETURNING id",
            event_id,
        )
        booking = asyncio.create_task(_book(api.client, member, event_id, [(late, 2)]))
        for _ in range(100):  # until the batch's statement waits for the event's lock
            waiting = await watcher.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            )
            if waiting:
                break
            await asyncio.sleep(0.02)
        assert waiting
        await adding.commit()
        status, body = await booking
    finally:
        await organizer.close()
        await watcher.close()
    assert status == 201, body
    assert (await check_invariants(database_url, event_id))["Late"] == 2
