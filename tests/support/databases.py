"""Test databases: one PostgreSQL server per run, a migrated template, a fresh copy per test."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import asyncpg

TEMPLATE = "stampede_test_template"
TABLES = (
    "users", "events", "ticket_types", "bookings", "booking_items", "password_reset_tokens",
    "outbox", "idempotency_keys", "waitlist_entries",
)  # fmt: skip


def with_database(dsn: str, name: str) -> str:
    """The same server and credentials, another database."""
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + name))


def via_tcp(dsn: str, host: str, port: int) -> str:
    """The same credentials and database, reached through host:port (e.g. a proxy)."""
    parts = urlsplit(dsn)
    query = {k: v for k, v in parse_qs(parts.query).items() if k != "host"}
    userinfo = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit(
        parts._replace(netloc=f"{userinfo}{host}:{port}", query=urlencode(query, doseq=True))
    )


async def create_database(admin_dsn: str, *, template: str | None = None) -> str:
    """Create a uniquely named database (from ``template`` if given) and return its DSN."""
    name = f"stampede_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(admin_dsn)
    try:
        clause = f" TEMPLATE {template}" if template else ""
        await conn.execute(f'CREATE DATABASE "{name}"{clause}')
    finally:
        await conn.close()
    return with_database(admin_dsn, name)


async def drop_database(admin_dsn: str, dsn: str) -> None:
    name = urlsplit(dsn).path.lstrip("/")
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def table_digest(conn: asyncpg.Connection) -> dict[str, str]:
    """A digest of every row of every table: equal digests, unchanged data."""
    return {
        table: await conn.fetchval(
            f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table} t"
        )
        for table in TABLES
    }
