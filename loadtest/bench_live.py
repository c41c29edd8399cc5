"""Live fan-out benchmark: S websocket subscribers on two instances, a booking stream on one event.

Starts a private PostgreSQL and Redis, two Stampede instances sharing them, connects S
subscribers to one event (half on each instance), then books one ticket at a time on the first
instance at a steady rate. For every booking and every subscriber it measures commit-to-receive:
from the booking's 201 (sent after its commit) to the first state that subscriber receives
showing it. Prints delivered messages/s, latency percentiles and server memory per connection.

    .venv/bin/python loadtest/bench_live.py [--subscribers 1000] [--seconds 10] [--rate 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

import aiohttp
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from loadtest.bench_booking import Server, percentile, prepare  # noqa: E402
from server.embedded.postgres import start_postgres, stop_postgres  # noqa: E402
from server.embedded.redis import RedisServer  # noqa: E402


def rss_mib(server: Server) -> float:
    return psutil.Process(server.process.pid).memory_info().rss / 2**20


@dataclass
class Stage:
    """Two instances sharing the database and Redis, one event, one attendee who books."""

    servers: list[Server]
    event: int
    ticket: int
    token: str
    idle_mib: list[float]

    @property
    def urls(self) -> list[str]:
        return [server.url for server in self.servers]

    def book(self, args: argparse.Namespace) -> dict[int, float]:
        """Book at ``args.rate`` for ``args.seconds``; the commit time of each booking, by count."""
        commits = asyncio.run(
            book_stream(self.urls[0], self.event, self.ticket, self.token, args.seconds, args.rate)
        )
        time.sleep(2)  # let the last states arrive
        return commits


@contextmanager
def stage(dsn: str, redis_url: str) -> Iterator[Stage]:
    event, ticket, tokens = asyncio.run(prepare(dsn, 1))
    servers = [Server(dsn, REDIS_URL=redis_url) for _ in range(2)]
    try:
        time.sleep(1)
        yield Stage(servers, event, ticket, tokens[0], [rss_mib(s) for s in servers])
    finally:
        for server in servers:
            server.stop()


def figures(
    args: argparse.Namespace, stage: Stage, held: list[float], booked: int, messages: int,
    p50_ms: float, p99_ms: float, behind: int, client: str,
) -> dict[str, object]:  # fmt: skip
    return {
        "subscribers": args.subscribers,
        "client": client,
        "bookings": booked,
        "seconds": args.seconds,
        "messages_delivered": messages,
        "messages_per_second": round(messages / args.seconds, 1),
        "commit_to_receive_p50_ms": round(p50_ms, 1),
        "commit_to_receive_p99_ms": round(p99_ms, 1),
        "subscribers_behind_at_end": behind,
        "server_rss_idle_mib": [round(m, 1) for m in stage.idle_mib],
        "server_rss_held_mib": [round(m, 1) for m in held],
        "server_kib_per_connection": round(
            (sum(held) - sum(stage.idle_mib)) * 1024 / args.subscribers, 1
        ),
    }


class Subscriber:
    def __init__(self) -> None:
        self.seen = 0  # tickets_sold shown so far
        self.messages = 0
        self.arrivals: list[tuple[int, int, float]] = []  # (first new k, last k, receive time)


async def subscribe(
    session: aiohttp.ClientSession, url: str, event_id: int, sub: Subscriber, ready: asyncio.Event
) -> None:
    async with session.ws_connect(
        f"{url.replace('http', 'ws')}/ws/events/{event_id}", heartbeat=None
    ) as ws:
        async for message in ws:
            state = json.loads(message.data)
            if not ready.is_set():
                sub.seen = state["tickets_sold"]
                ready.set()
                continue
            sub.messages += 1
            if state["tickets_sold"] > sub.seen:
                sub.arrivals.append((sub.seen + 1, state["tickets_sold"], time.perf_counter()))
                sub.seen = state["tickets_sold"]


async def _hold(urls: list[str], event_id: int, count: int, offset: int, pipe: Connection) -> None:
    subscribers = [Subscriber() for _ in range(count)]
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        readies = [asyncio.Event() for _ in subscribers]
        tasks = []
        for i, (sub, ready) in enumerate(zip(subscribers, readies, strict=True)):
            url = urls[(offset + i) % len(urls)]
            tasks.append(asyncio.create_task(subscribe(session, url, event_id, sub, ready)))
            if i % 100 == 99:
                await asyncio.sleep(0.02)
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 300)
        pipe.send("ready")
        commits: dict[int, float] = await asyncio.to_thread(pipe.recv)  # sent when the run is over
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    latencies = [
        at - commits[k] for sub in subscribers for first, last, at in sub.arrivals
        for k in range(first, last + 1) if k in commits
    ]  # fmt: skip
    booked = max(commits, default=0)
    pipe.send(
        (latencies, sum(s.messages for s in subscribers), sum(s.seen < booked for s in subscribers))
    )


def hold_subscribers(
    urls: list[str], event_id: int, count: int, offset: int, pipe: Connection
) -> None:
    """A client process holding ``count`` sockets (perf_counter is the same clock in every
    process on Linux, so its receive times compare with the booking process's commit times)."""
    asyncio.run(_hold(urls, event_id, count, offset, pipe))


async def book_stream(
    url: str, event_id: int, ticket: int, token: str, seconds: float, rate: float
) -> dict[int, float]:
    commits: dict[int, float] = {}
    body = json.dumps({"event_id": event_id, "items": [{"ticket_type_id": ticket, "quantity": 1}]})
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as session:
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            async with session.post(url + "/api/bookings/", data=body, headers=headers) as response:
                await response.read()
                if response.status == 201:
                    commits[len(commits) + 1] = time.perf_counter()
            await asyncio.sleep(max(0.0, len(commits) / rate - (time.perf_counter() - started)))
    return commits


def run_with_node(args: argparse.Namespace, dsn: str, redis_url: str) -> dict[str, object]:
    """The sockets held by Node.js (loadtest/live_subscribers.mjs)."""
    command = ["node", "--experimental-websocket", str(REPO / "loadtest" / "live_subscribers.mjs")]
    with stage(dsn, redis_url) as on:
        client = subprocess.Popen(
            [*command, str(on.event), str(args.subscribers), *on.urls],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert client.stdout is not None
            assert client.stdin is not None
            assert client.stdout.readline().strip() == "ready"
            held = [rss_mib(s) for s in on.servers]
            commits = on.book(args)
            # perf_counter and Node's hrtime are both CLOCK_MONOTONIC on Linux: nanoseconds here.
            client.stdin.write(
                json.dumps({k: str(int(t * 1e9)) for k, t in commits.items()}) + "\n"
            )
            client.stdin.flush()
            seen = json.loads(client.stdout.readline())
            client.wait(30)
        finally:
            if client.poll() is None:
                client.kill()
        return figures(
            args, on, held, len(commits), seen["messages"],
            seen["p50_ms"] or float("nan"), seen["p99_ms"] or float("nan"), seen["behind"], "node",
        )  # fmt: skip


def run(args: argparse.Namespace, dsn: str, redis_url: str) -> dict[str, object]:
    """The sockets held by ``args.clients`` Python processes."""
    context = multiprocessing.get_context("spawn")
    with stage(dsn, redis_url) as on:
        workers = []
        try:
            share = -(-args.subscribers // args.clients)
            for n in range(args.clients):
                count = min(share, args.subscribers - n * share)
                mine, theirs = context.Pipe()
                worker = context.Process(
                    target=hold_subscribers, args=(on.urls, on.event, count, n * share, theirs)
                )
                worker.start()
                workers.append((worker, mine))
            for _, pipe in workers:
                assert pipe.recv() == "ready"
            held = [rss_mib(s) for s in on.servers]
            commits = on.book(args)
            latencies: list[float] = []
            messages = behind = 0
            for _, pipe in workers:
                pipe.send(commits)
            for worker, pipe in workers:
                their_latencies, their_messages, their_behind = pipe.recv()
                latencies += their_latencies
                messages += their_messages
                behind += their_behind
                worker.join(60)
        finally:
            for worker, _ in workers:
                if worker.is_alive():
                    worker.kill()
        return figures(
            args, on, held, len(commits), messages,
            percentile(latencies, 0.50), percentile(latencies, 0.99), behind, f"python x{args.clients}",
        )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subscribers", type=int, default=1000, help="10000 for the big run")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=50.0, help="bookings per second")
    parser.add_argument(
        "--clients", type=int, default=4, help="Python client processes (--client python)"
    )
    parser.add_argument(
        "--client", choices=("auto", "node", "python"), default="auto",
        help="who holds the sockets: Node.js if installed (cheapest per message), else Python",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "bench" / "live.json")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, 2 * args.subscribers + 1024))
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))  # the servers inherit it
    with tempfile.TemporaryDirectory(prefix="stampede-live-") as tmp:
        postgres = start_postgres(Path(tmp) / "postgres")
        redis = RedisServer(Path(tmp) / "redis")
        redis.start()
        try:
            dsn = str(postgres.get_uri())
            subprocess.run(
                [sys.executable, "-m", "server", "--migrate"], cwd=REPO, env={**os.environ, "DATABASE_URL": dsn},
                capture_output=True, check=True,
            )  # fmt: skip
            use_node = args.client == "node" or (args.client == "auto" and shutil.which("node"))
            result = (run_with_node if use_node else run)(args, dsn, redis.url)
        finally:
            redis.stop()
            stop_postgres(postgres)
    for key, value in result.items():
        print(f"{key:>28}: {value}")
    machine = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": machine, "result": result}, indent=2) + "\n")
    print(f"\nraw figures: {args.out}")


if __name__ == "__main__":
    main()
