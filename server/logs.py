"""Logging: text (the default) or one JSON object per line (``LOG_FORMAT=json``), written by a
thread of its own: the event loop only puts records on a queue, so a slow stderr (a full pipe,
a blocked log shipper) never stalls requests."""

from __future__ import annotations

import atexit
import logging
import logging.handlers
import queue
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

__all__ = ["ACCESS_FIELDS", "JsonFormatter", "setup_logging"]

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# What the access log adds to its records (``extra=``), as JSON keys.
ACCESS_FIELDS = ("request_id", "method", "route", "path", "status", "duration_ms", "user_id")


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", …}``: the access log's fields, and a traceback
    as ``exc_info`` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
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


def setup_logging(level: str, log_format: str) -> None:
    """Route every record through a queue to one stderr writer thread (stopped at exit)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    listener = logging.handlers.QueueListener(records, handler, respect_handler_level=True)
    root = logging.getLogger()
    root.handlers[:] = [_HandOver(records)]
    root.setLevel(level)
    listener.start()
    atexit.register(listener.stop)
