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
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import aiohttp
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from loadtest.bench_booking import SECRET, free_port, percentile, prepare  # noqa: E402
from server.embedded.postgres import start_postgres, stop_postgres  # noqa: E402
from server.embedded.redis import RedisServer  # noqa: E402


def start_instance(dsn: str, redis_url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "REDIS_URL": redis_url,
        "PORT": str(port),
        "JWT_SECRET": SECRET,
        "RATE_LIMITS": "off",
        "LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen([sys.executable, "-m", "server"], cwd=REPO, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/api/health", timeout=1):
                return process, url
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("instance did not start")


def rss_mib(process: subprocess.Popen[bytes]) -> float:
    return psutil.Process(process.pid).memory_info().rss / 2**20


class Subscriber:
    def __init__(self) -> None:
        self.seen = 0  # tickets_sold shown so far
        self.messages = 0
        self.latencies: list[float] = []


async def subscribe(
    session: aiohttp.ClientSession,
    url: str,
    event_id: int,
    sub: Subscriber,
    commits: dict[int, float],
    ready: asyncio.Event,
) -> None:
    async with session.ws_connect(
        f"{url.replace('http', 'ws')}/ws/events/{event_id}", heartbeat=None
    ) as ws:
        first = True
        async for message in ws:
            state = json.loads(message.data)
            now = time.perf_counter()
            if first:
                first, sub.seen = False, state["tickets_sold"]
                ready.set()
                continue
            sub.messages += 1
            for k in range(sub.seen + 1, state["tickets_sold"] + 1):
                if k in commits:
                    sub.latencies.append(now - commits[k])
            sub.seen = max(sub.seen, state["tickets_sold"])


async def run(args: argparse.Namespace, dsn: str, redis_url: str) -> dict[str, object]:
    event, ticket, tokens = await prepare(dsn, 1)
    instances = [start_instance(dsn, redis_url) for _ in range(2)]
    try:
        await asyncio.sleep(1)
        idle = [rss_mib(p) for p, _ in instances]
        commits: dict[int, float] = {}
        subscribers = [Subscriber() for _ in range(args.subscribers)]
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            tasks, readies = [], []
            for i, sub in enumerate(subscribers):
                ready = asyncio.Event()
                readies.append(ready)
                url = instances[i % 2][1]
                tasks.append(
                    asyncio.create_task(subscribe(session, url, event, sub, commits, ready))
                )
                if i % 200 == 199:
                    await asyncio.sleep(0.05)
            await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 120)
            held = [rss_mib(p) for p, _ in instances]
            body = json.dumps(
                {"event_id": event, "items": [{"ticket_type_id": ticket, "quantity": 1}]}
            )
            headers = {"Authorization": f"Bearer {tokens[0]}", "Content-Type": "application/json"}
            booked, started = 0, time.perf_counter()
            while time.perf_counter() - started < args.seconds:
                async with session.post(
                    instances[0][1] + "/api/bookings/", data=body, headers=headers
                ) as response:
                    await response.read()
                    if response.status == 201:
                        booked += 1
                        commits[booked] = time.perf_counter()
                await asyncio.sleep(max(0.0, booked / args.rate - (time.perf_counter() - started)))
            await asyncio.sleep(2)  # let the last states arrive
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        for process, _ in instances:
            process.terminate()
            process.wait(30)
    latencies = [latency for sub in subscribers for latency in sub.latencies]
    messages = sum(sub.messages for sub in subscribers)
    behind = sum(1 for sub in subscribers if sub.seen < booked)
    return {
        "subscribers": args.subscribers,
        "bookings": booked,
        "seconds": args.seconds,
        "messages_delivered": messages,
        "messages_per_second": round(messages / args.seconds, 1),
        "commit_to_receive_p50_ms": round(percentile(latencies, 0.50), 1),
        "commit_to_receive_p99_ms": round(percentile(latencies, 0.99), 1),
        "subscribers_behind_at_end": behind,
        "server_rss_idle_mib": [round(m, 1) for m in idle],
        "server_rss_held_mib": [round(m, 1) for m in held],
        "server_kib_per_connection": round((sum(held) - sum(idle)) * 1024 / args.subscribers, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subscribers", type=int, default=1000, help="10000 for the big run")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=50.0, help="bookings per second")
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
            result = asyncio.run(run(args, dsn, redis.url))
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
