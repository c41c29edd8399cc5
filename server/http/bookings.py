"""``/api/bookings/…``, ``/api/users/me/bookings`` and ``/api/events/{id}/bookings``.

The booking rules answer with domain outcomes; this edge chooses their HTTP statuses.
"""

from __future__ import annotations

import hashlib
import time

import orjson
from aiohttp import web
from pydantic import TypeAdapter, ValidationError

from server.booking.commands import BookTickets, CancelBooking
from server.booking.outcomes import Booked, Reason, Refused
from server.booking.rules import BOOKING_NOT_FOUND, INVALID_TYPES
from server.bookings import BookingFilters
from server.errors import ApiError, PermissionDenied
from server.http.endpoints import Handler, Header, endpoint
from server.http.outcomes import BookingRefused, answered
from server.http.pagination import Page, paginated
from server.http.paths import path_id, path_reference
from server.http.shapes.bookings import (
    BookingIn,
    BookingOut,
    BookingPage,
    EventBookingPage,
    EventBookingsQuery,
    IdempotencyKey,
    MyBookingsQuery,
)
from server.http.shapes.common import Detail
from server.http.throttle import throttle
from server.jsonio import json_response
from server.keys import bookings_key, events_key, queue_tokens_key
from server.ratelimit import BOOKING_PER_USER
from server.render import receipt_json
from server.users import ATTENDEE, ORGANIZER, User

__all__ = [
    "BOOKINGS",
    "IDEMPOTENCY",
    "cancel_booking",
    "create_booking",
    "event_bookings",
    "get_booking",
    "idempotency_key",
    "my_bookings",
    "partial_cancel_booking",
    "request_hash",
]

BOOKINGS = "Bookings"
IDEMPOTENCY = Header(
    "Idempotency-Key",
    "Repeat a booking safely: the same key within 24 h replays the first answer.",
    IdempotencyKey,
)
QUEUE_TOKEN = Header(
    "Queue-Token",
    "While the event's waiting room applies: the token of your admission (GET …/queue/).",
    str,
)
_KEY = TypeAdapter(IdempotencyKey)
BOOKING_CREATE = """All or nothing: every item is booked, or none (400 `sold_out`, \
`capacity_exceeded`, `event_closed`, `ticket_type_inactive`, `invalid_ticket_types`, \
`not_on_sale`, `booking_limit_exceeded`, `customer_limit_exceeded` with `limit` and `already`).

With `"hold": true` the booking is `pending`: its seats are kept until `expires_at` (the event's \
`hold_seconds` from now), to be confirmed (`POST …/confirm/`) or given back; unconfirmed, it \
expires by itself. The confirmation mail goes out when it is confirmed.

**503** comes in two kinds. `booking_busy` and `booking_unavailable`: nothing was booked; retry \
after `Retry-After`. `booking_outcome_unknown`: the booking was still being committed when the \
answer was given up on, and **may have been made**. Find out with `GET /api/users/me/bookings/` \
before booking again; or, having sent an `Idempotency-Key`, retry with the same key: the retry \
answers with the booking if it was made (201, `Idempotent-Replayed: true`) and books it \
otherwise.

**403** `queue_required`: the event's waiting room applies (from its `sales_start`, while \
tickets remain) and no `Queue-Token` of yours admits you now: join the queue \
(`POST /api/events/{id}/queue/`) and book with the token it gives once you are admitted."""


def idempotency_key(request: web.Request) -> str | None:
    key = request.headers.get(IDEMPOTENCY.name)
    if key is None:
        return None
    try:
        return _KEY.validate_python(key)
    except ValidationError:
        raise ApiError(
            "Idempotency-Key must be 1 to 255 printable ASCII characters.",
            code="invalid_idempotency_key",
        ) from None


def request_hash(sent: object) -> bytes:
    """What an Idempotency-Key is bound to: the request's meaning, as sorted JSON."""
    return hashlib.sha256(orjson.dumps(sent, option=orjson.OPT_SORT_KEYS)).digest()


