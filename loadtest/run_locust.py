"""``make loadtest``: locust, headless, for a fixed time, with CSV and HTML reports.

Against ``TARGET`` when it is set (a running server, best with RATE_LIMITS=off), else against a
server started here with its own embedded PostgreSQL in a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from server.embedded.ports import free_port

HERE = Path(__file__).resolve().parent
REPORTS = HERE / "reports"


def start_server(data_dir: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "STAMPEDE_DATA_DIR": data_dir,
        "RATE_LIMITS": "off",
        "LOG_LEVEL": "WARNING",
    }
    for variable in ("DATABASE_URL", "REDIS_URL"):
        env.pop(variable, None)
    process = subprocess.Popen([sys.executable, "-m", "server"], cwd=HERE.parent, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/api/health", timeout=1):
                return process, url
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not start")


def run_locust(host: str, users: int, spawn_rate: int, seconds: int, reports: Path) -> int:
    reports.mkdir(parents=True, exist_ok=True)
    command = [
        str(Path(sys.executable).with_name("locust")),
        "-f", str(HERE / "locustfile.py"),
        "--headless", "--only-summary",
        "--users", str(users), "--spawn-rate", str(spawn_rate), "--run-time", f"{seconds}s",
        "--host", host,
        "--csv", str(reports / "stampede"), "--html", str(reports / "stampede.html"),
        "--stop-timeout", "10",
    ]  # fmt: skip
    # The on-sale scenario opens its sales a quarter into the run: fans queue before that.
    env = {"ONSALE_AFTER": str(max(3.0, seconds / 4)), **os.environ}
    return subprocess.call(command, env=env)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=int(os.environ.get("USERS", 60)))
    parser.add_argument("--spawn-rate", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("DURATION", 60)))
    parser.add_argument("--reports", type=Path, default=REPORTS)
    args = parser.parse_args()
    settings = (args.users, args.spawn_rate, args.seconds, args.reports)
    target = os.environ.get("TARGET")
    if target:
        status = run_locust(target.rstrip("/"), *settings)
    else:
        with tempfile.TemporaryDirectory(prefix="stampede-loadtest-") as data:
            process, url = start_server(data)
            try:
                status = run_locust(url, *settings)
            finally:
                process.terminate()
                process.wait(30)
    print(
        f"reports: {args.reports / 'stampede.html'}, {args.reports}/stampede_*.csv (exit {status})"
    )
    return status


if __name__ == "__main__":
    sys.exit(main())
