"""``/api/events/…``: events and their ticket types."""

from __future__ import annotations

from decimal import Decimal

from aiohttp import web

from server.auth import require_role
from server.errors import FieldErrors, NotFound
from server.events import EventFilters
from server.http.body import read_json_object
from server.http.pagination import Page, paginated
from server.http.validation import (
    Boolean,
    Choice,
    DateTime,
    DecimalNumber,
    Integer,
    Invalid,
    Schema,
    String,
    parse_id,
)
from server.jsonio import json_response
from server.keys import events_key
from server.render import event_json, ticket_type_json
from server.users import ORGANIZER

__all__ = ["EVENT", "EVENT_STATUSES", "TICKET_TYPE", "path_id"]

EVENT_STATUSES = ("upcoming", "cancelled", "sold_out", "past")

EVENT = Schema(
    {
        "name": String(max_length=255),
        "description": String(required=False, allow_blank=True, trim=False),
        "location": String(max_length=255),
        "start_time": DateTime(),
        "end_time": DateTime(required=False, nullable=True),
        "total_capacity": Integer(minimum=1),
        "status": Choice(required=False, choices=EVENT_STATUSES),
    },
    read_only={
        "id": Integer(),
        "organizer": String(description="The organizer's username."),
        "created_at": DateTime(),
        "updated_at": DateTime(),
        "tickets_sold": Integer(),
        "tickets_available": Integer(description="What can still be booked right now."),
    },
)
TICKET_TYPE = Schema(
    {
        "name": String(max_length=100),
        "description": String(required=False, allow_blank=True, trim=False),
        "price": DecimalNumber(minimum=Decimal(0)),
        "quantity_available": Integer(minimum=0, description="Remaining stock."),
        "is_active": Boolean(required=False),
    },
    read_only={
        "id": Integer(),
        "quantity_sold": Integer(),
        "created_at": DateTime(),
        "updated_at": DateTime(),
    },
)
STATUS_FILTER = Choice(choices=EVENT_STATUSES)


def path_id(request: web.Request, name: str) -> int:
    """A numeric id from the path; anything else (or out of range) is 404."""
    number = parse_id(request.match_info[name])
    if number is None:
        raise NotFound()
    return number


def _filters(request: web.Request) -> EventFilters:
    status = request.query.get("status") or None
    if status is not None:
        try:
            STATUS_FILTER.parse(status)
        except Invalid:
            raise FieldErrors(
                {
                    "status": [
                        f"Select a valid choice. {status} is not one of the available choices."
                    ]
                }
            ) from None
    words = request.query.get("search", "").replace(",", " ").split()
    return EventFilters(status, request.query.get("location") or None, words or None)


async def list_events(request: web.Request) -> web.Response:
    page = Page.from_request(request)
    filters = _filters(request)
    count, rows = await request.app[events_key].search(
        filters, request.query.get("ordering"), page.size, page.offset
    )
    page.check(count)
    return paginated(request, page, count, [event_json(r) for r in rows])


async def create_event(request: web.Request) -> web.Response:
    user = require_role(request, ORGANIZER)
    data = EVENT.validate(await read_json_object(request))
    return json_response(event_json(await request.app[events_key].create(user, data)), status=201)


async def get_event(request: web.Request) -> web.Response:
    return json_response(
        event_json(await request.app[events_key].get(path_id(request, "event_id")))
    )


async def update_event(request: web.Request) -> web.Response:
    user = require_role(request, ORGANIZER)
    event_id = path_id(request, "event_id")
    data = EVENT.validate(await read_json_object(request), partial=request.method == "PATCH")
    return json_response(event_json(await request.app[events_key].update(user, event_id, data)))


async def delete_event(request: web.Request) -> web.Response:
    user = require_role(request, ORGANIZER)
    await request.app[events_key].delete(user, path_id(request, "event_id"))
    return web.Response(status=204)


async def list_ticket_types(request: web.Request) -> web.Response:
    page = Page.from_request(request)
    count, rows = await request.app[events_key].ticket_types(
        path_id(request, "event_id"), request.query.get("ordering"), page.size, page.offset
    )
    page.check(count)
    return paginated(request, page, count, [ticket_type_json(r) for r in rows])


async def create_ticket_type(request: web.Request) -> web.Response:
    user = require_role(request, ORGANIZER)
    event_id = path_id(request, "event_id")
    data = TICKET_TYPE.validate(await read_json_object(request))
    row = await request.app[events_key].add_ticket_type(user, event_id, data)
    return json_response(ticket_type_json(row), status=201)


async def get_ticket_type(request: web.Request) -> web.Response:
    user = require_role(request, ORGANIZER)
    ids = path_id(request, "event_id"), path_id(request, "ticket_type_id")
    return json_response(
        ticket_type_json(await request.app[events_key].get_ticket_type(user, *ids))
    )


async def update_ticket_type(request: web.Request) -> web.Response:
    user = require_role(request, ORGANIZER)
    ids = path_id(request, "event_id"), path_id(request, "ticket_type_id")
    data = TICKET_TYPE.validate(await read_json_object(request), partial=request.method == "PATCH")
    row = await request.app[events_key].update_ticket_type(user, *ids, data)
    return json_response(ticket_type_json(row))


async def delete_ticket_type(request: web.Request) -> web.Response:
    user = require_role(request, ORGANIZER)
    ids = path_id(request, "event_id"), path_id(request, "ticket_type_id")
    await request.app[events_key].delete_ticket_type(user, *ids)
    return web.Response(status=204)
