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
"tickets_held", "tickets_available", "sales_start", "sales_end", "ticket_types": [{"id",
"name", "price", "quantity_available", "quantity_held", "quantity_sold", "is_active",
"on_sale", "sales_start", "sales_end"}]}` (a type's window as it applies: clamped to the
event's); `seq` only grows. Errors are
`{"type": "error", "code", "detail"}`; an unknown event on `/ws/events/{id}` closes with 4404;
shutdown closes with 1001; client messages over 4 KiB close that socket with 1009.

**Holds, limits, sales windows.** `"hold": true` on `POST /api/bookings/` keeps the seats for
the event's `hold_seconds` as a `pending` booking with `expires_at`, to confirm
(`POST /api/bookings/{reference}/confirm/`), extend (`…/extend/`) or cancel; unconfirmed, it
becomes `expired` within a second of `expires_at` and its seats are available again. Events
limit tickets per booking and per customer (confirmed and pending together); events and ticket
types have sales windows (`sales_start`, `sales_end`), outside which booking is `not_on_sale`.
"""
