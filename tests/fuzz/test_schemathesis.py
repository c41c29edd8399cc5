"""A short schemathesis run inside the test suite (``make fuzz`` runs the long one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fuzz.schemathesis_run import run


@pytest.mark.timeout(600)
def test_fuzzing_finds_no_server_error_and_no_schema_violation(tmp_path: Path) -> None:
    results = run(max_examples=10, max_time=25, workdir=tmp_path)
    assert [role for role, _, _ in results] == ["organizer", "attendee"]
    for role, status, report in results:
        assert status == 0, f"as {role}:\n{report}"
        assert "passed" in report
