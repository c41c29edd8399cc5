"""The purge job: expired idempotency keys and old sent mail go, in small batches, by one
instance at a time; everything still in use stays."""

from __future__ import annotations

import asyncio
import dataclasses

import asyncpg
from pytest_aiohttp import AiohttpClient

from server.app import create_app
from server.config import Config
from server.purge import PURGE_LOCK_KEY
from tests.support.api import Api

SEED = """
INSERT INTO idempotency_keys (user_id, key, request_hash, created_at)
SELECT $1, 'key-' || n, '\\x00', CASE WHEN n <= 2500 THEN now() - interval '25 hours'
                                      ELSE now() - interval '23 hours' END
FROM generate_series(1, 2600) AS n;
INSERT INTO outbox (recipient, subject, body, created_at, sent_at, next_attempt_at)
SELECT 'a@example.org', 'old', '', now() - interval '9 days',
       CASE WHEN n <= 2200 THEN now() - interval '8 days' END,
       now() + interval '1 day'  -- the last 100 never went out; their next try is tomorrow
FROM generate_series(1, 2300) AS n;
INSERT INTO outbox (recipient, subject, body, sent_at)
SELECT 'a@example.org', 'recent', '', now() - interval '6 days' FROM generate_series(1, 10);
"""


async def _counts(conn: asyncpg.Connection) -> tuple[int, int, int, int]:
    row = await conn.fetchrow(
        "SELECT (SELECT count(*) FROM idempotency_keys) AS keys,"
        " (SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL AND subject = 'old') AS old_sent,"
        " (SELECT count(*) FROM outbox WHERE sent_at IS NULL) AS unsent,"
        " (SELECT count(*) FROM outbox WHERE subject = 'recent') AS recent"
    )
    return row["keys"], row["old_sent"], row["unsent"], row["recent"]


async def test_expired_keys_and_old_sent_mail_are_purged_by_one_instance(
    config: Config, database_url: str, aiohttp_client: AiohttpClient
) -> None:
    settings = dataclasses.replace(
        config, purge_interval_seconds=0.2, outbox_retention_days=7, purge_batch=500
    )
    setup = Api(await aiohttp_client(create_app(settings)))
    owner = await setup.organizer()
    conn = await asyncpg.connect(database_url)
    lock = await asyncpg.connect(database_url)
    try:
        await lock.execute("SELECT pg_advisory_lock($1)", PURGE_LOCK_KEY)  # "another instance"
        await conn.execute(SEED.replace("$1", str(owner.id)))
        await asyncio.sleep(0.8)  # several rounds: all skipped while another purger runs
        assert await _counts(conn) == (2600, 2200, 100, 10)

        await lock.execute("SELECT pg_advisory_unlock($1)", PURGE_LOCK_KEY)
        for _ in range(100):
            if await _counts(conn) == (100, 0, 100, 10):
                break
            await asyncio.sleep(0.1)
        # Keys younger than 24 h, mail never sent and mail sent within the retention stay.
        assert await _counts(conn) == (100, 0, 100, 10)
    finally:
        await lock.close()
        await conn.close()