def _command(user_id: int, body: BookingIn, key: str | None, admitted: bool) -> BookTickets:
    items = tuple((item.ticket_type_id, item.quantity) for item in body.items)
    if len({type_id for type_id, _ in items}) != len(items):
        raise BookingRefused(Refused(Reason.INVALID_TICKET_TYPES, INVALID_TYPES))
    if key is None:
        return BookTickets(user_id, items, hold=body.hold, admitted=admitted)
    sent = request_hash(body.model_dump())
    return BookTickets(user_id, items, key, sent, body.hold, admitted)


def _admitted(request: web.Request, user_id: int, event_id: int) -> bool:
    """Whether the request carries a queue token admitting this user to this event now
    (checked here, signature and all, with no database round trip)."""
    token = request.headers.get(QUEUE_TOKEN.name)
    return token is not None and request.app[queue_tokens_key].admits(
        token, event_id, user_id, time.time()
    )


@endpoint(
    "booking-create",
    "Book tickets of one event (attendees)",
    BOOKINGS,
    status=201,
    returns=BookingOut,
    access=ATTENDEE,
    errors=(404, 409, 422, 429, 503),
    headers=(IDEMPOTENCY, QUEUE_TOKEN),
    description=BOOKING_CREATE,
)
async def create_booking(request: web.Request, user: User, body: BookingIn) -> web.Response:
    await throttle(request, BOOKING_PER_USER, str(user.id))
    admitted = _admitted(request, user.id, body.event_id)
    command = _command(user.id, body, idempotency_key(request), admitted)
    bookings = request.app[bookings_key]
    booked = answered(await bookings.place(body.event_id, command))
    assert isinstance(booked, Booked)
    if booked.receipt is not None:
        return json_response(receipt_json(booked.receipt), status=201)
    [detail] = await bookings.details([booked.reference])  # an earlier request's booking
    return json_response(detail, status=201, headers={"Idempotent-Replayed": "true"})


@endpoint("booking-detail", "One of your bookings", BOOKINGS, returns=BookingOut, access=ATTENDEE)
async def get_booking(request: web.Request, user: User) -> web.Response:
    reference = path_reference(request, BOOKING_NOT_FOUND)
    return json_response(await request.app[bookings_key].get(user.id, reference))


async def _cancel_booking(request: web.Request, user: User) -> web.Response:
    reference = path_reference(request, BOOKING_NOT_FOUND)
    command = CancelBooking(user.id, reference)
    answered(await request.app[bookings_key].change(user.id, reference, command))
    return json_response({"detail": "Booking cancelled."})


def _cancel(name: str) -> Handler:
    return endpoint(
        name,
        "Cancel one of your bookings",
        BOOKINGS,
        returns=Detail,
        access=ATTENDEE,
        errors=(400, 503),
        description="Its tickets come back exactly once, however many cancels race.",
    )(_cancel_booking)


cancel_booking = _cancel("booking-cancel")
partial_cancel_booking = _cancel("booking-partial-cancel")


@endpoint("my-bookings", "Your bookings", BOOKINGS, returns=BookingPage, access=ATTENDEE)
async def my_bookings(request: web.Request, user: User, query: MyBookingsQuery) -> web.Response:
    page = Page(query.page, query.page_size)
    filters = BookingFilters(
        query.status, query.event, query.created_at__gte, query.created_at__lte
    )
    count, results = await request.app[bookings_key].of_user(
        user.id, filters, page.size, page.offset
    )
    return paginated(request, page, count, results)


@endpoint(
    "event-bookings",
    "An event's bookings (its organizer)",
    BOOKINGS,
    returns=EventBookingPage,
    access=ORGANIZER,
)
async def event_bookings(
    request: web.Request, user: User, query: EventBookingsQuery
) -> web.Response:
    event = await request.app[events_key].get(path_id(request, "event_id"))
    if event["organizer_id"] != user.id:
        raise PermissionDenied()
    page = Page(query.page, query.page_size)
    count, results = await request.app[bookings_key].of_event(
        event["id"], query.status, page.size, page.offset
    )
    return paginated(request, page, count, results)
