"""Waiting-list benchmark: a sold-out event with 10,000 waiting entries, and 1,000 of its
bookings cancelled in one burst: every freed seat must go to the next entry in line, at once.

Two phases on a private embedded PostgreSQL, each against a fresh server, with the same burst
(1,000 cancellations, C at a time):

1. baseline: the same sold-out event with nobody waiting (the seats simply go back on sale);
2. waiting list: 10,000 entries of one ticket each; each freed seat is offered, in the
   cancelling transaction, to the next entry: a hold for its user.

Prints cancellations/s and offers/s, and the lag from a cancel request to the offer for its
seat being made (the cancel's answer: the offer commits in the same transaction), p50/p99;
and, for W fans watching on an authenticated websocket, from the cancel that freed their seat
to the offer's message on their socket. Checks that every freed seat went to exactly one
entry, in joining order: the first 1,000 are offered one seat each, the 9,000 after them still
wait, and nothing is on sale.

    .venv/bin/python loadtest/bench_waitlist.py [--entries 10000] [--cancels 1000] [--clients 64]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import aiohttp
import asyncpg

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "loadtest"))

from bench_booking import Server, percentile  # noqa: E402
from seed import access_token, attendees, new_tag, organizer  # noqa: E402

from server.embedded.postgres import start_postgres, stop_postgres  # noqa: E402


@dataclass
class Burst:
    cancels: int
    seconds: float
    cancels_per_second: float
    offers: int
    offers_per_second: float
    lag_p50_ms: float  # cancel sent -> offer made (committed, with the cancel)
    lag_p99_ms: float
    watched: int = 0
    message_p50_ms: float = float("nan")  # cancel sent -> the offer on its fan's socket
    message_p99_ms: float = float("nan")


@dataclass
class Shop:
    event: int
    ticket: int
    buyers: list[tuple[str, str]]  # (token, booking reference) of each booking to cancel
    fans: list[tuple[int, str]]  # (user id, token) of the first entries, in joining order


async def prepare(dsn: str, seats: int, entries: int, watched: int) -> Shop:
    """A sold-out event: ``seats`` bookings of one ticket; ``entries`` waiting, one each; the
    first ``watched`` of them with tokens, to watch their offers come."""
    conn = await asyncpg.connect(dsn)
    try:
        tag = new_tag()
        event = await conn.fetchval(
            "INSERT INTO events (organizer_id, name, location, start_time, total_capacity, tickets_sold, "
            "waitlist_offer_seconds) VALUES ($1, 'Sold Out', 'Arena', now() + interval '30 days', $2, $2, 3600) "
            "RETURNING id",
            await organizer(conn, tag), seats,
        )  # fmt: skip
        ticket = await conn.fetchval(
            "INSERT INTO ticket_types (event_id, name, price, quantity_available, quantity_sold, waiting) "
            "VALUES ($1, 'GA', 49, 0, $2, $3) RETURNING id",
            event, seats, entries,
        )  # fmt: skip
        users = await attendees(conn, tag, seats + entries, prefix="u")
        buyer_ids, fan_ids = users[:seats], users[seats:]
        bookings = await conn.fetch(
            "WITH made AS (INSERT INTO bookings (booking_reference, user_id, event_id, total_price, status, confirmed_at) "
            "  SELECT gen_random_uuid(), u, $2, 49, 'confirmed', now() FROM unnest($1::bigint[]) u "
            "  RETURNING id, user_id, booking_reference), "
            "items AS (INSERT INTO booking_items (booking_id, ticket_type_id, quantity, price_at_booking) "
            "  SELECT id, $3, 1, 49 FROM made) "
            "SELECT user_id, booking_reference FROM made",
            buyer_ids, event, ticket,
        )  # fmt: skip
        await conn.execute(
            "INSERT INTO waitlist_entries (event_id, ticket_type_id, user_id, quantity) "
            "SELECT $1, $2, u, 1 FROM unnest($3::bigint[]) WITH ORDINALITY AS f(u, n) ORDER BY n",
            event, ticket, fan_ids,
        )  # fmt: skip
    finally:
        await conn.close()
    token = {r["user_id"]: access_token(r["user_id"]) for r in bookings}
    buyers = [(token[r["user_id"]], str(r["booking_reference"])) for r in bookings]
    fans = [(fan, access_token(fan)) for fan in fan_ids[:watched]]
    return Shop(event, ticket, buyers, fans)


class Watchers:
    """Fans on authenticated sockets: when each heard of their offer."""

    def __init__(self, fans: list[tuple[int, str]]) -> None:
        self.fans = fans
        self.told: dict[int, float] = {}
        self.everyone = asyncio.Event()
        self._listening: list[asyncio.Task[None]] = []
        self._sockets: list[aiohttp.ClientWebSocketResponse] = []

    async def connect(self, session: aiohttp.ClientSession, url: str) -> None:
        for fan, token in self.fans:
            ws = await session.ws_connect(url.replace("http", "ws") + "/ws")
            await ws.send_json({"op": "auth", "token": token})
            assert (await ws.receive_json(timeout=10))["type"] == "authenticated"
            self._sockets.append(ws)
            self._listening.append(asyncio.create_task(self._listen(fan, ws)))

    async def _listen(self, fan: int, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if json.loads(message.data).get("status") == "offered":
                self.told[fan] = time.perf_counter()
                if len(self.told) == len(self.fans):
                    self.everyone.set()

    async def close(self) -> None:
        with contextlib.suppress(TimeoutError):  # whoever was not told by then is missing
            await asyncio.wait_for(self.everyone.wait(), 5)
        for ws in self._sockets:
            await ws.close()
        await asyncio.gather(*self._listening, return_exceptions=True)


async def burst(
    url: str, shop: Shop, cancels: int, clients: int
) -> tuple[dict[str, float], dict[str, float], dict[int, float]]:
    """Cancel the first ``cancels`` bookings, ``clients`` at a time: each reference's send and
    answer times, and when each watched fan heard of their offer."""
    sent: dict[str, float] = {}
    answered: dict[str, float] = {}
    watchers = Watchers(shop.fans)
    connector = aiohttp.TCPConnector(limit=clients + len(shop.fans))
    async with aiohttp.ClientSession(connector=connector) as session:
        await watchers.connect(session, url)
        queue = list(shop.buyers[:cancels])

        async def client() -> None:
            while queue:
                token, reference = queue.pop(0)
                sent[reference] = time.perf_counter()
                async with session.patch(
                    f"{url}/api/bookings/{reference}/cancel/",
                    headers={"Authorization": f"Bearer {token}"},
                ) as answer:
                    assert answer.status == 200, await answer.text()
                answered[reference] = time.perf_counter()

        await asyncio.gather(*(client() for _ in range(clients)))
        await watchers.close()
    return sent, answered, watchers.told


async def measure(
    dsn: str, entries: int, cancels: int, clients: int, watched: int
) -> tuple[Burst, int]:
    """The burst's figures, and the event's id."""
    shop = await prepare(dsn, 2 * cancels, entries, watched if entries else 0)
    server = Server(dsn)
    try:
        sent, answered, told = await burst(server.url, shop, cancels, clients)
    finally:
        server.stop()
    seconds = max(answered.values()) - min(sent.values())
    lags = [answered[ref] - sent[ref] for ref in sent]
    offers = await _offers(dsn, shop.event)
    result = Burst(
        cancels, round(seconds, 3), round(cancels / seconds, 1), len(offers),
        round(len(offers) / seconds, 1), round(percentile(lags, 0.50), 1),
        round(percentile(lags, 0.99), 1),
    )  # fmt: skip
    if told:
        heard = await _message_lags(dsn, shop, sent, told)
        result.watched = len(heard)
        result.message_p50_ms = round(percentile(heard, 0.50), 1)
        result.message_p99_ms = round(percentile(heard, 0.99), 1)
    return result, shop.event


async def _offers(dsn: str, event: int) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetch(
            "SELECT w.user_id, b.created_at FROM waitlist_entries w JOIN bookings b ON b.id = w.booking_id "
            "WHERE w.event_id = $1 AND w.status = 'offered' ORDER BY w.id",
            event,
        )
    finally:
        await conn.close()


async def _message_lags(
    dsn: str, shop: Shop, sent: dict[str, float], told: dict[int, float]
) -> list[float]:
    """Each watched fan's lag, counted (to be safe) from the first cancel sent of the batch
    whose transaction made their offer: that batch cancelled with the offer's own timestamp."""
    conn = await asyncpg.connect(dsn)
    try:
        cancelled = await conn.fetch(
            "SELECT booking_reference, cancelled_at FROM bookings WHERE event_id = $1 AND status = 'cancelled'",
            shop.event,
        )
        offers = await _offers(dsn, shop.event)
    finally:
        await conn.close()
    first_sent: dict[datetime, float] = {}
    for row in cancelled:
        moment = sent[str(row["booking_reference"])]
        first_sent[row["cancelled_at"]] = min(first_sent.get(row["cancelled_at"], moment), moment)
    made = {row["user_id"]: row["created_at"] for row in offers}
    return [told[fan] - first_sent[made[fan]] for fan in told]


