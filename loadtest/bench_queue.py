"""Waiting-room benchmark: 10,000 fans in the prequeue of one event, over two instances, each on
an authenticated websocket; the draw when sales open, then admission at 6,000 a minute.

On a private PostgreSQL and Redis, two Stampede instances; the fans join over HTTP (through
both instances), then hold their sockets in two client processes (half on each instance). The
event's sales then open: the draw gives the 10,000 their places at random, and both instances'
admitters admit them at the room's rate. Prints the draw's duration, the admission rate achieved
against the one configured, the latency from each admission (its transaction's time) to the
message on the fan's socket, and the servers' memory per queued socket.

Targets on this machine: the draw within 2 s for 10,000; the rate within 5% of the configured;
memory at most 100 KiB per queued socket.

    .venv/bin/python loadtest/bench_queue.py [--fans 10000] [--rate 6000] [--seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection
from pathlib import Path

import aiohttp
import asyncpg
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "loadtest"))

from bench_booking import Server, percentile  # noqa: E402
from seed import access_token, attendees, new_tag, organizer  # noqa: E402

from server.embedded.postgres import start_postgres, stop_postgres  # noqa: E402
from server.embedded.redis import RedisServer  # noqa: E402

CLIENTS = 2  # processes holding the sockets


@dataclass
class Figures:
    fans: int
    joined_per_second: float
    draw_s: float  # from sales opening to the draw committed (the admitter ticks every 250 ms)
    configured_per_minute: int
    admitted: int
    admitted_per_minute: float
    rate_error_percent: float
    message_p50_ms: float
    message_p99_ms: float
    messages_heard: int
    kib_per_socket: float


async def prepare(dsn: str, fans: int, rate: int) -> tuple[int, list[tuple[int, str]]]:
    """An event whose sales open in 20 minutes, with a waiting room; ``fans`` accounts."""
    conn = await asyncpg.connect(dsn)
    try:
        tag = new_tag()
        event = await conn.fetchval(
            "INSERT INTO events (organizer_id, name, location, start_time, total_capacity, sales_start) "
            "VALUES ($1, 'On-sale', 'Stadium', now() + interval '30 days', $2, now() + interval '20 minutes') RETURNING id",
            await organizer(conn, tag), fans * 2,
        )  # fmt: skip
        await conn.execute(
            "INSERT INTO ticket_types (event_id, name, price, quantity_available) VALUES ($1, 'GA', 60, $2)",
            event, fans * 2,
        )  # fmt: skip
        await conn.execute(
            "INSERT INTO waiting_rooms (event_id, admit_per_minute, session_seconds) VALUES ($1, $2, 600)",
            event, rate,
        )  # fmt: skip
        ids = await attendees(conn, tag, fans)
    finally:
        await conn.close()
    return event, [(user_id, access_token(user_id, 7200)) for user_id in ids]


async def join_all(urls: list[str], event: int, fans: list[tuple[int, str]]) -> float:
    """Every fan joins the queue (the prequeue), through the instances in turn; joins/s."""
    started = time.perf_counter()
    queue = list(enumerate(fans))
    async with aiohttp.ClientSession() as session:

        async def joiner() -> None:
            while queue:
                i, (_, token) = queue.pop()
                url = f"{urls[i % len(urls)]}/api/events/{event}/queue/"
                async with session.post(url, headers={"Authorization": f"Bearer {token}"}) as r:
                    assert r.status == 201, await r.text()

        await asyncio.gather(*(joiner() for _ in range(64)))
    return len(fans) / (time.perf_counter() - started)


async def _hold(
    urls: list[str], fans: list[tuple[int, str]], offset: int, pipe: Connection
) -> None:
    """Hold the fans' sockets; report when each heard of its admission (wall clock)."""
    heard: dict[int, float] = {}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        ready = [asyncio.Event() for _ in fans]

        async def socket(i: int, user: int, token: str) -> None:
            url = urls[(offset + i) % len(urls)].replace("http", "ws") + "/ws"
            async with session.ws_connect(url, heartbeat=None) as ws:
                await ws.send_str(json.dumps({"op": "auth", "token": token}))
                async for message in ws:
                    if not ready[i].is_set():
                        ready[i].set()
                    elif '"admitted"' in message.data and user not in heard:
                        heard[user] = time.time()

        tasks = []
        for i, (user, token) in enumerate(fans):
            tasks.append(asyncio.create_task(socket(i, user, token)))
            if i % 200 == 199:
                await asyncio.sleep(0.05)
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in ready)), 600)
        pipe.send("ready")
        await asyncio.to_thread(pipe.recv)  # the run is over
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    pipe.send(heard)


def hold(urls: list[str], fans: list[tuple[int, str]], offset: int, pipe: Connection) -> None:
    asyncio.run(_hold(urls, fans, offset, pipe))


