"""The session-end guard finds what a test leaves running (tests/support/leaks.py)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from server.embedded.redis import RedisServer
from tests.support.leaks import leftovers, running


def _pids(roots: list[Path]) -> set[int]:
    return {process.pid for process in leftovers(roots, os.getpid())}


def test_a_child_of_the_session_is_named_until_it_ends(tmp_path: Path) -> None:
    child = subprocess.Popen(["sleep", "60"])
    try:
        found = [p for p in leftovers([tmp_path], os.getpid()) if p.pid == child.pid]
        assert [p.name for p in found] == ["sleep"]
        assert "sleep 60" in found[0].describe()
    finally:
        child.kill()
        child.wait()
    assert child.pid not in _pids([tmp_path])


def test_a_server_working_in_a_session_folder_is_named_by_its_folder(tmp_path: Path) -> None:
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    try:
        # Found by its folder, not by its parent: with a session that has no children, the
        # folder alone names it, and another folder does not.
        [mine] = leftovers([tmp_path], -1)
        assert (mine.name, mine.workdir) == ("redis-server", (tmp_path / "redis").resolve())
        elsewhere = tmp_path.parent / f"{tmp_path.name}-elsewhere"
        elsewhere.mkdir()
        assert leftovers([elsewhere], -1) == []
    finally:
        redis.stop()
    assert leftovers([tmp_path], -1) == []


def test_an_exited_but_unreaped_child_does_not_count(tmp_path: Path) -> None:
    child = subprocess.Popen(["true"])
    try:
        deadline = time.monotonic() + 5
        while _state(child.pid) != "Z":  # it exits at once; until waited for, it is a zombie
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert child.pid not in _pids([tmp_path])
    finally:
        child.wait()


def _state(pid: int) -> str:
    [process] = [p for p in running() if p.pid == pid]
    return process.state
