"""The locust load test itself runs (briefly): users sign in, book, watch, queue for an on-sale,
and nothing is oversold nor admitted twice. ``make loadtest`` runs it for 60 s."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.process import REPO


@pytest.mark.timeout(180)
def test_the_locust_run_books_watches_and_oversells_nothing(tmp_path: Path) -> None:
    command = [
        sys.executable,
        "loadtest/run_locust.py",
        "--users",
        "15",
        "--seconds",
        "12",
        "--reports",
        str(tmp_path),
    ]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=170)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-5000:]
    assert "0 oversold" in output
    assert (tmp_path / "stampede.html").stat().st_size > 10_000
    with (tmp_path / "stampede_stats.csv").open() as stats:
        rows = {(row["Type"], row["Name"]): row for row in csv.DictReader(stats)}
    assert int(rows[("POST", "/api/bookings/")]["Request Count"]) > 0
    assert int(rows[("WS", "live: booking sent -> new state")]["Request Count"]) > 0
    assert int(rows[("QUEUE", "join -> admitted")]["Request Count"]) > 0
    assert "admitted twice: no; out of order: 0" in output
    assert rows[("", "Aggregated")]["Failure Count"] == "0"
