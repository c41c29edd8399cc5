"""``make run`` and ``python -m server`` leave nothing running after SIGTERM, after SIGINT
(Ctrl-C), and after failing to start: neither the server nor its embedded PostgreSQL."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.embedded.ports import free_port
from server.embedded.postgres import stop_data_dir
from tests.support.leaks import leftovers
from tests.support.process import REPO, ServerProcess

COMMANDS = {"make run": ["make", "--no-print-directory", "run"], "python -m server": None}


class Launched:
    """One start of a command, in a session of its own (as a terminal's foreground job)."""

    def __init__(self, command: str, data_dir: Path, port: int, **env: str) -> None:
        base = ServerProcess({"STAMPEDE_DATA_DIR": str(data_dir), **env}, port=port).env
        argv = COMMANDS[command] or [sys.executable, "-m", "server"]
        self.data_dir = data_dir
        self.port = port
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by cleanup()
        self.process = subprocess.Popen(
            argv, cwd=REPO, env=base, start_new_session=True, stdout=self._log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.pids: set[int] = set()

    def wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/health", timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("not healthy in time")
        # Everything it runs now: make, the server, PostgreSQL (found by its data folder).
        self.pids = {p.pid for p in leftovers([self.data_dir], self.process.pid)}
        self.pids.add(self.process.pid)
        assert any(p.name == "postgres" for p in leftovers([self.data_dir], -1))

    def output(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def still_running(self) -> list[str]:
        """What of it outlived it: its processes, and any server in its data folder."""
        alive = leftovers([self.data_dir], -1)
        alive += [p for p in leftovers([], os.getpid()) if p.pid in self.pids]
        return [p.describe() for p in alive]

    def cleanup(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        stop_data_dir(self.data_dir / "postgres")
        self._log.close()


@pytest.fixture
def launched() -> Iterator[list[Launched]]:
    started: list[Launched] = []
    yield started
    for launch in started:
        launch.cleanup()


def _gone(launch: Launched, timeout: float = 10.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while (left := launch.still_running()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("how", ["SIGTERM", "SIGINT"])
def test_a_stopped_server_leaves_nothing_running(
    command: str, how: str, tmp_path: Path, launched: list[Launched]
) -> None:
    launch = Launched(command, tmp_path / "data", free_port())
    launched.append(launch)
    launch.wait_healthy()
    if how == "SIGINT":  # Ctrl-C: the terminal signals the whole foreground job
        os.killpg(launch.process.pid, signal.SIGINT)
    else:  # SIGTERM to the command itself (make passes it on to the server)
        launch.process.send_signal(signal.SIGTERM)
    launch.process.wait(30)
    assert _gone(launch) == []
    assert not (launch.data_dir / "postgres" / "postmaster.pid").exists()


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("crash", ["port in use", "bad setting", "after the database started"])
def test_a_crash_at_startup_leaves_nothing_running(
    command: str, crash: str, tmp_path: Path, launched: list[Launched]
) -> None:
    data_dir = tmp_path / "data"
    env: dict[str, str] = {}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1] if crash == "port in use" else free_port()
        if crash == "bad setting":
            env["DB_POOL_MAX"] = "many"
        elif crash == "after the database started":
            (data_dir / "jwt-secret").mkdir(parents=True)  # unreadable key: the app fails to start
        launch = Launched(command, data_dir, port, **env)
        launched.append(launch)
        status = launch.process.wait(60)
    assert status != 0
    assert _gone(launch) == [], launch.output()
    if crash == "after the database started":
        assert "embedded PostgreSQL ready" in launch.output()
