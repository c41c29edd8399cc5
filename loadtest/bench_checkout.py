"""Checkout benchmark: holds on one hot event, then confirmed or abandoned; and the expiry lag
when 10,000 holds run out in the same second.

1. Three phases of T seconds, each against a fresh server, with the same C clients (64) and
   the same Python load generator, so that they compare: plain bookings (the baseline), holds
   alone (what a hold costs against a booking), and the checkout flow: hold one ticket, then
   confirm it (80%) or walk away (20%: the hold expires after the event's 5 s). Prints the
   rate and the p50/p99 of each step, and checks that sold + held + available equals the
   stock and that each abandoned hold expired exactly once.
2. 10,000 holds written straight to the database, all expiring within one second, on an
   event whose actor is idle: a websocket watches the seats come back; the lag from each
   hold's expires_at to the moment its seats show as available, p50/p99.

    .venv/bin/python loadtest/bench_checkout.py [--seconds 10] [--clients 64] [--holds 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import asyncpg

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "loadtest"))

from bench_booking import Server, percentile  # noqa: E402
from seed import access_token, attendees, new_tag, organizer  # noqa: E402

from server.embedded.postgres import start_postgres, stop_postgres  # noqa: E402

STOCK = 10_000_000
HOLD_SECONDS = 5


@dataclass
class Step:
    count: int
    per_second: float
    p50_ms: float
    p99_ms: float


def _step(latencies: list[float], seconds: float) -> Step:
    return Step(
        len(latencies),
        round(len(latencies) / seconds, 1),
        round(percentile(latencies, 0.50), 2),
        round(percentile(latencies, 0.99), 2),
    )


async def _prepare(dsn: str, clients: int) -> tuple[int, int, list[str]]:
    conn = await asyncpg.connect(dsn)
    try:
        tag = new_tag()
        event = await conn.fetchval(
            "INSERT INTO events (organizer_id, name, location, start_time, total_capacity, hold_seconds) "
            "VALUES ($1, 'Checkout', 'Arena', now() + interval '30 days', $2, $3) RETURNING id",
            await organizer(conn, tag), STOCK, HOLD_SECONDS,
        )  # fmt: skip
        ticket = await conn.fetchval(
            "INSERT INTO ticket_types (event_id, name, price, quantity_available) VALUES ($1, 'GA', 49, $2) RETURNING id",
            event, STOCK,
        )  # fmt: skip
        ids = await attendees(conn, tag, clients)
    finally:
        await conn.close()
    return event, ticket, [access_token(user_id) for user_id in ids]


async def _clients(
    url: str, event: int, ticket: int, tokens: list[str], seconds: float, mode: str
) -> dict[str, list[float]]:
    """Each client books ("plain"), holds ("holds"), or holds then confirms 80% of the time
    ("checkout"), until ``seconds`` pass."""
    checkout = mode == "checkout"
    body = {
        "event_id": event,
        "items": [{"ticket_type_id": ticket, "quantity": 1}],
        "hold": mode != "plain",
    }
    steps: dict[str, list[float]] = {"book": [], "hold": [], "confirm": [], "abandon": []}
    randoms = random.Random(7)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=len(tokens))) as session:
        deadline = time.perf_counter() + seconds

        async def client(token: str) -> None:
            headers = {"Authorization": f"Bearer {token}"}
            while (started := time.perf_counter()) < deadline:
                async with session.post(
                    url + "/api/bookings/", json=body, headers=headers
                ) as answer:
                    booking = await answer.json()
                assert answer.status == 201, booking
                steps["book" if mode == "plain" else "hold"].append(time.perf_counter() - started)
                if not checkout:
                    continue
                if randoms.random() < 0.2:
                    steps["abandon"].append(0.0)
                    continue
                started = time.perf_counter()
                path = f"/api/bookings/{booking['booking_reference']}/confirm/"
                async with session.post(url + path, headers=headers) as answer:
                    assert answer.status == 200, await answer.text()
                steps["confirm"].append(time.perf_counter() - started)

        await asyncio.gather(*(client(t) for t in tokens))
    return steps


async def checkout(dsn: str, clients: int, seconds: float) -> dict[str, object]:
    figures: dict[str, object] = {}
    for mode in ("plain", "holds", "checkout"):
        event, ticket, tokens = await _prepare(dsn, clients)
        server = Server(dsn)
        try:
            await _clients(server.url, event, ticket, tokens[:8], 1.0, "plain")  # warm up
            warm = await _sold_and_held(dsn, event)
            steps = await _clients(server.url, event, ticket, tokens, seconds, mode)
            if mode == "plain":
                figures["plain_bookings"] = asdict(_step(steps["book"], seconds))
                continue
            if mode == "holds":
                figures["holds_alone"] = asdict(_step(steps["hold"], seconds))
                continue
            figures["checkout_holds"] = asdict(_step(steps["hold"], seconds))
            figures["checkout_confirms"] = asdict(_step(steps["confirm"], seconds))
            abandoned = len(steps["abandon"])
            started = time.perf_counter()
            while (await _sold_and_held(dsn, event))[1] > 0:  # noqa: ASYNC110 - polls PostgreSQL
                await asyncio.sleep(0.1)  # the abandoned holds run out
            figures["checkout_expiries"] = {
                "count": abandoned,
                "per_second": round(abandoned / seconds, 1),
                "all_expired_after_run_s": round(time.perf_counter() - started, 2),
            }
            figures["check"] = await _check(dsn, event, warm[0] + len(steps["confirm"]), abandoned)
        finally:
            server.stop()
    return figures


async def _sold_and_held(dsn: str, event: int) -> tuple[int, int]:
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(
            "SELECT tickets_sold, tickets_held FROM events WHERE id = $1", event
        )
    finally:
        await conn.close()
    return row["tickets_sold"], row["tickets_held"]


async def _check(dsn: str, event: int, confirmed: int, abandoned: int) -> str:
    """sold + held + available = stock, and each abandoned hold expired once."""
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(
            "SELECT t.quantity_available, t.quantity_held, t.quantity_sold, e.tickets_sold, e.tickets_held, "
            "(SELECT count(*) FROM bookings WHERE event_id = e.id AND status = 'expired') AS expired, "
            "(SELECT count(*) FROM bookings WHERE event_id = e.id AND status = 'confirmed') AS confirmed "
            "FROM events e JOIN ticket_types t ON t.event_id = e.id WHERE e.id = $1",
            event,
        )
    finally:
        await conn.close()
    assert row["quantity_available"] + row["quantity_held"] + row["quantity_sold"] == STOCK, dict(
        row
    )
    assert (row["quantity_held"], row["tickets_held"]) == (0, 0), dict(row)
    assert row["quantity_sold"] == row["tickets_sold"] == row["confirmed"] == confirmed, dict(row)
    assert row["expired"] == abandoned, dict(row)
    return f"sold + held + available = {STOCK:,}; {abandoned} abandoned, {row['expired']} expired once each"


async def expiry_lag(dsn: str, holds: int) -> dict[str, object]:
    """``holds`` holds of one ticket, expiring evenly within one second, 3 s from now."""
    event, ticket, _ = await _prepare(dsn, 1)
    conn = await asyncpg.connect(dsn)
    try:
        buyer = await conn.fetchval(
            "SELECT id FROM users WHERE role = 'attendee' ORDER BY id DESC LIMIT 1"
        )
        start = datetime.now(UTC) + timedelta(seconds=3)
        await conn.execute(
            "WITH made AS (INSERT INTO bookings (booking_reference, user_id, event_id, total_price, status, expires_at) "
            "  SELECT gen_random_uuid(), $1, $2, 49, 'pending', $3::timestamptz + (n * interval '1 second') / $5::integer "
            "  FROM generate_series(0, $5 - 1) n RETURNING id) "
            "INSERT INTO booking_items (booking_id, ticket_type_id, quantity, price_at_booking) "
            "SELECT id, $4, 1, 49 FROM made",
            buyer, event, start, ticket, holds,
        )  # fmt: skip
        await conn.execute(
            "UPDATE ticket_types SET quantity_available = quantity_available - $2, quantity_held = $2 WHERE id = $1",
            ticket, holds,
        )  # fmt: skip
        await conn.execute("UPDATE events SET tickets_held = $2 WHERE id = $1", event, holds)
        due = sorted(
            r["expires_at"]
            for r in await conn.fetch("SELECT expires_at FROM bookings WHERE event_id = $1", event)
        )
    finally:
        await conn.close()
    server = Server(dsn)
    seen: list[tuple[datetime, int]] = []  # (when, tickets_held) as the watcher saw them
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(server.url.replace("http", "ws") + f"/ws/events/{event}") as ws,
        ):
            while True:
                state = json.loads((await ws.receive(timeout=30)).data)
                seen.append((datetime.now(UTC), state["tickets_held"]))
                if state["tickets_held"] == 0:
                    break
    finally:
        server.stop()
    lags = []
    for index, expires in enumerate(due):  # hold i is back once fewer than holds - i are held
        back = next(when for when, held in seen if held <= holds - index - 1)
        lags.append((back - expires).total_seconds())
    return {
        "holds": holds,
        "expiring_within_s": round((due[-1] - due[0]).total_seconds(), 3),
        "lag_p50_ms": round(percentile(lags, 0.50), 1),
        "lag_p99_ms": round(percentile(lags, 0.99), 1),
        "lag_max_ms": round(max(lags) * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--holds", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "bench" / "checkout.json")
    args = parser.parse_args()
    print(f"checkout: {args.clients} clients, {args.seconds:g} s; expiry: {args.holds:,} holds")
    with tempfile.TemporaryDirectory(prefix="stampede-bench-") as tmp:
        pg = start_postgres(Path(tmp) / "postgres")
        try:
            dsn = str(pg.get_uri())
            Server.migrate(dsn)
            figures = asyncio.run(checkout(dsn, args.clients, args.seconds))
            figures["expiry"] = asyncio.run(expiry_lag(dsn, args.holds))
        finally:
            stop_postgres(pg)
    plain, alone = figures["plain_bookings"], figures["holds_alone"]
    holds, confirms = figures["checkout_holds"], figures["checkout_confirms"]
    assert isinstance(plain, dict)
    assert isinstance(alone, dict)
    assert isinstance(holds, dict)
    assert isinstance(confirms, dict)
    for name in ("plain_bookings", "holds_alone", "checkout_holds", "checkout_confirms"):
        step = figures[name]
        assert isinstance(step, dict)
        print(
            f"  {name:<18} {step['per_second']:>8.0f}/s  p50 {step['p50_ms']:>6.1f} ms  p99 {step['p99_ms']:>6.1f} ms"
        )
    print(f"  checkout_expiries  {figures['checkout_expiries']}")
    print(
        f"  holds alone / plain bookings = {alone['per_second'] / plain['per_second']:.2f} (target >= 0.8)"
    )
    flow = holds["per_second"] + confirms["per_second"]
    print(
        f"  checkout: holds / plain bookings = {holds['per_second'] / plain['per_second']:.2f}; "
        f"its requests (holds + confirms) / plain bookings = {flow / plain['per_second']:.2f}"
    )
    print(f"  {figures['check']}")
    print(f"  expiry lag: {figures['expiry']} (target p99 <= 1000 ms)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"raw figures: {args.out}")


if __name__ == "__main__":
    main()
