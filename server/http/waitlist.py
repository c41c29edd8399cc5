"""``/api/events/{id}/waitlist``, ``/api/users/me/waitlist`` and ``/api/waitlist/{id}``."""

from __future__ import annotations

from aiohttp import web

from server.booking.commands import JoinWaitlist, LeaveWaitlist
from server.booking.outcomes import Joined
from server.booking.waitlist import ENTRY_NOT_FOUND
from server.http.endpoints import endpoint
from server.http.outcomes import answered
from server.http.pagination import Page, paginated
from server.http.paths import path_id
from server.http.shapes.waitlist import WaitlistEntryOut, WaitlistIn, WaitlistPage, WaitlistQuery
from server.http.throttle import throttle
from server.jsonio import json_response
from server.keys import waitlist_key
from server.ratelimit import BOOKING_PER_USER
from server.users import ATTENDEE, User

__all__ = ["join_waitlist", "leave_waitlist", "my_waitlist"]

WAITLIST = "Waiting list"
JOIN = """For when the tickets you want are sold out: freed seats of the type (a cancellation, an \
expired hold, more stock) are offered to its entries in the order they joined, each to the \
first whose quantity fits. An offer is a hold made for you (`status` becomes `offered`, with \
`booking_reference` and `expires_at`: the event's `waitlist_offer_seconds` from then), a mail \
with its confirm link, and a `waitlist` message on an authenticated live socket. Confirm it \
with `POST /api/bookings/{reference}/confirm/`; unconfirmed, it expires and the seats go to the \
next entry. Seats freed while entries wait are never on sale to others meanwhile.

Refused: 400 `tickets_available` while that many can be booked now; 409 `already_waiting` with \
a live entry for the type already; the event's limits (`booking_limit_exceeded`, \
`customer_limit_exceeded`); `not_on_sale`, `event_closed`, `ticket_type_inactive`, \
`invalid_ticket_types` as for a booking. When the type stops selling (the event cancelled or \
started, its sales over, the type deactivated), waiting entries become `closed`."""
LEAVE = "Off the list; an open offer is given back (its seats go to the next entry)."


@endpoint(
    "waitlist-join",
    "Join a ticket type's waiting list",
    WAITLIST,
    status=201,
    returns=WaitlistEntryOut,
    access=ATTENDEE,
    errors=(404, 409, 429, 503),
    description=JOIN,
)
async def join_waitlist(request: web.Request, user: User, body: WaitlistIn) -> web.Response:
    event_id = path_id(request, "event_id")
    await throttle(request, BOOKING_PER_USER, str(user.id))
    waitlist = request.app[waitlist_key]
    command = JoinWaitlist(user.id, body.ticket_type_id, body.quantity)
    joined = answered(await waitlist.join(event_id, command))
    assert isinstance(joined, Joined)
    assert joined.entry.id is not None
    [entry] = await waitlist.details([joined.entry.id])
    return json_response(entry, status=201)


@endpoint(
    "my-waitlist",
    "Your waiting-list entries, with your place in each",
    WAITLIST,
    returns=WaitlistPage,
    access=ATTENDEE,
)
async def my_waitlist(request: web.Request, user: User, query: WaitlistQuery) -> web.Response:
    page = Page(query.page, query.page_size)
    count, results = await request.app[waitlist_key].of_user(
        user.id, query.status, page.size, page.offset
    )
    return paginated(request, page, count, results)


@endpoint(
    "waitlist-leave",
    "Leave a waiting list",
    WAITLIST,
    status=204,
    access=ATTENDEE,
    errors=(503,),
    description=LEAVE,
)
async def leave_waitlist(request: web.Request, user: User) -> web.Response:
    entry_id = path_id(request, "entry_id", ENTRY_NOT_FOUND)
    answered(await request.app[waitlist_key].leave(LeaveWaitlist(user.id, entry_id)))
    return web.Response(status=204)
