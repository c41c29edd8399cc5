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
from decimal import Decimal
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import aiosmtplib
import asyncpg

from server.db import DATABASE_ERRORS, Queries

__all__ = ["Mailer", "SmtpTarget", "booking_cancelled_mail", "booking_confirmed_mail"]

log = logging.getLogger("stampede.mail")

BATCH = 500
POLL_SECONDS = 1.0
REST_SECONDS = 0.25
SEND_TIMEOUT = 15.0
REFUSED = (aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPResponseException)
QUERIES = ("enqueue_mail", "claim_due_mail", "mark_mail_sent", "mark_mail_failed")


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    hostname: str
    port: int
    use_tls: bool
    username: str | None
    password: str | None

    def client(self) -> aiosmtplib.SMTP:
        return aiosmtplib.SMTP(
            hostname=self.hostname,
            port=self.port,
            use_tls=self.use_tls,
            username=self.username,
            password=self.password,
            timeout=SEND_TIMEOUT,
        )

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
        self,
        pool: asyncpg.Pool,
        queries: Queries,
        sender: str,
        smtp: SmtpTarget | None,
        max_backoff: int = 300,
    ) -> None:
        self._pool = pool
        self._max_backoff = max_backoff
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
            except DATABASE_ERRORS as exc:
                log.warning("outbox: cannot reach the database (%r); retrying", exc)
                delivered = 0
            if delivered == BATCH:
                continue
            # Rounds at most every REST_SECONDS: under a booking storm every commit wakes the
            # sender, and a round per commit would double the database's transactions.
            await asyncio.sleep(REST_SECONDS)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS - REST_SECONDS)
            self._wake.clear()

    async def deliver_due(self) -> int:
        """Try each due mail once; return how many were tried."""
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(self._queries["claim_due_mail"], BATCH)
            if not rows:
                return 0
            sent, failed, via = await self._deliver_all(rows)
            if sent:
                await conn.execute(self._queries["mark_mail_sent"], sent, via)
            if failed:
                log.warning(
                    "outbox: %d mail(s) not sent (%s); will retry", len(failed), failed[0][2]
                )
            for mail_id, attempts, error in failed:
                delay = min(2**attempts, self._max_backoff)
                await conn.execute(self._queries["mark_mail_failed"], mail_id, error, delay)
        return len(rows)

    async def _deliver_all(
        self, rows: list[asyncpg.Record]
    ) -> tuple[list[int], list[tuple[int, int, str]], str]:
        """(ids accepted, (id, attempts, error) of each failure, how they went)."""
        if self._smtp is None:
            for row in rows:  # SMTP_URL is unset: the log and the outbox table are the mailbox
                log.info("mail to %s: %s\n%s", row["recipient"], row["subject"], row["body"])
            return [row["id"] for row in rows], [], "log"
        sent: list[int] = []
        failed: list[tuple[int, int, str]] = []
        try:
            async with self._smtp.client() as client:  # one connection for the whole batch
                for row in rows:
                    try:
                        await client.send_message(self._message(row))
                    except REFUSED as exc:  # this mail only; the connection goes on
                        failed.append((row["id"], row["attempts"], repr(exc)))
                    else:
                        sent.append(row["id"])
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            done = set(sent) | {mail_id for mail_id, _, _ in failed}
            failed += [(r["id"], r["attempts"], repr(exc)) for r in rows if r["id"] not in done]
        return sent, failed, "smtp"

    def _message(self, row: asyncpg.Record) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = row["recipient"]
        message["Subject"] = row["subject"]
        # One id per outbox row: should a mail ever go out twice (SMTP accepted it, then the
        # database went away before it was marked sent), mail clients show it once.
        domain = self._sender.rpartition("@")[2] or "stampede.local"
        message["Message-ID"] = f"<outbox-{row['id']}@{domain}>"
        message.set_content(row["body"])
        return message


def booking_confirmed_mail(
    event_name: str, reference: str, lines: list[tuple[str, int, Decimal]], total: Decimal
) -> tuple[str, str]:
    """Subject and body of the mail sent with every new booking."""
    tickets = "\n".join(f"  {quantity} x {name} at {price:.2f}" for name, quantity, price in lines)
    body = (
        f"Your booking for {event_name} is confirmed.\n\n"
        f"Reference: {reference}\n{tickets}\nTotal: {total:.2f}\n"
    )
    return f"Booking confirmed: {event_name}", body


def booking_cancelled_mail(event_name: str, reference: str) -> tuple[str, str]:
    """Subject and body of the mail sent when a booking is cancelled (by its owner or with
    its event); ``reference`` may be the placeholder ``{reference}``, filled in by SQL."""
    body = (
        f"Your booking {reference} for {event_name} has been cancelled and its tickets released.\n"
    )
    return f"Booking cancelled: {event_name}", body
