"""``/api/bookings/{reference}/confirm`` and ``…/extend``: a hold's checkout."""

from __future__ import annotations

from aiohttp import web

from server.booking.commands import ConfirmHold, ExtendHold
from server.booking.outcomes import Confirmed, Extended
from server.booking.rules import BOOKING_NOT_FOUND
from server.http.bookings import BOOKINGS, IDEMPOTENCY, idempotency_key, request_hash
from server.http.endpoints import endpoint
from server.http.outcomes import answered
from server.http.paths import path_reference
from server.http.shapes.bookings import BookingOut
from server.jsonio import json_response
from server.keys import bookings_key
from server.render import receipt_json
from server.users import ATTENDEE, User

__all__ = ["confirm_hold", "extend_hold"]

CONFIRM = """The hold's seats become sold, and the confirmation mail goes out. Confirming a \\
confirmed booking is 200 and changes nothing. After expiry the same seats are taken again if \\
they still can be had; otherwise 409 `hold_expired` and nothing changes. With an \\
`Idempotency-Key`, a repeat answers again (`Idempotent-Replayed: true`)."""
EXTEND = """`expires_at` becomes the event's hold time from now, but never more than three hold \\
times after the hold was made: at that cap, 409 `hold_extension_limit`. An expired or \\
non-pending booking is 409 `not_pending`."""


@endpoint(
    "booking-confirm",
    "Confirm one of your holds",
    BOOKINGS,
    returns=BookingOut,
    access=ATTENDEE,
    errors=(409, 422, 503),
    headers=(IDEMPOTENCY,),
    description=CONFIRM,
)
async def confirm_hold(request: web.Request, user: User) -> web.Response:
    reference = path_reference(request, BOOKING_NOT_FOUND)
    key = idempotency_key(request)
    sent = request_hash({"confirm": str(reference)}) if key is not None else b""
    command = ConfirmHold(user.id, reference, key, sent)
    bookings = request.app[bookings_key]
    done = answered(await bookings.change(user.id, reference, command))
    if isinstance(done, Confirmed) and done.receipt is not None:
        return json_response(receipt_json(done.receipt))
    [detail] = await bookings.details([reference])  # an earlier request's confirm, replayed
    return json_response(detail, headers={"Idempotent-Replayed": "true"})


@endpoint(
    "booking-extend",
    "Give one of your holds more time",
    BOOKINGS,
    returns=BookingOut,
    access=ATTENDEE,
    errors=(409, 503),
    description=EXTEND,
)
async def extend_hold(request: web.Request, user: User) -> web.Response:
    reference = path_reference(request, BOOKING_NOT_FOUND)
    done = answered(
        await request.app[bookings_key].change(user.id, reference, ExtendHold(user.id, reference))
    )
    assert isinstance(done, Extended)
    assert done.receipt is not None
    return json_response(receipt_json(done.receipt))
