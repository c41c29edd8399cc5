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
import functools
import hashlib
import hmac
import logging
import time
from collections.abc import Callable
from typing import NamedTuple

import aiohttp
import asyncpg
import orjson

from server.db import Queries
from server.outbox import leased_round, run_rounds
from server.webhooks.urls import GuardedResolver, refused_literal

__all__ = ["QUERIES", "WebhookSender", "signature"]

log = logging.getLogger("stampede.webhooks")

QUERIES = ("claim_due_webhooks", "settle_webhooks", "release_webhooks")
BATCH = 200
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
            await run_rounds(
                functools.partial(self.deliver_due, session), BATCH, self._wake, "webhooks"
            )

    async def deliver_due(self, session: aiohttp.ClientSession) -> int:
        """Post each due delivery once (a round: ``server/outbox.py``); return how many."""
        lease = self._timeout + 10  # longer than a round can take
        claim = self._pool.fetch(self._q["claim_due_webhooks"], BATCH, lease)

        async def post_all(rows: list[asyncpg.Record]) -> list[Attempt]:
            return await asyncio.gather(*(self._post(session, row) for row in rows))

        return await leased_round(claim, post_all, self._settle, self._release)

    async def _settle(self, rows: list[asyncpg.Record], attempts: list[Attempt]) -> None:
        await self._pool.execute(self._q["settle_webhooks"], attempts, self._retry_hours)

    async def _release(self, rows: list[asyncpg.Record]) -> None:
        """Stopping: the claimed deliveries are due again at once, for any instance."""
        await self._pool.execute(self._q["release_webhooks"], [row["id"] for row in rows])

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
