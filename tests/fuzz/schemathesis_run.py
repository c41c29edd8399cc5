"""Schemathesis against a live Stampede, driven by the server's own OpenAPI document.

``make fuzz`` runs it long (``python -m tests.fuzz.schemathesis_run --max-time 600``); the test
suite runs it short (tests/fuzz/test_schemathesis.py). It starts a server of its own (with its
own embedded PostgreSQL), makes an organizer, an attendee, an event with a ticket type and a
booking so that ids in paths can name real things, then fuzzes every operation as each user.
Checks: no 5xx, and every status, content type, header and body as the document declares.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

from tests.support.process import ServerProcess

CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_headers_conformance,response_schema_conformance"
)
# Operations that end the fuzzing user's session (the rest of the run would be anonymous).
EXCLUDED = ("deactivate-account",)


def _call(base: str, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
    request = urllib.request.Request(
        base + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"}
        | ({"Authorization": f"Bearer {token}"} if token else {}),
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def seed(base: str) -> dict[str, str]:
    """Two users with something of their own; returns their access tokens by role."""
    tokens = {}
    for role in ("organizer", "attendee"):
        account = {
            "username": f"fuzz-{role}",
            "email": f"{role}@fuzz.example",
            "password": "Fuzzing-is-fun-42",
            "role": role,
        }
        _call(base, "POST", "/api/auth/register/", account)
        tokens[role] = _call(base, "POST", "/api/auth/login/", account)["access"]
    event = _call(
        base, "POST", "/api/events/",
        {"name": "Fuzz Fest", "location": "Here", "start_time": "2031-01-01T18:00:00Z", "total_capacity": 500},
        tokens["organizer"],
    )  # fmt: skip
    ticket = _call(
        base, "POST", f"/api/events/{event['id']}/ticket-types/",
        {"name": "GA", "price": "10.00", "quantity_available": 400}, tokens["organizer"],
    )  # fmt: skip
    _call(
        base, "POST", "/api/bookings/",
        {"event_id": event["id"], "items": [{"ticket_type_id": ticket["id"], "quantity": 1}]},
        tokens["attendee"],
    )  # fmt: skip
    return tokens


def fuzz(
    base: str, token: str, max_examples: int, max_time: int, seed_value: int | None
) -> tuple[int, str]:
    command = [
        str(Path(sys.executable).with_name("st")), "run", f"{base}/api/schema",
        "--checks", CHECKS,
        "--phases", "examples,coverage,fuzzing,stateful",
        "--header", f"Authorization: Bearer {token}",
        "--max-examples", str(max_examples),
        "--max-time", str(max_time),
        "--workers", "1",  # hypothesis' lambda reflection is not thread-safe on CPython 3.11
        "--request-timeout", "10",
        "--exclude-operation-id", ",".join(EXCLUDED),
        "--suppress-health-check", "all",
        "--no-color",
    ]  # fmt: skip
    if seed_value is not None:
        command += ["--seed", str(seed_value)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=max_time * 3 + 120)
    return done.returncode, done.stdout + done.stderr


def run(
    max_examples: int, max_time: int, seed_value: int | None = None, workdir: Path | None = None
) -> list[tuple[str, int, str]]:
    """Start a server (its data in a temporary folder under ``workdir``), seed it, fuzz as each
    user; (role, exit status, report) per run."""
    with tempfile.TemporaryDirectory(prefix="stampede-fuzz-", dir=workdir) as data:
        server = ServerProcess(
            {"STAMPEDE_DATA_DIR": data, "RATE_LIMITS": "off", "LOG_LEVEL": "WARNING"}
        )
        server.start()
        try:
            server.wait_healthy(timeout=60)
            tokens = seed(server.url)
            results = []
            for role, token in tokens.items():
                status, report = fuzz(server.url, token, max_examples, max_time, seed_value)
                if status != 0:  # the server's side of it: tracebacks of any 500
                    report += "\n----- server log -----\n" + server.output()[-20_000:]
                results.append((role, status, report))
            return results
        finally:
            server.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-examples", type=int, default=100)
    parser.add_argument("--max-time", type=int, default=300, help="seconds per user")
    parser.add_argument("--seed", type=int)
    args = parser.parse_args()
    failed = False
    for role, status, report in run(args.max_examples, args.max_time, args.seed):
        print(f"===== as {role}: exit {status}\n{report}")
        failed = failed or status != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