async def check(dsn: str, event: int, cancels: int, entries: int) -> str:
    """Every freed seat went to exactly one entry, in joining order; nothing went on sale."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT w.status, w.booking_id, b.status AS hold, "
            "(SELECT sum(quantity) FROM booking_items i WHERE i.booking_id = b.id) AS seats "
            "FROM waitlist_entries w LEFT JOIN bookings b ON b.id = w.booking_id "
            "WHERE w.event_id = $1 ORDER BY w.id",
            event,
        )
        counts = await conn.fetchrow(
            "SELECT t.quantity_available, t.quantity_held, t.quantity_kept, t.quantity_sold, t.waiting, "
            "e.tickets_held, e.tickets_sold FROM ticket_types t JOIN events e ON e.id = t.event_id WHERE e.id = $1",
            event,
        )
        sales = await conn.fetchval(
            "SELECT count(*) FROM bookings b WHERE b.event_id = $1 AND b.status = 'pending' "
            "AND NOT EXISTS (SELECT 1 FROM waitlist_entries w WHERE w.booking_id = b.id)",
            event,
        )
    finally:
        await conn.close()
    offered, waiting = rows[:cancels], rows[cancels:]
    assert all(
        r["status"] == "offered" and r["hold"] == "pending" and r["seats"] == 1 for r in offered
    )
    assert len({r["booking_id"] for r in offered}) == cancels  # one hold each, none shared
    assert all(r["status"] == "waiting" and r["booking_id"] is None for r in waiting)
    assert len(waiting) == entries - cancels
    assert dict(counts) == {
        "quantity_available": 0, "quantity_held": cancels, "quantity_kept": 0,
        "quantity_sold": cancels, "waiting": entries - cancels, "tickets_held": cancels,
        "tickets_sold": cancels,
    }, dict(counts)  # fmt: skip
    assert sales == 0
    return (
        f"the first {cancels:,} entries each hold one freed seat, in joining order; "
        f"{entries - cancels:,} still wait; nothing went on sale"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--cancels", type=int, default=1_000)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--watched", type=int, default=200, help="fans on a live socket")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "bench" / "waitlist.json")
    args = parser.parse_args()
    print(
        f"waiting list: {args.entries:,} waiting, {args.cancels:,} cancellations in a burst, "
        f"{args.clients} at a time; {args.watched} fans watching"
    )
    with tempfile.TemporaryDirectory(prefix="stampede-bench-") as tmp:
        pg = start_postgres(Path(tmp) / "postgres")
        try:
            dsn = str(pg.get_uri())
            Server.migrate(dsn)
            baseline, _ = asyncio.run(measure(dsn, 0, args.cancels, args.clients, 0))
            waiting, event = asyncio.run(
                measure(dsn, args.entries, args.cancels, args.clients, args.watched)
            )
            verdict = asyncio.run(check(dsn, event, args.cancels, args.entries))
        finally:
            stop_postgres(pg)
    for name, run in (("no waiting list", baseline), ("10,000 waiting", waiting)):
        print(
            f"  {name:<16} {run.cancels_per_second:>7.0f} cancels/s  {run.offers_per_second:>7.0f} offers/s  "
            f"cancel -> offer made p50 {run.lag_p50_ms:.1f} ms  p99 {run.lag_p99_ms:.1f} ms"
        )
    print(
        f"  offer on the fan's socket ({waiting.watched} watched): p50 {waiting.message_p50_ms:.1f} ms  "
        f"p99 {waiting.message_p99_ms:.1f} ms (target p99 <= 1000 ms)"
    )
    print(
        f"  cancels/s with the waiting list / without = "
        f"{waiting.cancels_per_second / baseline.cancels_per_second:.2f}"
    )
    print(f"  {verdict}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    figures = {"baseline": asdict(baseline), "waitlist": asdict(waiting), "check": verdict}
    args.out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"raw figures: {args.out}")


if __name__ == "__main__":
    main()
