"""The JSON log format: one object per line, the access log's fields, a traceback kept apart."""

from __future__ import annotations

import logging
import sys

import orjson

from server.logs import JsonFormatter


def test_a_record_with_a_traceback_and_access_fields() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "stampede.errors", logging.ERROR, __file__, 1, "failed %s", ("x",), exc_info
    )
    record.__dict__.update({"request_id": "r-1", "status": 500, "user_id": None})
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = orjson.loads(line)
    assert (entry["level"], entry["logger"], entry["message"]) == (
        "ERROR",
        "stampede.errors",
        "failed x",
    )
    assert (entry["request_id"], entry["status"], entry["user_id"]) == ("r-1", 500, None)
    assert entry["exc_info"].startswith("Traceback")
    assert "RuntimeError: boom" in entry["exc_info"]
