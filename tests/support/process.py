"""Run ``python -m server`` as a real process, as ``make run`` does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from server.embedded.ports import free_port
from server.embedded.postgres import stop_data_dir

REPO = Path(__file__).resolve().parents[2]
# Variables of the caller's environment that would change what the server under test does.
_SERVER_VARIABLES = ("DATABASE_URL", "REDIS_URL", "JWT_SECRET", "STAMPEDE_ENV", "STAMPEDE_DATA_DIR")


class ServerProcess:
    """One Stampede server process on a free port."""

    def __init__(self, env: Mapping[str, str], port: int | None = None) -> None:
        self.port = port or free_port()
        base = {k: v for k, v in os.environ.items() if k not in _SERVER_VARIABLES}
        self.env = {**base, "HOST": "127.0.0.1", "PORT": str(self.port), **env}
        self.process: subprocess.Popen[bytes] | None = None
        # A file, not a pipe: a chatty server must never block on a pipe nobody reads.
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server"],
            cwd=REPO,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_healthy(self, timeout: float = 30.0) -> float:
        """Seconds until ``/api/health`` answered 200; fails if the process exits first."""
        assert self.process is not None
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited early:\n{self.output()}")
            try:
                with urllib.request.urlopen(self.url + "/api/health", timeout=1) as response:
                    if response.status == 200:
                        return time.monotonic() - started
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)
        raise AssertionError(f"server not healthy after {timeout} s")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout)

    def output(self) -> str:
        """Everything the process printed so far."""
        assert self._log is not None
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def run_to_exit(self, timeout: float = 30.0) -> tuple[int, str]:
        """Start, wait for the process to end by itself, return its status and output."""
        self.start()
        assert self.process is not None
        try:
            status = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.close()
            raise
        output = self.output()
        self.close()
        return status, output

    def close(self) -> None:
        """End the process if it still runs (SIGTERM, then SIGKILL), stop the embedded
        PostgreSQL it owned if it was killed before it could, and release the log."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and "DATABASE_URL" not in self.env:
            data_dir = REPO / self.env.get("STAMPEDE_DATA_DIR", ".data")
            lock = data_dir / "stampede.lock"  # holds the pid of the server that owns the folder
            if lock.exists() and lock.read_text().strip() == str(self.process.pid):
                stop_data_dir(data_dir / "postgres")
        if self._log is not None:
            self._log.close()
