"""``python -m server createsuperuser`` (and ``make createsuperuser``): an admin account from the
command line, with the registration's checks; next to a running server on its embedded
PostgreSQL too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.support.api import PASSWORD
from tests.support.process import REPO, ServerProcess

VARIABLES = ("DATABASE_URL", "REDIS_URL", "STAMPEDE_DATA_DIR", "STAMPEDE_SUPERUSER_PASSWORD")


def _create(*args: str, **env: str) -> tuple[int, str]:
    base = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    done = subprocess.run(
        [sys.executable, "-m", "server", "createsuperuser", *args],
        cwd=REPO, env={**base, **env}, capture_output=True, text=True, timeout=120,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    return done.returncode, done.stdout + done.stderr


def _login(url: str, username: str) -> dict[str, str]:
    body = json.dumps({"username": username, "password": PASSWORD}).encode()
    request = urllib.request.Request(
        url + "/api/auth/login/", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        tokens: dict[str, str] = json.loads(response.read())
    return tokens


def _role(url: str, access: str) -> str:
    request = urllib.request.Request(
        url + "/api/auth/profile/", headers={"Authorization": f"Bearer {access}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        role: str = json.loads(response.read())["role"]
    return role


def test_non_interactive_with_the_password_from_the_environment(database_url: str) -> None:
    status, output = _create(
        "--username", "root", "--email", "root@example.org",
        DATABASE_URL=database_url, STAMPEDE_SUPERUSER_PASSWORD=PASSWORD,
    )  # fmt: skip
    assert (status, "superuser root created") == (0, output.strip().split(" (")[0])
    status, output = _create(
        "--username", "root", "--email", "other@example.org",
        DATABASE_URL=database_url, STAMPEDE_SUPERUSER_PASSWORD=PASSWORD,
    )  # fmt: skip
    assert status == 3
    assert "username: A user with that username already exists." in output


def test_what_is_missing_or_weak_is_named_and_nothing_is_made(database_url: str) -> None:
    status, output = _create("--username", "root", DATABASE_URL=database_url)
    assert status == 3
    assert "STAMPEDE_SUPERUSER_PASSWORD" in output
    status, output = _create(
        "--username", "root", "--email", "root@example.org",
        DATABASE_URL=database_url, STAMPEDE_SUPERUSER_PASSWORD="password",
    )  # fmt: skip
    assert status == 3
    assert "password: " in output
    assert "Traceback" not in output


def test_next_to_a_running_server_on_its_embedded_database(tmp_path: Path) -> None:
    server = ServerProcess({"STAMPEDE_DATA_DIR": str(tmp_path / "data")})
    server.start()
    try:
        server.wait_healthy(60)
        status, output = _create(
            "--username", "boss", "--email", "boss@example.org",
            STAMPEDE_DATA_DIR=str(tmp_path / "data"), STAMPEDE_SUPERUSER_PASSWORD=PASSWORD,
        )  # fmt: skip
        assert status == 0, output
        tokens = _login(server.url, "boss")
        assert _role(server.url, tokens["access"]) == "admin"
    finally:
        server.close()
