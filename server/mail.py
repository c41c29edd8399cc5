"""Outgoing mail through the outbox: written in the caller's transaction, delivered after commit.

The sender claims due rows for a lease (``FOR UPDATE SKIP LOCKED``, so instances share the
work, in a transaction that commits at once), delivers them over SMTP when ``SMTP_URL`` is set
(else to the log) with no transaction open, then records the round's results in one statement;
failures are retried with exponential back-off. A mail is marked sent only after the SMTP
server accepted it; one whose sender died mid-send is due again once its lease is over.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import unquote, urlsplit

import aiosmtplib
import asyncpg

from server.booking.outcomes import Booked, Cancelled, Closed, Confirmed, Offered, Outcome, Settled
from server.config import Config
from server.db import Queries
from server.mime import compose
from server.outbox import leased_round, run_rounds

__all__ = [
    "Mailer",
    "Notices",
    "SmtpTarget",
    "booking_cancelled_mail",
    "booking_confirmed_mail",
    "waitlist_closed_mail",
]

log = logging.getLogger("stampede.mail")

BATCH = 500
CONNECTIONS = 4  # SMTP connections a round uses at once
# A round's outcome: ids accepted, (id, attempts, error) of each failure, how they went.
Delivered = tuple[list[int], list[tuple[int, int, str]], str]
SEND_TIMEOUT = 15.0
REFUSED = (aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPResponseException)
QUERIES = ("enqueue_mail", "claim_due_mail", "settle_mail", "release_mail")


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
        lease_seconds: float = 300,
    ) -> None:
        """``lease_seconds``: how long a claimed mail is this sender's to deliver; past it,
        another sender may take it (longer than a round of BATCH mails can take)."""
        self._pool = pool
        self._max_backoff = max_backoff
        self._lease = lease_seconds
        self._queries = queries
        self._sender = sender
        self._smtp = smtp
        self._wake = asyncio.Event()

    async def enqueue(
        self, conn: asyncpg.Connection, recipient: str, subject: str, body: str
    ) -> None:
        """Add a mail inside the caller's transaction; call ``wake()`` after it commits."""
        await conn.execute(self._queries["enqueue_mail"], recipient, subject, body)

    @classmethod
    def for_config(cls, pool: asyncpg.Pool, queries: Queries, config: Config) -> Mailer:
        smtp = SmtpTarget.from_url(config.smtp_url) if config.smtp_url else None
        return cls(
            pool, queries, config.mail_from, smtp, config.mail_retry_max_seconds,
            config.outbox_lease_seconds,
        )  # fmt: skip

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Deliver due mail until cancelled."""
        await run_rounds(self.deliver_due, BATCH, self._wake, "outbox")

    async def deliver_due(self) -> int:
        """Try each due mail once (a round: ``server/outbox.py``); return how many."""
        claim = self._pool.fetch(self._queries["claim_due_mail"], BATCH, self._lease)
        return await leased_round(claim, self._deliver_all, self._settle, self._release)

    async def _settle(self, rows: list[asyncpg.Record], result: Delivered) -> None:
        sent, failed, via = result
        if failed:
            log.warning("outbox: %d mail(s) not sent (%s); will retry", len(failed), failed[0][2])
        ids = [*sent, *(mail_id for mail_id, _, _ in failed)]
        errors = [None] * len(sent) + [error for _, _, error in failed]
        delays = [0.0] * len(sent) + [
            float(min(2**attempts, self._max_backoff)) for _, attempts, _ in failed
        ]
        await self._pool.execute(self._queries["settle_mail"], ids, errors, delays, via)

    async def _release(self, rows: list[asyncpg.Record]) -> None:
        """Stopping: the claimed mails are due again at once rather than after the lease (one
        that SMTP took meanwhile goes out twice, with the same Message-ID)."""
        ids = [row["id"] for row in rows]
        await self._pool.execute(self._queries["release_mail"], ids)

    async def _deliver_all(self, rows: list[asyncpg.Record]) -> Delivered:
        """(ids accepted, (id, attempts, error) of each failure, how they went), in id order."""
        rows = sorted(rows, key=lambda row: row["id"])
        if self._smtp is None:
            for row in rows:  # SMTP_URL is unset: the log and the outbox table are the mailbox
                log.info("mail to %s: %s\n%s", row["recipient"], row["subject"], row["body"])
            return [row["id"] for row in rows], [], "log"
        # Several connections side by side: each SMTP command waits for its reply, so one
        # connection delivers a few hundred mails a second whatever the server could take.
        shares = [rows[i::CONNECTIONS] for i in range(min(CONNECTIONS, len(rows)))]
        results = await asyncio.gather(*(self._over_one_connection(share) for share in shares))
        sent = [mail_id for done, _ in results for mail_id in done]
        failed = [failure for _, failures in results for failure in failures]
        return sent, failed, "smtp"

    async def _over_one_connection(
        self, rows: list[asyncpg.Record]
    ) -> tuple[list[int], list[tuple[int, int, str]]]:
        assert self._smtp is not None
        sent: list[int] = []
        failed: list[tuple[int, int, str]] = []
        try:
            client = self._smtp.client()  # one connection for its share of the round
            await client.connect()
            try:
                for row in rows:
                    try:
                        await client.sendmail(self._sender, [row["recipient"]], self._message(row))
                    except REFUSED as exc:  # this mail only; the connection goes on
                        failed.append((row["id"], row["attempts"], repr(exc)))
                    else:
                        sent.append(row["id"])
                await client.quit()
            finally:
                # No QUIT after a failure or a cancel (shutdown): a hung server would hold the
                # sender for the whole SMTP timeout. The socket is simply closed.
                client.close()
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            done = set(sent) | {mail_id for mail_id, _, _ in failed}
            failed += [(r["id"], r["attempts"], repr(exc)) for r in rows if r["id"] not in done]
        return sent, failed

    def _message(self, row: asyncpg.Record) -> bytes:
        # One id per outbox row: should a mail ever go out twice (SMTP accepted it, then the
        # database went away before it was marked sent), mail clients show it once.
        domain = self._sender.rpartition("@")[2] or "stampede.local"
        message_id = f"<outbox-{row['id']}@{domain}>"
        return compose(self._sender, row["recipient"], row["subject"], row["body"], message_id)


@dataclass(frozen=True, slots=True)
class Notices:
    """The mails that tell a booking's owner, or a waiting entry's, what a batch did: a
    confirmation when a booking is made (a hold: when it is confirmed), a notice when it is
    cancelled, an offer with its confirm link, a waiting list closed; else none."""

    base_url: str  # PUBLIC_BASE_URL: links in mails start with it

    def __call__(self, event_name: str, outcome: Outcome | Settled) -> tuple[str, str] | None:
        if isinstance(outcome, Cancelled):
            return booking_cancelled_mail(event_name, str(outcome.reference))
        if isinstance(outcome, Offered):
            return self._offer(event_name, outcome)
        if isinstance(outcome, Closed):
            return waitlist_closed_mail(event_name, outcome.type_name)
        if (isinstance(outcome, Booked) and not outcome.held) or (
            isinstance(outcome, Confirmed) and not outcome.already
        ):
            lines = [(line.name, line.quantity, line.price) for line in outcome.lines]
            return booking_confirmed_mail(event_name, str(outcome.reference), lines, outcome.total)
        return None

    def _offer(self, event_name: str, offer: Offered) -> tuple[str, str]:
        hold = offer.hold
        assert hold.expires_at is not None
        until = hold.expires_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        body = (
            f"Seats came free for {event_name}, and they are yours to take: "
            f"{offer.entry.quantity} x {offer.type_name}, {hold.total:.2f} in all.\n\n"
            f"They are held for you until {until}. To buy them, confirm the booking:\n"
            f"  POST {self.base_url}/api/bookings/{hold.reference}/confirm/\n"
            "(signed in; or confirm it in the app). Unconfirmed by then, they go to the next "
            "person on the waiting list.\n"
        )
        return f"Tickets for you: {event_name}", body


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


def waitlist_closed_mail(event_name: str, type_name: str) -> tuple[str, str]:
    """Subject and body of the mail sent when a waiting entry closes; ``type_name`` may be the
    placeholder ``{ticket_type}``, filled in by SQL."""
    body = (
        f"The waiting list for {type_name} at {event_name} has closed: those tickets are no "
        "longer on sale, so no seats will be offered to you.\n"
    )
    return f"Waiting list closed: {event_name}", body
