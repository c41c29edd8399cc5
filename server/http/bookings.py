"""``/api/bookings/…``, ``/api/users/me/bookings`` and ``/api/events/{id}/bookings``."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import orjson
from aiohttp import web

from server.auth import require_role
from server.booking.commands import BookTickets
from server.booking.outcomes import Booked, Cancelled, NotDone, Outcome, Reason, Refused
from server.booking.rules import BOOKING_NOT_FOUND, INVALID_TYPES
from server.bookings import BookingFilters
from server.errors import ApiError, FieldErrors, NotFound, PermissionDenied, ServiceUnavailable
from server.http.body import read_json_object
from server.http.events import path_id
from server.http.pagination import Page, paginated
from server.http.throttle import throttle
from server.http.validation import MAX_ID, DateTime, Integer, Invalid, ListOf, Schema, parse_id
from server.jsonio import json_response
from server.keys import bookings_key, events_key
from server.ratelimit import BOOKING_PER_USER
from server.render import receipt_json
from server.users import ATTENDEE, ORGANIZER

__all__ = ["BOOKING", "BOOKING_STATUSES", "IDEMPOTENCY_HEADER"]

MAX_ITEMS = 100
BOOKING_STATUSES = ("pending", "confirmed", "cancelled")
IDEMPOTENCY_HEADER = "Idempotency-Key"

BOOKING = Schema(
    {
        "event_id": Integer(minimum=1, maximum=MAX_ID),
        "items": ListOf(
            item=Schema(
                {
                    "ticket_type_id": Integer(minimum=1, maximum=MAX_ID),
                    "quantity": Integer(minimum=1),
                }
            ),
            allow_empty=False,
            max_items=MAX_ITEMS,
        ),
    }
)
CREATED_AT = DateTime()
# A refusal is a 400, as in the reference, but for these.
REFUSAL_STATUS = {Reason.BOOKING_NOT_FOUND: 404, Reason.KEY_IN_USE: 409, Reason.KEY_REUSED: 422}


class BookingRefused(ApiError):
    """A command the booking rules refused: ``{"detail", "code"}``, plus the reference's
    ``non_field_errors`` for ticket types that are not the event's."""

    def __init__(self, refusal: Refused) -> None:
        status = REFUSAL_STATUS.get(refusal.reason, 400)
        super().__init__(refusal.detail, code=refusal.reason.value, status=status)

    def body(self) -> dict[str, Any]:
        body = super().body()
        if self.code == Reason.INVALID_TICKET_TYPES:
            body["non_field_errors"] = [self.detail]
        return body


def answered(outcome: Outcome) -> Booked | Cancelled:
    """What was done; raises the HTTP error of a refusal or of a command not done."""
    if isinstance(outcome, Refused):
        raise BookingRefused(outcome)
    if isinstance(outcome, NotDone):
        raise ServiceUnavailable(
            outcome.detail, code=outcome.kind.value, headers={"Retry-After": "1"}
        )
    return outcome


def _reference(request: web.Request) -> uuid.UUID:
    try:
        return uuid.UUID(request.match_info["reference"])
    except ValueError:
        raise NotFound(BOOKING_NOT_FOUND) from None


def _idempotency_key(request: web.Request) -> str | None:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not 1 <= len(key) <= 255 or not key.isprintable() or not key.isascii():
        raise ApiError(
            "Idempotency-Key must be 1 to 255 printable ASCII characters.",
            code="invalid_idempotency_key",
        )
    return key


def _command(user_id: int, data: dict[str, Any], key: str | None) -> BookTickets:
    items = tuple((item["ticket_type_id"], item["quantity"]) for item in data["items"])
    if len({type_id for type_id, _ in items}) != len(items):
        raise BookingRefused(Refused(Reason.INVALID_TICKET_TYPES, INVALID_TYPES))
    if key is None:
        return BookTickets(user_id, items)
    digest = hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).digest()
    return BookTickets(user_id, items, key, digest)


async def create_booking(request: web.Request) -> web.Response:
    user = require_role(request, ATTENDEE)
    await throttle(request, BOOKING_PER_USER, str(user.id))
    data = BOOKING.validate(await read_json_object(request))
    command = _command(user.id, data, _idempotency_key(request))
    bookings = request.app[bookings_key]
    booked = answered(await bookings.place(data["event_id"], command))
    assert isinstance(booked, Booked)
    if booked.receipt is not None:
        return json_response(receipt_json(booked.receipt), status=201)
    [detail] = await bookings.details([booked.reference])  # an earlier request's booking
    return json_response(detail, status=201, headers={"Idempotent-Replayed": "true"})


async def get_booking(request: web.Request) -> web.Response:
    user = require_role(request, ATTENDEE)
    return json_response(await request.app[bookings_key].get(user.id, _reference(request)))


async def cancel_booking(request: web.Request) -> web.Response:
    user = require_role(request, ATTENDEE)
    answered(await request.app[bookings_key].cancel(user.id, _reference(request)))
    return json_response({"detail": "Booking cancelled."})


def _status_filter(request: web.Request) -> str | None:
    status = request.query.get("status", "").lower() or None
    if status is not None and status not in BOOKING_STATUSES:
        raise FieldErrors(
            {"status": [f"Select a valid choice. {status} is not one of the available choices."]}
        )
    return status


def _booking_filters(request: web.Request) -> BookingFilters:
    errors: dict[str, list[str]] = {}
    event = request.query.get("event") or None
    event_id = parse_id(event) if event is not None else None
    if event is not None and event_id is None:
        errors["event"] = ["Enter a number."]
    moments = {}
    for name in ("created_at__gte", "created_at__lte"):
        raw = request.query.get(name) or None
        try:
            moments[name] = CREATED_AT.parse(raw) if raw else None
        except Invalid:
            errors[name] = ["Enter a valid date/time."]
    if errors:
        raise FieldErrors(errors)
    return BookingFilters(
        _status_filter(request),
        event_id,
        moments["created_at__gte"],
        moments["created_at__lte"],
    )


async def my_bookings(request: web.Request) -> web.Response:
    user = require_role(request, ATTENDEE)
    page = Page.from_request(request)
    filters = _booking_filters(request)
    count, results = await request.app[bookings_key].of_user(
        user.id, filters, page.size, page.offset
    )
    page.check(count)
    return paginated(request, page, count, results)


async def event_bookings(request: web.Request) -> web.Response:
    user = require_role(request, ORGANIZER)
    event = await request.app[events_key].get(path_id(request, "event_id"))
    if event["organizer_id"] != user.id:
        raise PermissionDenied()
    page = Page.from_request(request)
    status = _status_filter(request)
    count, results = await request.app[bookings_key].of_event(
        event["id"], status, page.size, page.offset
    )
    page.check(count)
    return paginated(request, page, count, results)
