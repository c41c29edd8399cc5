"""Hot-event on-sale benchmark: C attendees booking one ticket each of ONE event, for T seconds.

Runs the same load against a server with batching (BOOKING_BATCH_MAX=256) and one without
(BOOKING_BATCH_MAX=1: a plain per-request FOR UPDATE transaction), in the same run, on a
private embedded PostgreSQL; prints bookings/s and latency percentiles, checks that nothing
was oversold, and writes the raw figures as JSON.

    .venv/bin/python loadtest/bench_booking.py [--seconds 10] [--clients 16,64,256] [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

import aiohttp
import asyncpg

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from seed import SECRET, access_token, attendees, new_tag, organizer  # noqa: E402

from server.embedded.ports import free_port  # noqa: E402
from server.embedded.postgres import start_postgres, stop_postgres  # noqa: E402
from server.embedded.redis import RedisServer  # noqa: E402

STOCK = 10_000_000


@dataclass
class Run:
    mode: str
    batch_max: int
    clients: int
    seconds: float
    bookings: int
    errors: int
    rejected: int
    per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    sold: int
    cpu_us: float = 0.0  # the server processes' CPU time per booking, in microseconds


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    """One Stampede process on a free port, started and answering /api/health (``bare``:
    the ceiling, loadtest/bare_server.py, instead)."""

    def __init__(
        self, dsn: str, bare: bool = False, log: Path | None = None, **settings: str
    ) -> None:
        self.port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": dsn,
            "PORT": str(self.port),
            "JWT_SECRET": SECRET,
            "RATE_LIMITS": "off",
            "LOG_LEVEL": "WARNING",
            **settings,
        }
        command = [sys.executable, "-m", "server"]
        if bare:
            command = [sys.executable, str(REPO / "loadtest" / "bare_server.py")]
            command += ["--port", str(self.port)]
        output = log.open("ab") if log is not None else None  # the access log, when on
        self.process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT if log else None
        )
        if output is not None:
            output.close()  # the child has its own copy
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/api/health", timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)

    @staticmethod
    def migrate(dsn: str) -> str:
        """Apply the migrations to ``dsn``; what ``--migrate`` printed."""
        done = subprocess.run(
            [sys.executable, "-m", "server", "--migrate"], cwd=REPO,
            env={**os.environ, "DATABASE_URL": dsn}, capture_output=True, text=True, check=True,
        )  # fmt: skip
        return done.stdout.strip()


async def prepare(dsn: str, attendees_count: int) -> tuple[int, int, list[str]]:
    """An event with one huge ticket type, and ``attendees_count`` accounts with tokens."""
    conn = await asyncpg.connect(dsn)
    try:
        tag = new_tag()
        event = await conn.fetchval(
            "INSERT INTO events (organizer_id, name, location, start_time, total_capacity) "
            "VALUES ($1, 'Hot on-sale', 'Arena', now() + interval '30 days', $2) RETURNING id",
            await organizer(conn, tag), STOCK,
        )  # fmt: skip
        ticket = await conn.fetchval(
            "INSERT INTO ticket_types (event_id, name, price, quantity_available) "
            "VALUES ($1, 'GA', 49.00, $2) RETURNING id",
            event, STOCK,
        )  # fmt: skip
        ids = await attendees(conn, tag, attendees_count)
    finally:
        await conn.close()
    tokens = [access_token(user_id) for user_id in ids]
    return event, ticket, tokens


@dataclass
class Load:
    """What one load run saw: answers by kind, and latency of the bookings (ms)."""

    created: int
    rejected: int
    failed: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float


def hammer_wrk(
    url: str, event: int, ticket: int, tokens: list[str], seconds: float, clients: int = 0
) -> Load:
    """The load from wrk (C, two threads): it leaves the CPU to the server it measures.
    ``clients`` connections (default: one per token) cycle through the tokens."""
    with tempfile.NamedTemporaryFile("w", suffix=".tokens") as token_file:
        token_file.write("\n".join(tokens) + "\n")
        token_file.flush()
        command = [
            "wrk", "-t2", f"-c{clients or len(tokens)}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
            "-s", str(REPO / "loadtest" / "booking.lua"), url,
            "--", token_file.name, str(event), str(ticket),
        ]  # fmt: skip
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("STAMPEDE "))
    figures = json.loads(line.removeprefix("STAMPEDE "))
    return Load(
        figures["created"], figures["rejected"], figures["failed"] + figures["socket_errors"],
        figures["seconds"], figures["p50_ms"], figures["p95_ms"], figures["p99_ms"], figures["max_ms"],
    )  # fmt: skip


async def hammer_aiohttp(
    url: str, event: int, ticket: int, tokens: list[str], seconds: float
) -> Load:
    """The same load from Python (aiohttp), where wrk is not installed: it takes CPU from the
    server, so its figures are lower than the server can do."""
    body = json.dumps({"event_id": event, "items": [{"ticket_type_id": ticket, "quantity": 1}]})
    latencies: list[float] = []
    errors = rejected = 0
    connector = aiohttp.TCPConnector(limit=len(tokens))
    async with aiohttp.ClientSession(connector=connector) as session:
        deadline = time.perf_counter() + seconds

        async def attendee(token: str) -> None:
            nonlocal errors, rejected
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            while (started := time.perf_counter()) < deadline:
                async with session.post(
                    url + "/api/bookings/", data=body, headers=headers
                ) as response:
                    await response.read()
                    if response.status == 201:
                        latencies.append(time.perf_counter() - started)
                    elif response.status == 400:
                        rejected += 1
                    else:
                        errors += 1

        await asyncio.gather(*(attendee(t) for t in tokens))
    return Load(
        len(latencies), rejected, errors, seconds,
        percentile(latencies, 0.50), percentile(latencies, 0.95), percentile(latencies, 0.99),
        max(latencies, default=0) * 1000,
    )  # fmt: skip


async def sold(dsn: str, event: int, ticket: int) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(
            "SELECT e.tickets_sold, e.total_capacity, t.quantity_sold, t.quantity_available, "
            "(SELECT count(*) FROM bookings WHERE event_id = e.id AND status = 'confirmed') AS bookings "
            "FROM events e JOIN ticket_types t ON t.event_id = e.id WHERE e.id = $1 AND t.id = $2",
            event, ticket,
        )  # fmt: skip
    finally:
        await conn.close()
    assert row["tickets_sold"] == row["quantity_sold"] == row["bookings"], dict(row)
    assert row["tickets_sold"] <= row["total_capacity"]
    assert row["quantity_available"] + row["quantity_sold"] == STOCK
    return int(row["tickets_sold"])


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


@dataclass(frozen=True)
class Mode:
    """How the server under load is run."""

    batch_max: int = 256
    settings: tuple[tuple[str, str], ...] = ()
    instances: int = 1
    operators: bool = False  # Redis, SMTP delivery of every mail, the access log on (to a file)
    # Attendees per client connection: with rate limits on, enough of them that none goes over
    # its limit (300 bookings a minute), as in a real on-sale.
    users_per_client: int = 1
    bare: bool = False  # loadtest/bare_server.py: the HTTP stack's ceiling, no Stampede at all


MODES = {
    "ceiling": Mode(bare=True),
    "batched": Mode(),
    "metrics-off": Mode(settings=(("METRICS", "off"),)),
    "operators": Mode(operators=True),
    "two-instances": Mode(instances=2, operators=True),
    "rate-limits": Mode(settings=(("RATE_LIMITS", "on"),), operators=True, users_per_client=20),
    "per-request": Mode(batch_max=1),
}


@dataclass(frozen=True)
class Services:
    """What the operators' setting adds: a Redis and an SMTP server that takes every mail."""

    redis_url: str
    smtp_url: str
    logs: Path

    def settings(self) -> dict[str, str]:
        return {"REDIS_URL": self.redis_url, "SMTP_URL": self.smtp_url, "LOG_LEVEL": "INFO"}


