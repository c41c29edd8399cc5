"""The migration runner on real PostgreSQL: once each, in order, safe when runners race."""

from __future__ import annotations

import asyncio

import asyncpg

from server.db import Migration, apply_migrations, load_migrations

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
