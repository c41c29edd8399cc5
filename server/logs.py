"""Logging: text (the default) or one JSON object per line (``LOG_FORMAT=json``), written by a
thread of its own: the event loop only puts records on a queue, so a slow stderr (a full pipe,
a blocked log shipper) never stalls requests. The thread writes what has queued up in one
write (an on-sale's access log is thousands of lines a second), and formats each second's
timestamp once."""

from __future__ import annotations

import atexit
import logging
import logging.handlers
import queue
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any

import orjson

__all__ = ["ACCESS_FIELDS", "JsonFormatter", "setup_logging"]

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# What the access log adds to its records (``extra=``), as JSON keys.
ACCESS_FIELDS = ("request_id", "method", "route", "path", "status", "duration_ms", "user_id")


class _Seconds:
    """A timestamp's whole seconds, formatted once per second (records come in order)."""

    def __init__(self, render: Any) -> None:
        self._render = render
        self._second, self._text = -1, ""

    def __call__(self, second: int) -> str:
        if second != self._second:
            self._second, self._text = second, self._render(second)
        return self._text


class TextFormatter(logging.Formatter):
    """``TEXT_FORMAT`` with the stock timestamp (local time, ``2026-12-01 08:57:41,123``)."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)
        self._seconds = _Seconds(lambda s: time.strftime("%Y-%m-%d %H:%M:%S", self.converter(s)))

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return f"{self._seconds(int(record.created))},{int(record.msecs):03d}"


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", …}``: the access log's fields, and a traceback
    as ``exc_info`` when there is one."""

    def __init__(self) -> None:
        super().__init__()
        self._seconds = _Seconds(
            lambda s: datetime.fromtimestamp(s, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        )

    def format(self, record: logging.LogRecord) -> str:
        second, micros = divmod(round(record.created * 1e6), 1_000_000)  # as datetime rounds
        entry: dict[str, Any] = {
            "time": f"{self._seconds(second)}.{micros // 1000:03d}+00:00",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in ACCESS_FIELDS:
            if name in record.__dict__:
                entry[name] = record.__dict__[name]
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


class _HandOver(logging.handlers.QueueHandler):
    """Hands each record over as it is: formatting (the message, a traceback) happens in the
    writer thread, not on the event loop (the stock handler formats first, for pickling)."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record


class _Writer(threading.Thread):
    """Takes the records off the queue and writes every one waiting in one write and flush."""

    BATCH = 1024

    def __init__(
        self, records: queue.SimpleQueue[logging.LogRecord | None], formatter: logging.Formatter
    ) -> None:
        super().__init__(name="log-writer", daemon=True)
        self._records, self._formatter = records, formatter
        self._errors = logging.Handler()  # reports a failed write the way logging does

    def run(self) -> None:
        while (record := self._records.get()) is not None:
            batch = [record]
            while len(batch) < self.BATCH:
                try:
                    record = self._records.get_nowait()
                except queue.Empty:
                    break
                if record is None:
                    self._write(batch)
                    return
                batch.append(record)
            self._write(batch)

    def _write(self, records: list[logging.LogRecord]) -> None:
        lines = []
        for record in records:
            try:
                lines.append(f"{self._formatter.format(record)}\n")
            except Exception:  # a bad record (its arguments): said, and the others written
                self._errors.handleError(record)
        try:
            sys.stderr.write("".join(lines))
            sys.stderr.flush()
        except Exception:
            self._errors.handleError(records[0])

    def stop(self) -> None:
        self._records.put(None)
        self.join()


def setup_logging(level: str, log_format: str) -> None:
    """Route every record through a queue to one stderr writer thread (stopped at exit)."""
    records: queue.SimpleQueue[logging.LogRecord | None] = queue.SimpleQueue()
    writer = _Writer(records, JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [_HandOver(records)]
    root.setLevel(level)
    writer.start()
    atexit.register(writer.stop)