def combined(loads: list[Load]) -> Load:
    """Two instances' loads as one: counts added, percentiles the worse of the two."""
    return Load(
        sum(x.created for x in loads), sum(x.rejected for x in loads),
        sum(x.failed for x in loads), max(x.seconds for x in loads),
        max(x.p50_ms for x in loads), max(x.p95_ms for x in loads),
        max(x.p99_ms for x in loads), max(x.max_ms for x in loads),
    )  # fmt: skip


async def measure(
    dsn: str, name: str, clients: int, seconds: float, services: Services | None
) -> Run:
    mode = MODES[name]
    event, ticket, tokens = await prepare(dsn, clients * mode.users_per_client)
    settings = {"BOOKING_BATCH_MAX": str(mode.batch_max), **dict(mode.settings)}
    if mode.operators:
        assert services is not None
        settings.update(services.settings())
    log = services.logs / f"{name}-{clients}.log" if services and mode.operators else None
    servers = [Server(dsn, bare=mode.bare, log=log, **settings) for _ in range(mode.instances)]
    shares = [tokens[i :: mode.instances] for i in range(mode.instances)]
    try:
        for server, share in zip(servers, shares, strict=True):
            await hammer_aiohttp(server.url, event, ticket, share[:8], 1.0)  # warm up
        cpu_before = sum(cpu_seconds(server.process.pid) for server in servers)
        if shutil.which("wrk"):
            load = combined(await asyncio.gather(*(
                asyncio.to_thread(
                    hammer_wrk, server.url, event, ticket, share, seconds, clients // mode.instances
                )
                for server, share in zip(servers, shares, strict=True)
            )))  # fmt: skip
        else:
            load = combined(await asyncio.gather(*(
                hammer_aiohttp(server.url, event, ticket, share, seconds)
                for server, share in zip(servers, shares, strict=True)
            )))  # fmt: skip
        cpu = sum(cpu_seconds(server.process.pid) for server in servers) - cpu_before
    finally:
        for server in servers:
            server.stop()
    total = await sold(dsn, event, ticket)
    return Run(
        name, mode.batch_max, clients, round(load.seconds, 2), load.created, load.failed,
        load.rejected, round(load.created / load.seconds, 1), round(load.p50_ms, 2),
        round(load.p95_ms, 2), round(load.p99_ms, 2), round(load.max_ms, 2), total,
        round(cpu / max(load.created, 1) * 1e6, 1),
    )  # fmt: skip


