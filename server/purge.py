"""The purge job: expired idempotency keys and old sent mail are deleted in small batches,
by one instance at a time (a session advisory lock; the others skip that round)."""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from server.db import DATABASE_ERRORS, Queries

__all__ = ["PURGE_LOCK_KEY", "QUERIES", "Purger"]

log = logging.getLogger("stampede.purge")

QUERIES = ("purge_idempotency_keys", "purge_sent_mail", "purge_done_webhooks")
# "purge" in ASCII, as a bigint: shared by every Stampede instance.
PURGE_LOCK_KEY = 0x7075726765


class Purger:
    def __init__(
        self,
        pool: asyncpg.Pool,
        queries: Queries,
        *,
        interval: float,
        retention_days: int,
        batch: int,
    ) -> None:
        self._pool = pool
        self._q = queries
        self._interval = interval
        self._retention_days = retention_days
        self._batch = batch

    async def run(self) -> None:
        """Purge every ``interval`` seconds until cancelled; database errors wait a round."""
        while True:
            try:
                await self.purge()
            except DATABASE_ERRORS as exc:
                log.warning("purge: cannot reach the database (%r); next round later", exc)
            await asyncio.sleep(self._interval)

    async def purge(self) -> int | None:
        """One round: rows deleted, or None when another instance is purging."""
        async with self._pool.acquire() as conn:
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", PURGE_LOCK_KEY):
                return None
            try:
                deleted = await self._in_batches(conn, "purge_idempotency_keys")
                deleted += await self._in_batches(conn, "purge_sent_mail", self._retention_days)
                deleted += await self._in_batches(conn, "purge_done_webhooks", self._retention_days)
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", PURGE_LOCK_KEY)
        if deleted:
            log.info("purge: deleted %d expired idempotency keys and old sent mails", deleted)
        return deleted

    async def _in_batches(self, conn: asyncpg.Connection, query: str, *args: object) -> int:
        """Delete until a batch comes back short; each batch commits on its own, so no
        statement holds many row locks or runs long."""
        total = 0
        while True:
            status = await conn.execute(self._q[query], self._batch, *args)
            count = int(status.split()[-1])  # "DELETE n"
            total += count
            if count < self._batch:
                return total
