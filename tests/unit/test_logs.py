"""The JSON log format: one object per line, the access log's fields, a traceback kept apart."""

from __future__ import annotations

import io
import logging
import queue
import sys
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from server.logs import TEXT_FORMAT, JsonFormatter, TextFormatter, _Writer


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


def _record(created: float, message: str = "hello %s", args: tuple[object, ...] = ("x",)) -> Any:
    record = logging.LogRecord("stampede.access", logging.INFO, __file__, 1, message, args, None)
    record.created, record.msecs = created, int((created - int(created)) * 1000) + 0.0
    return record


def test_timestamps_read_as_the_stock_formats_do() -> None:
    stock, text, json_format = logging.Formatter(TEXT_FORMAT), TextFormatter(), JsonFormatter()
    for created in (1764579461.123, 1764579461.999, 1764579462.0, 1764579462.5):  # one second, next
        record = _record(created)
        assert text.format(record) == stock.format(record)
        iso = datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
        assert orjson.loads(json_format.format(record))["time"] == iso


class _Stderr(io.StringIO):
    log_writes = 0  # writes of log lines (a logging error's report is written in pieces)

    def write(self, text: str) -> int:
        self.log_writes += "stampede.access" in text
        return super().write(text)


def test_the_writer_writes_what_waits_in_one_write_and_keeps_going_past_a_bad_record(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stderr = _Stderr()
    monkeypatch.setattr(sys, "stderr", stderr)
    records: queue.SimpleQueue[logging.LogRecord | None] = queue.SimpleQueue()
    for n in range(300):
        records.put(_record(1764579461.0 + n / 1000, "line %d", (n,)))
    records.put(_record(1764579462.0, "bad %d", ("not a number",)))
    records.put(_record(1764579462.0, "after the bad one", ()))
    writer = _Writer(records, TextFormatter())
    writer.start()
    writer.stop()
    lines = stderr.getvalue().splitlines()
    written = [line for line in lines if "stampede.access" in line]
    assert [line.rsplit(": ", 1)[1] for line in written] == [
        *(f"line {n}" for n in range(300)), "after the bad one",
    ]  # fmt: skip
    assert any("Logging error" in line for line in lines)  # the bad one is reported
    assert stderr.log_writes == 1  # everything that was waiting went in one write
