"""The migration runner on real PostgreSQL: once each, in order, safe when runners race."""

from __future__ import annotations

import asyncio
import dataclasses

import asyncpg
from pytest_aiohttp import AiohttpClient

from server.app import create_app
from server.config import Config
from server.db import Migration, apply_migrations, load_migrations
from tests.support.api import Api

# Not idempotent on purpose: applying either one twice would raise.
NON_IDEMPOTENT = [
    Migration(
        "0001",
        "create",
        "CREATE TABLE counter (n integer NOT NULL); INSERT INTO counter VALUES (0);",
    ),
    Migration("0002", "bump", "UPDATE counter SET n = n + 1; SELECT pg_sleep(0.2);"),
]


async def test_applies_every_migration_once_and_records_it(empty_database_url: str) -> None:
    conn = await asyncpg.connect(empty_database_url)
    try:
        versions = [m.version for m in load_migrations()]
        assert await apply_migrations(conn) == versions
        recorded = await conn.fetch("SELECT version, name FROM schema_migrations ORDER BY version")
        assert [r["version"] for r in recorded] == versions
        tables = {
            r["tablename"]
            for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        }
        assert {"users", "events", "ticket_types", "bookings", "booking_items"} <= tables
        assert await apply_migrations(conn) == []
    finally:
        await conn.close()


async def test_a_later_run_applies_only_new_migrations(empty_database_url: str) -> None:
    conn = await asyncpg.connect(empty_database_url)
    try:
        assert await apply_migrations(conn, NON_IDEMPOTENT[:1]) == ["0001"]
        assert await apply_migrations(conn, NON_IDEMPOTENT) == ["0002"]
        assert await conn.fetchval("SELECT n FROM counter") == 1
    finally:
        await conn.close()


async def test_concurrent_runners_apply_each_migration_once(empty_database_url: str) -> None:
    conns = [await asyncpg.connect(empty_database_url) for _ in range(4)]
    try:
        results = await asyncio.gather(*(apply_migrations(c, NON_IDEMPOTENT) for c in conns))
        applied = sorted(v for result in results for v in result)
        assert applied == ["0001", "0002"]
        assert await conns[0].fetchval("SELECT n FROM counter") == 1
        count = await conns[0].fetchval("SELECT count(*) FROM schema_migrations")
        assert count == 2
    finally:
        for conn in conns:
            await conn.close()


async def test_a_failing_migration_leaves_nothing_behind(empty_database_url: str) -> None:
    broken = [*NON_IDEMPOTENT[:1], Migration("0002", "broken", "CREATE TABLE t (x int); SELEC 1;")]
    conn = await asyncpg.connect(empty_database_url)
    try:
        try:
            await apply_migrations(conn, broken)
        except asyncpg.PostgresSyntaxError:
            pass
        else:
            raise AssertionError("the broken migration was accepted")
        assert await conn.fetchval("SELECT to_regclass('t')") is None
        versions = await conn.fetch("SELECT version FROM schema_migrations")
        assert [r["version"] for r in versions] == ["0001"]
    finally:
        await conn.close()


async def test_data_from_before_holds_keeps_working(
    empty_database_url: str, config: Config, aiohttp_client: AiohttpClient
) -> None:
    """Bookings made before holds existed stay confirmed (and count as confirmed when they
    were made); events get the defaults: 10-minute holds, no limits, always on sale, an empty
    waiting list with hour-long offers, and their start as their next boundary."""
    before_holds = [m for m in load_migrations() if m.version < "0007"]
    conn = await asyncpg.connect(empty_database_url)
    try:
        await apply_migrations(conn, before_holds)
        [owner] = await conn.fetch(
            "INSERT INTO users (username, email, password_hash, role) "
            "VALUES ('old', 'old@example.org', 'x', 'attendee') RETURNING id"
        )
        event_id = await conn.fetchval(
            "INSERT INTO events (organizer_id, name, location, start_time, total_capacity, tickets_sold) "
            "VALUES ($1, 'Old', 'Here', now() + interval '30 days', 10, 2) RETURNING id",
            owner["id"],
        )
        type_id = await conn.fetchval(
            "INSERT INTO ticket_types (event_id, name, price, quantity_available, quantity_sold) "
            "VALUES ($1, 'GA', 5, 8, 2) RETURNING id",
            event_id,
        )
        booking_id = await conn.fetchval(
            "INSERT INTO bookings (booking_reference, user_id, event_id, total_price) "
            "VALUES (gen_random_uuid(), $1, $2, 10) RETURNING id",
            owner["id"], event_id,
        )  # fmt: skip
        await conn.execute(
            "INSERT INTO booking_items (booking_id, ticket_type_id, quantity, price_at_booking) "
            "VALUES ($1, $2, 2, 5)",
            booking_id, type_id,
        )  # fmt: skip
        assert len(await apply_migrations(conn)) > 0
        booking = await conn.fetchrow(
            "SELECT status, expires_at, confirmed_at = created_at AS counted FROM bookings"
        )
        assert dict(booking) == {"status": "confirmed", "expires_at": None, "counted": True}
        assert await conn.fetchval("SELECT next_transition_at = start_time FROM events")
    finally:
        await conn.close()
    api = Api(
        await aiohttp_client(
            create_app(dataclasses.replace(config, database_url=empty_database_url))
        )
    )
    event = await (await api.client.get(f"/api/events/{event_id}/")).json()
    assert {k: event[k] for k in ("hold_seconds", "max_tickets_per_booking", "max_tickets_per_customer", "sales_start", "sales_end", "tickets_held", "tickets_sold", "tickets_available", "waitlist_offer_seconds")} == {
        "hold_seconds": 600, "max_tickets_per_booking": None, "max_tickets_per_customer": None,
        "sales_start": None, "sales_end": None, "tickets_held": 0, "tickets_sold": 2,
        "tickets_available": 8, "waitlist_offer_seconds": 3600,
    }  # fmt: skip
    types = await (await api.client.get(f"/api/events/{event_id}/ticket-types/")).json()
    assert {k: types["results"][0][k] for k in ("quantity_held", "on_sale", "waiting")} == {
        "quantity_held": 0,
        "on_sale": True,
        "waiting": 0,
    }
