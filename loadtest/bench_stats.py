"""Dashboard statistics benchmark: ``GET /api/events/{id}/stats/`` for an event with 1,000,000
bookings, against the naive aggregate over its bookings.

On a private PostgreSQL, one event gets a million confirmed bookings (one item each), spread over
the last two hours. They are written straight by SQL (through HTTP they would take most of an
hour), and ``booking_minutes`` is filled from them by the aggregate migration 0010 runs; the
booking transactions keep it so from then on. One Stampede instance then answers the stats route
to its organizer, one request at a time; the baseline is the same last hour counted from
``bookings`` itself (index ``bookings_event_created_idx`` narrows it to the hour, but it still
visits every booking of the hour).

Target on this machine: the route's p99 at most 50 ms.

    .venv/bin/python loadtest/bench_stats.py [--bookings 1000000] [--requests 300]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import aiohttp
import asyncpg

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "loadtest"))

from bench_booking import Server, percentile  # noqa: E402
from seed import access_token, new_tag, organizer  # noqa: E402

from server.embedded.postgres import start_postgres, stop_postgres  # noqa: E402

NAIVE_LAST_HOUR = """
SELECT date_trunc('minute', confirmed_at) AS minute, count(*) AS bookings
FROM bookings
WHERE event_id = $1 AND status = 'confirmed'
  AND created_at >= date_trunc('minute', now()) - interval '59 minutes'
GROUP BY 1 ORDER BY 1
"""


@dataclass
class Figures:
    bookings: int
    bookings_last_hour: int
    route_p50_ms: float
    route_p99_ms: float
    naive_p50_ms: float
    naive_p99_ms: float


async def seed(dsn: str, bookings: int) -> tuple[int, int]:
    """The organizer and the event with ``bookings`` confirmed bookings over the last 2 hours."""
    conn = await asyncpg.connect(dsn)
    try:
        owner = await organizer(conn, new_tag())
        fan = await conn.fetchval(
            "INSERT INTO users (username, email, password_hash, role)"
            " VALUES ('fan', 'fan@example.org', 'x', 'attendee')"
            " RETURNING id"
        )
        event = await conn.fetchval(
            "INSERT INTO events (organizer_id, name, location, start_time, total_capacity,"
            " tickets_sold) VALUES ($1, 'Stadium', 'Arena', now() + interval '30 days', $2, $2)"
            " RETURNING id",
            owner, bookings,
        )  # fmt: skip
        ticket = await conn.fetchval(
            "INSERT INTO ticket_types (event_id, name, price, quantity_available, quantity_sold)"
            " VALUES ($1, 'GA', 49.00, 0, $2) RETURNING id",
            event, bookings,
        )  # fmt: skip
        await conn.execute(
            "INSERT INTO bookings (booking_reference, user_id, event_id, total_price, created_at,"
            " confirmed_at)"
            " SELECT gen_random_uuid(), $1, $2, 49.00, t, t FROM ("
            "   SELECT now() - (n::float8 / $3) * interval '2 hours' AS t"
            "   FROM generate_series(1, $3) AS n) AS times",
            fan, event, bookings,
        )  # fmt: skip
        await conn.execute(
            "INSERT INTO booking_items (booking_id, ticket_type_id, quantity, price_at_booking)"
            " SELECT id, $1, 1, 49.00 FROM bookings WHERE event_id = $2",
            ticket, event,
        )  # fmt: skip
        await conn.execute(  # as migration 0010 fills it
            "INSERT INTO booking_minutes (event_id, minute, bookings, tickets)"
            " SELECT b.event_id, date_trunc('minute', b.confirmed_at), count(DISTINCT b.id),"
            " sum(i.quantity) FROM bookings b JOIN booking_items i ON i.booking_id = b.id"
            " WHERE b.event_id = $1 GROUP BY 1, 2",
            event,
        )
        await conn.execute("VACUUM ANALYZE")
        return owner, event
    finally:
        await conn.close()


async def time_route(url: str, token: str, event: int, requests: int) -> tuple[list[float], int]:
    """Seconds per stats request, one at a time; the last hour's bookings it counted."""
    headers = {"Authorization": f"Bearer {token}"}
    times: list[float] = []
    counted = 0
    async with aiohttp.ClientSession(url) as session:
        for _ in range(requests + 20):  # 20 to warm up
            started = time.perf_counter()
            async with session.get(f"/api/events/{event}/stats/", headers=headers) as response:
                assert response.status == 200, await response.text()
                body = await response.json()
            times.append(time.perf_counter() - started)
            counted = sum(minute["bookings"] for minute in body["per_minute"])
    return times[20:], counted


async def time_naive(dsn: str, event: int, requests: int) -> list[float]:
    conn = await asyncpg.connect(dsn)
    try:
        times: list[float] = []
        for _ in range(requests + 5):
            started = time.perf_counter()
            await conn.fetch(NAIVE_LAST_HOUR, event)
            times.append(time.perf_counter() - started)
        return times[5:]
    finally:
        await conn.close()


def run(args: argparse.Namespace, dsn: str) -> Figures:
    started = time.monotonic()
    owner, event = asyncio.run(seed(dsn, args.bookings))
    print(f"  seeded {args.bookings:,} bookings in {time.monotonic() - started:.0f} s")
    server = Server(dsn)
    try:
        token = access_token(owner)
        route, counted = asyncio.run(time_route(server.url, token, event, args.requests))
    finally:
        server.stop()
    naive = asyncio.run(time_naive(dsn, event, max(20, args.requests // 10)))
    return Figures(
        args.bookings, counted,
        round(percentile(route, 0.50), 2), round(percentile(route, 0.99), 2),
        round(percentile(naive, 0.50), 2), round(percentile(naive, 0.99), 2),
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bookings", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "bench" / "stats.json")
    args = parser.parse_args()
    print(f"dashboard stats: an event with {args.bookings:,} bookings, {args.requests} requests")
    with tempfile.TemporaryDirectory(prefix="stampede-bench-") as tmp:
        pg = start_postgres(Path(tmp) / "postgres")
        try:
            dsn = str(pg.get_uri())
            Server.migrate(dsn)
            figures = run(args, dsn)
        finally:
            stop_postgres(pg)
    print(
        f"  GET /api/events/{{id}}/stats/ (booking_minutes): p50 {figures.route_p50_ms:.1f} ms, "
        f"p99 {figures.route_p99_ms:.1f} ms (target p99 <= 50 ms); "
        f"{figures.bookings_last_hour:,} bookings in its last hour"
    )
    print(
        f"  baseline, the last hour counted from bookings (the query alone, no HTTP): "
        f"p50 {figures.naive_p50_ms:.1f} ms, p99 {figures.naive_p99_ms:.1f} ms "
        f"({figures.naive_p50_ms / figures.route_p50_ms:.0f}x the route's p50)"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(asdict(figures), indent=2) + "\n")
    print(f"raw figures: {args.out}")


if __name__ == "__main__":
    main()
