"""``LOG_FORMAT=json``: a real server process writes one JSON object per line, the access log's
with the request id, route template, status, duration and user; text stays the default."""

from __future__ import annotations

import asyncio
import json
import urllib.request

from tests.support.crowd import make_users
from tests.support.process import ServerProcess

SECRET = "json-logs-" + "j" * 32


def _get(url: str, headers: dict[str, str]) -> int:
    with urllib.request.urlopen(
        urllib.request.Request(url, headers=headers), timeout=5
    ) as response:
        return int(response.status)


async def test_json_logs_one_object_per_line(database_url: str) -> None:
    [fan] = await make_users(database_url, SECRET, 1)
    server = ServerProcess(
        {"DATABASE_URL": database_url, "JWT_SECRET": SECRET, "LOG_FORMAT": "json"}
    )
    server.start()
    try:
        server.wait_healthy()
        headers = {**fan.headers, "X-Request-ID": "trace-42"}
        assert await asyncio.to_thread(_get, server.url + "/api/auth/profile/", headers) == 200
        assert server.stop() == 0
        lines = [line for line in server.output().splitlines() if line.strip()]
    finally:
        server.close()
    entries = [json.loads(line) for line in lines]  # every line is one object
    assert all({"time", "level", "logger", "message"} <= set(e) for e in entries)
    [access] = [e for e in entries if e.get("request_id") == "trace-42"]
    assert access["logger"] == "stampede.access"
    assert (access["method"], access["route"], access["status"]) == (
        "GET",
        "/api/auth/profile",
        200,
    )
    assert access["path"] == "/api/auth/profile/"
    assert access["user_id"] == fan.id
    assert isinstance(access["duration_ms"], float)


async def test_text_stays_the_default(database_url: str) -> None:
    server = ServerProcess({"DATABASE_URL": database_url, "JWT_SECRET": SECRET})
    server.start()
    try:
        server.wait_healthy()
        assert server.stop() == 0
        output = server.output()
    finally:
        server.close()
    assert " INFO stampede" in output
    assert not output.lstrip().startswith("{")
