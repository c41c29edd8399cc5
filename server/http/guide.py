"""The OpenAPI document's introduction: what the operations alone cannot say."""

from __future__ import annotations

__all__ = ["DESCRIPTION"]

DESCRIPTION = """\
REST paths and JSON shapes follow the reference Django API (kkig/event-booking-api); its
clients work unchanged. Every route answers with and without its trailing slash.

**Errors.** Field errors are `{"<field>": ["message", ...]}`; every other error is
`{"detail": "message", "code": "machine_code"}`.

**Live availability.** `GET /ws/events/{event_id}` (one event) and `GET /ws` (subscribe to
several with `{"op": "subscribe", "event_id": 1}` / `{"op": "unsubscribe", ...}`) are
websockets. The server sends the event's whole availability first, then again after each
committed change (at most one message per event every 50 ms, the last state always sent):
`{"type": "availability", "event_id", "seq", "status", "total_capacity", "tickets_sold",
"tickets_available", "ticket_types": [{"id", "name", "price", "quantity_available",
"quantity_sold", "is_active"}]}`; `seq` only grows. Errors are
`{"type": "error", "code", "detail"}`; an unknown event on `/ws/events/{id}` closes with 4404;
shutdown closes with 1001; client messages over 4 KiB close that socket with 1009.
"""
