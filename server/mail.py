"""Outgoing mail through the outbox: written in the caller's transaction, delivered after commit.

The sender claims due rows with ``FOR UPDATE SKIP LOCKED`` (so instances share the work),
delivers them over SMTP when ``SMTP_URL`` is set (else to the log), and retries failures with
exponential back-off. A mail is marked sent only after the SMTP server accepted it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import aiosmtplib
import asyncpg

from server.db import Queries

__all__ = ["Mailer", "SmtpTarget"]

log = logging.getLogger("stampede.mail")

BATCH = 20
POLL_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 300
SEND_TIMEOUT = 15.0
QUERIES = ("enqueue_mail", "claim_due_mail", "mark_mail_sent", "mark_mail_failed")


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    hostname: str
    port: int
    use_tls: bool
    username: str | None
    password: str | None

    @classmethod
    def from_url(cls, url: str) -> SmtpTarget:
        parts = urlsplit(url)
        use_tls = parts.scheme == "smtps"
        return cls(
            hostname=parts.hostname or "localhost",
            port=parts.port or (465 if use_tls else 25),
            use_tls=use_tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


class Mailer:
    """Queues mail in the outbox and delivers it in the background."""

    def __init__(
        self, pool: asyncpg.Pool, queries: Queries, sender: str, smtp: SmtpTarget | None
    ) -> None:
        self._pool = pool
        self._queries = queries
        self._sender = sender
        self._smtp = smtp
        self._wake = asyncio.Event()

    async def enqueue(
        self, conn: asyncpg.Connection, recipient: str, subject: str, body: str
    ) -> None:
        """Add a mail inside the caller's transaction; call ``wake()`` after it commits."""
        await conn.execute(self._queries["enqueue_mail"], recipient, subject, body)

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Deliver due mail until cancelled."""
        while True:
            try:
                delivered = await self.deliver_due()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("outbox: cannot reach the database (%r); retrying", exc)
                delivered = 0
            if delivered == BATCH:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
            self._wake.clear()

    async def deliver_due(self) -> int:
        """Try each due mail once; return how many were tried."""
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(self._queries["claim_due_mail"], BATCH)
            for row in rows:
                try:
                    via = await self._deliver(row["recipient"], row["subject"], row["body"])
                except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                    delay = min(2 ** row["attempts"], MAX_BACKOFF_SECONDS)
                    log.warning(
                        "outbox: mail %s failed (%r); next try in %s s", row["id"], exc, delay
                    )
                    await conn.execute(
                        self._queries["mark_mail_failed"], row["id"], repr(exc), delay
                    )
                else:
                    await conn.execute(self._queries["mark_mail_sent"], row["id"], via)
        return len(rows)

    async def _deliver(self, recipient: str, subject: str, body: str) -> str:
        if self._smtp is None:
            log.info("mail to %s: %s\n%s", recipient, subject, body)
            return "log"
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = recipient
        message["Subject"] = subject
        message.set_content(body)
        await aiosmtplib.send(
            message,
            hostname=self._smtp.hostname,
            port=self._smtp.port,
            use_tls=self._smtp.use_tls,
            username=self._smtp.username,
            password=self._smtp.password,
            timeout=SEND_TIMEOUT,
        )
        return "smtp"
