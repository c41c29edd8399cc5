"""Processes a test run may leave behind, read from /proc.

Two kinds count as left behind: a live descendant of the test session (a server, a browser, a
sink it started), and a ``postgres`` or ``redis-server`` working in one of the session's
temporary folders. The second kind is not a descendant: ``pg_ctl`` daemonizes the postmaster.
Both servers ``chdir`` into their data folder, so a process's working directory tells whose
it is (redis-server rewrites its command line, so the arguments cannot be trusted).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Process", "leftovers", "running", "wait_for_leftovers"]

SERVERS = ("postgres", "redis-server")


@dataclass(frozen=True, slots=True)
class Process:
    pid: int
    parent: int
    state: str  # Z: exited, not yet reaped by its parent
    name: str
    workdir: Path | None
    command: str

    def describe(self) -> str:
        where = f" in {self.workdir}" if self.workdir else ""
        return f"pid {self.pid} {self.name}{where}: {self.command[:200]}"


def _read(pid: int) -> Process | None:
    base = Path("/proc") / str(pid)
    try:
        stat = (base / "stat").read_text()
        # "pid (name) state ppid ...": the name may hold spaces and parentheses.
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        state, parent = stat[stat.rindex(")") + 2 :].split()[:2]
        command = (base / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except (OSError, ValueError):
        return None  # gone meanwhile
    try:
        workdir: Path | None = Path(os.readlink(base / "cwd"))
    except OSError:
        workdir = None
    return Process(pid, int(parent), state, name, workdir, command.strip())


def running() -> list[Process]:
    """Every process of the machine, as /proc shows it now."""
    found = (_read(int(entry.name)) for entry in Path("/proc").iterdir() if entry.name.isdigit())
    return [process for process in found if process is not None]


def _descendants(root: int, processes: Iterable[Process]) -> list[Process]:
    children: dict[int, list[Process]] = {}
    for process in processes:
        children.setdefault(process.parent, []).append(process)
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child.pid)
    return found


def _inside(path: Path | None, roots: Sequence[Path]) -> bool:
    return path is not None and any(path.is_relative_to(root) for root in roots)


def leftovers(roots: Sequence[Path], session: int) -> list[Process]:
    """Live descendants of ``session``, and servers working inside ``roots``."""
    processes = running()
    roots = [root.resolve() for root in roots]
    found = {p.pid: p for p in _descendants(session, processes) if p.state != "Z"}
    for process in processes:
        if process.name in SERVERS and process.state != "Z" and _inside(process.workdir, roots):
            found[process.pid] = process
    return sorted(found.values(), key=lambda p: p.pid)


def wait_for_leftovers(roots: Sequence[Path], session: int, grace: float = 10.0) -> list[Process]:
    """``leftovers``, after giving processes that are shutting down ``grace`` seconds."""
    deadline = time.monotonic() + grace
    while (found := leftovers(roots, session)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return found
