from __future__ import annotations

from pathlib import Path

import pytest

from server.db import Queries, load_migrations
from server.errors import StartupError


def test_loads_named_blocks(tmp_path: Path) -> None:
    (tmp_path / "a.sql").write_text(
        "-- name: first\nSELECT 1;\n\n-- name: second\nSELECT $1::int\n  + 1;\n"
    )
    (tmp_path / "b.sql").write_text("-- name: third\nSELECT 3;\n")
    queries = Queries.load(tmp_path)
    assert dict(queries) == {
        "first": "SELECT 1;",
        "second": "SELECT $1::int\n  + 1;",
        "third": "SELECT 3;",
    }


def test_a_name_defined_twice_fails(tmp_path: Path) -> None:
    (tmp_path / "a.sql").write_text("-- name: same\nSELECT 1;\n")
    (tmp_path / "b.sql").write_text("-- name: same\nSELECT 2;\n")
    with pytest.raises(StartupError, match="'same' is defined twice"):
        Queries.load(tmp_path)


def test_require_names_the_missing_queries() -> None:
    queries = Queries({"present": "SELECT 1"})
    queries.require("present")
    with pytest.raises(StartupError, match="missing SQL queries: absent, gone"):
        queries.require("present", "gone", "absent")


def test_the_project_queries_load() -> None:
    Queries.load().require("ping")


def test_migration_files_must_be_numbered(tmp_path: Path) -> None:
    (tmp_path / "init.sql").write_text("SELECT 1;")
    with pytest.raises(StartupError, match=r"0001_name\.sql"):
        load_migrations(tmp_path)


def test_migrations_come_in_version_order(tmp_path: Path) -> None:
    for name in ("0002_second.sql", "0010_tenth.sql", "0001_first.sql"):
        (tmp_path / name).write_text("SELECT 1;")
    assert [m.version for m in load_migrations(tmp_path)] == ["0001", "0002", "0010"]
