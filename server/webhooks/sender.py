"""The webhook sender: on every instance, posts due deliveries, signed, and settles each round.

As the mail sender: due deliveries are claimed for a lease (``FOR UPDATE SKIP LOCKED``, in a
transaction that commits at once, so instances share the work), posted with no transaction
open, and their results written in one statement. A 2xx delivers; anything else (a 3xx too:
redirects are not followed), a timeout or a refused connection is retried after a back-off
that doubles from 1 s up to 10 minutes, until the delivery's retry window is over. Posts run
side by side (at most ``concurrency``) with a timeout each, and nothing on the booking path
waits for them: a slow or dead endpoint only delays its own deliveries.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import time
from collections.abc import Callable
from typing import NamedTuple

import aiohttp
import asyncpg
import orjson

from server.db import DATABASE_ERRORS, Queries
from server.tasks import finish
from server.webhooks.urls import GuardedResolver, refused_literal

__all__ = ["QUERIES", "WebhookSender", "signature"]

log = logging.getLogger("stampede.webhooks")

QUERIES = ("claim_due_webhooks", "settle_webhooks", "release_webhooks")
BATCH = 200
POLL_SECONDS = 1.0
REST_SECONDS = 0.25
MAX_BACKOFF = 600.0
USER_AGENT = "Stampede-Webhooks/1"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Stampede-Signature`` header: ``t=<unix seconds>,v1=<hex HMAC-SHA256>`` of
    ``"<t>.<body>"`` under the webhook's secret (as Stripe signs)."""
    signed = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class Attempt(NamedTuple):
    """One post's result, as ``settle_webhooks`` takes it (composite ``webhook_result``)."""

    id: int
    delivered: bool
    status: int | None
    error: str | None
    delay: float


def backoff(attempts: int) -> float:
    """The wait after the ``attempts``-th failure: 1 s, 2 s, 4 s, … at most 10 minutes."""
    return min(2.0 ** max(attempts - 1, 0), MAX_BACKOFF)


class WebhookSender:
    def __init__(
        self,
        pool: asyncpg.Pool,
        queries: Queries,
        allow_private: bool = False,
        timeout: float = 10.0,
        retry_hours: int = 72,
        concurrency: int = 32,
        on_attempt: Callable[[bool], None] | None = None,
    ) -> None:
        self._pool = pool
        self._q = queries
        self._allow_private = allow_private
        self._timeout = timeout
        self._retry_hours = retry_hours
        self._slots = asyncio.Semaphore(concurrency)
        self._on_attempt = on_attempt
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Deliver due webhooks until cancelled."""
        resolver = None if self._allow_private else GuardedResolver()
        connector = aiohttp.TCPConnector(resolver=resolver, limit=0, force_close=True)
        timeout = aiohttp.ClientTimeout(total=self._timeout)
        async with aiohttp.ClientSession(
            connector=connector, timeout=timeout, headers={"User-Agent": USER_AGENT}
        ) as session:
            while True:
                try:
                    posted = await self.deliver_due(session)
                except DATABASE_ERRORS as exc:
                    log.warning("webhooks: cannot reach the database (%r); retrying", exc)
                    posted = 0
                if posted == BATCH:
                    continue
                # Rounds at most every REST_SECONDS, as the mail sender's: every commit wakes
                # it, and a claim per commit would add a statement to every batch.
                await asyncio.sleep(REST_SECONDS)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(POLL_SECONDS - REST_SECONDS):
                        await self._wake.wait()
                self._wake.clear()

    async def deliver_due(self, session: aiohttp.ClientSession) -> int:
        """Post each due delivery once; return how many were posted. Stopped meanwhile, the
        claim and the settling still run to their end, and what was not posted is released:
        no delivery waits out a lease because an instance stopped."""
        lease = self._timeout + 10  # longer than a round can take
        rows, stopping = await finish(self._pool.fetch(self._q["claim_due_webhooks"], BATCH, lease))
        if stopping:
            await self._release(rows)
            raise asyncio.CancelledError
        if not rows:
            return 0
        try:
            attempts = await asyncio.gather(*(self._post(session, row) for row in rows))
        except asyncio.CancelledError:
            await self._release(rows)
            raise
        settle = self._pool.execute(self._q["settle_webhooks"], attempts, self._retry_hours)
        if (await finish(settle)).stopping:
            raise asyncio.CancelledError
        return len(rows)

    async def _release(self, rows: list[asyncpg.Record]) -> None:
        """Stopping: the claimed deliveries are due again at once, for any instance."""
        if rows:
            ids = [row["id"] for row in rows]
            await finish(self._pool.execute(self._q["release_webhooks"], ids))

    async def _post(self, session: aiohttp.ClientSession, row: asyncpg.Record) -> Attempt:
        body = orjson.dumps(
            {
                "id": str(row["delivery_id"]),
                "type": row["type"],
                "created_at": row["created_at"].isoformat(),
                "data": orjson.Fragment(row["data"]),
            }
        )
        headers = {
            "Content-Type": "application/json",
            "Stampede-Signature": signature(row["secret"], int(time.time()), body),
            "Stampede-Delivery": str(row["delivery_id"]),
        }
        status: int | None = None
        error: str | None = None
        async with self._slots:
            try:
                if not self._allow_private and refused_literal(row["url"]):
                    raise OSError("the URL points to a non-public address")
                async with session.post(
                    row["url"], data=body, headers=headers, allow_redirects=False
                ) as response:
                    status = response.status
            except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
                error = repr(exc)[:500]
        delivered = status is not None and 200 <= status < 300
        if not delivered and error is None:
            error = f"HTTP {status}"
        if self._on_attempt is not None:
            self._on_attempt(delivered)
        delay = 0.0 if delivered else backoff(row["attempts"] + 1)
        return Attempt(row["id"], delivered, status, error, delay)