def rss_mib(server: Server) -> float:
    return psutil.Process(server.process.pid).memory_info().rss / 2**20


async def open_sales(dsn: str, event: int, fans: int) -> float:
    """Open the sales now; seconds until the draw is committed."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("UPDATE events SET sales_start = now() WHERE id = $1", event)
        started = time.perf_counter()
        query = "SELECT last_position FROM waiting_rooms WHERE event_id = $1"
        while await conn.fetchval(query, event) < fans:  # noqa: ASYNC110 - polls PostgreSQL
            await asyncio.sleep(0.01)
        return time.perf_counter() - started
    finally:
        await conn.close()


async def admitted(dsn: str, event: int) -> tuple[int, dict[int, float]]:
    """How many are admitted, and when each was (unix seconds)."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT user_id, extract(epoch FROM admitted_at) AS at FROM queue_places "
            "WHERE event_id = $1 AND admitted_at IS NOT NULL",
            event,
        )
    finally:
        await conn.close()
    return len(rows), {r["user_id"]: float(r["at"]) for r in rows}


def run(args: argparse.Namespace, dsn: str, redis_url: str) -> Figures:
    event, fans = asyncio.run(prepare(dsn, args.fans, args.rate))
    servers = [Server(dsn, REDIS_URL=redis_url) for _ in range(2)]
    try:
        urls = [server.url for server in servers]
        joined = asyncio.run(join_all(urls, event, fans))
        time.sleep(1)
        idle = sum(rss_mib(s) for s in servers)
        share = -(-len(fans) // CLIENTS)
        pipes, workers = [], []
        for n in range(CLIENTS):
            ours, theirs = multiprocessing.Pipe()
            chunk = fans[n * share : (n + 1) * share]
            worker = multiprocessing.Process(target=hold, args=(urls, chunk, n, theirs))
            worker.start()
            pipes.append(ours)
            workers.append(worker)
        for pipe in pipes:
            assert pipe.recv() == "ready"
        time.sleep(2)
        held = sum(rss_mib(s) for s in servers)
        draw = asyncio.run(open_sales(dsn, event, args.fans))
        time.sleep(1.0)  # the admission clock started with the draw: measure from here
        first, _ = asyncio.run(admitted(dsn, event))
        started = time.perf_counter()
        time.sleep(args.seconds)
        last, moments = asyncio.run(admitted(dsn, event))
        elapsed = time.perf_counter() - started
        time.sleep(1)
        heard: dict[int, float] = {}
        for pipe in pipes:
            pipe.send("done")
        for pipe, worker in zip(pipes, workers, strict=True):
            heard.update(pipe.recv())
            worker.join(60)
    finally:
        for server in servers:
            server.stop()
    lags = [heard[user] - at for user, at in moments.items() if user in heard]
    per_minute = (last - first) / elapsed * 60
    return Figures(
        args.fans, round(joined, 1), round(draw, 3), args.rate, last, round(per_minute, 1),
        round(abs(per_minute - args.rate) / args.rate * 100, 2),
        round(percentile(lags, 0.50), 1), round(percentile(lags, 0.99), 1), len(lags),
        round((held - idle) * 1024 / args.fans, 1),
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--fans", type=int, default=10_000)
    parser.add_argument("--rate", type=int, default=6_000, help="admissions a minute")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "bench" / "queue.json")
    args = parser.parse_args()
    print(
        f"waiting room: {args.fans:,} fans in the prequeue on 2 instances, admitted at "
        f"{args.rate:,}/min, measured for {args.seconds:g} s"
    )
    with tempfile.TemporaryDirectory(prefix="stampede-bench-") as tmp:
        pg = start_postgres(Path(tmp) / "postgres")
        redis = RedisServer(Path(tmp) / "redis")
        try:
            redis.start()
            dsn = str(pg.get_uri())
            Server.migrate(dsn)
            figures = run(args, dsn, redis.url)
        finally:
            redis.stop()
            stop_postgres(pg)
    print(f"  joined: {figures.joined_per_second:,.0f} joins/s (HTTP, both instances)")
    print(
        f"  draw: {figures.fans:,} places drawn {figures.draw_s:.2f} s after sales opened (target <= 2 s)"
    )
    print(
        f"  admitted: {figures.admitted_per_minute:,.0f}/min against {figures.configured_per_minute:,}/min "
        f"configured ({figures.rate_error_percent:.1f}% off; target <= 5%)"
    )
    print(
        f"  admission -> message on the fan's socket ({figures.messages_heard:,} heard): "
        f"p50 {figures.message_p50_ms:.0f} ms, p99 {figures.message_p99_ms:.0f} ms"
    )
    print(f"  server memory: {figures.kib_per_socket:.1f} KiB per queued socket (target <= 100)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(asdict(figures), indent=2) + "\n")
    print(f"raw figures: {args.out}")


if __name__ == "__main__":
    main()
