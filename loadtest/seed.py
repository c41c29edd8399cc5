"""Accounts the benchmarks write straight into their database: an organizer and attendees, all
with one password, and access tokens signed with the benchmark servers' ``SECRET``."""

from __future__ import annotations

import functools
import time

import asyncpg

from server.passwords import _hash_sync
from server.tokens import issue_token

__all__ = ["PASSWORD", "SECRET", "access_token", "attendees", "new_tag", "organizer"]

SECRET = "bench-secret-" + "x" * 40  # the benchmark servers' JWT_SECRET
PASSWORD = "bench-Password-1"


@functools.cache
def _password_hash() -> str:
    return _hash_sync(PASSWORD)  # hashing is slow on purpose: once per run


def new_tag() -> str:
    """What makes this run's account names unique in a database that outlives it."""
    return str(time.monotonic_ns())


async def organizer(conn: asyncpg.Connection, tag: str) -> int:
    """An organizer named ``org<tag>``; its id."""
    user_id = await conn.fetchval(
        "INSERT INTO users (username, email, password_hash, role) "
        "VALUES ($1, $2, $3, 'organizer') RETURNING id",
        f"org{tag}", f"org{tag}@example.org", _password_hash(),
    )  # fmt: skip
    return int(user_id)


async def attendees(
    conn: asyncpg.Connection, tag: str, count: int, prefix: str = "fan"
) -> list[int]:
    """``count`` attendees named ``<prefix><tag>-<n>``; their ids, in that order."""
    rows = await conn.fetch(
        "INSERT INTO users (username, email, password_hash, role) "
        "SELECT $1 || n, $1 || n || '@example.org', $2, 'attendee' "
        "FROM generate_series(1, $3) AS n ORDER BY n RETURNING id",
        f"{prefix}{tag}-", _password_hash(), count,
    )  # fmt: skip
    return [row["id"] for row in rows]


def access_token(user_id: int, seconds: int = 3600) -> str:
    """An access token for ``user_id``, good for ``seconds``."""
    return issue_token(SECRET, user_id, "access", seconds)