async def unsent(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL"))
    finally:
        await conn.close()


def table(runs: list[Run]) -> str:
    lines = [
        f"{'mode':<15}{'clients':>8}{'bookings/s':>12}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'errors':>8}{'CPU us/bk':>11}  oversold",
    ]
    for run in runs:
        lines.append(
            f"{run.mode:<15}{run.clients:>8}{run.per_second:>12.0f}{run.p50_ms:>9.1f}{run.p95_ms:>9.1f}"
            f"{run.p99_ms:>9.1f}{run.errors:>8}{run.cpu_us:>11.0f}  no ({run.sold} sold, counters agree)"
        )
    return "\n".join(lines)


def ratios(runs: list[Run], levels: list[int]) -> str:
    """Batching against none, and the metrics' cost, per client level (those that ran)."""
    lines = []
    for clients in levels:
        by_mode = {r.mode: r.per_second for r in runs if r.clients == clients}
        for mode in ("batched", "operators", "two-instances", "rate-limits"):
            if mode in by_mode and "ceiling" in by_mode:
                ratio = by_mode[mode] / max(by_mode["ceiling"], 0.1)
                lines.append(f"{clients:>4} clients: {mode} / ceiling = {ratio:.2f}")
        if "batched" in by_mode and "per-request" in by_mode:
            ratio = by_mode["batched"] / max(by_mode["per-request"], 0.1)
            lines.append(f"{clients:>4} clients: batched / per-request = {ratio:.1f}x")
        cpu = {r.mode: r.cpu_us for r in runs if r.clients == clients}
        if "batched" in by_mode and "metrics-off" in by_mode:
            ratio = by_mode["batched"] / max(by_mode["metrics-off"], 0.1)
            extra = cpu["batched"] / max(cpu["metrics-off"], 0.1) - 1
            lines.append(
                f"{clients:>4} clients: metrics on / off = {ratio:.3f} bookings/s; "
                f"server CPU per booking {extra * 100:+.1f}% (target within 5%)"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", default="16,64,256")
    parser.add_argument(
        "--modes",
        default=",".join(MODES),
        help="which of ceiling (bare aiohttp), batched, metrics-off (batched, METRICS=off), "
        "operators (Redis, SMTP, access log), two-instances, rate-limits (operators with "
        "RATE_LIMITS=on), per-request to run",
    )
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "bench" / "booking.json")
    args = parser.parse_args()
    levels = [int(c) for c in args.clients.split(",")]
    modes = [mode for mode in MODES if mode in args.modes.split(",")]
    generator = "wrk" if shutil.which("wrk") else "Python aiohttp (install wrk for better figures)"
    print(f"load generator: {generator}; {args.seconds:g} s per run")
    with tempfile.TemporaryDirectory(
        prefix="stampede-bench-", dir=REPO / ".data" if (REPO / ".data").exists() else None
    ) as tmp:
        server = start_postgres(Path(tmp) / "postgres")
        redis = RedisServer(Path(tmp) / "redis")
        smtp_port = free_port()
        smtp = subprocess.Popen(
            [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{smtp_port}",
             "-c", "aiosmtpd.handlers.Sink"],
        )  # fmt: skip
        try:
            redis.start()
            services = Services(redis.url, f"smtp://127.0.0.1:{smtp_port}", Path(tmp))
            dsn = str(server.get_uri())
            print(Server.migrate(dsn))
            runs = []
            for clients in levels:
                for mode in modes:
                    run = asyncio.run(measure(dsn, mode, clients, args.seconds, services))
                    print(
                        f"  {mode:<15} {clients:>4} clients: {run.per_second:>7.0f} bookings/s, p99 {run.p99_ms:.1f} ms",
                        flush=True,
                    )
                    runs.append(run)
            print(f"  outbox: {asyncio.run(unsent(dsn))} mails not yet sent at the end")
        finally:
            smtp.terminate()
            redis.stop()
            stop_postgres(server)
    print()
    print(table(runs))
    print()
    print(ratios(runs, levels))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    machine = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    args.out.write_text(
        json.dumps({"machine": machine, "runs": [asdict(r) for r in runs]}, indent=2) + "\n"
    )
    print(f"\nraw figures: {args.out}")


if __name__ == "__main__":
    main()
