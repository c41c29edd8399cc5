"""``/api/events/…``: events and their ticket types."""

from __future__ import annotations

from aiohttp import web

from server.events import EventFilters
from server.http.endpoints import endpoint
from server.http.pagination import Page, paginated
from server.http.paths import path_id
from server.http.shapes.events import (
    EventIn,
    EventOut,
    EventPage,
    EventQuery,
    TicketTypeIn,
    TicketTypeOut,
    TicketTypePage,
    TicketTypeQuery,
)
from server.jsonio import json_response
from server.keys import events_key, ticket_types_key
from server.render import event_json, ticket_type_json
from server.users import ORGANIZER, User

__all__ = [
    "create_event",
    "create_ticket_type",
    "delete_event",
    "delete_ticket_type",
    "get_event",
    "get_ticket_type",
    "list_events",
    "list_ticket_types",
    "partial_update_event",
    "partial_update_ticket_type",
    "update_event",
    "update_ticket_type",
]

EVENTS, TYPES = "Events", "Ticket types"
CANCELLING = "Setting `status` to `cancelled` cancels its bookings and tells live subscribers."


@endpoint("event-list", "List events", EVENTS, returns=EventPage)
async def list_events(request: web.Request, query: EventQuery) -> web.Response:
    page = Page(query.page, query.page_size)
    words = (query.search or "").replace(",", " ").split()
    filters = EventFilters(query.status, query.location, words or None)
    count, rows = await request.app[events_key].search(
        filters, query.ordering, page.size, page.offset
    )
    return paginated(request, page, count, [event_json(r) for r in rows])


@endpoint(
    "event-create",
    "Create an event (organizers)",
    EVENTS,
    status=201,
    returns=EventOut,
    access=ORGANIZER,
)
async def create_event(request: web.Request, user: User, body: EventIn) -> web.Response:
    event = await request.app[events_key].create(user, body.model_dump(exclude_unset=True))
    return json_response(event_json(event), status=201)


@endpoint("event-detail", "An event", EVENTS, returns=EventOut)
async def get_event(request: web.Request) -> web.Response:
    event = await request.app[events_key].get(path_id(request, "event_id"))
    return json_response(event_json(event))


async def _update_event(request: web.Request, user: User, body: EventIn) -> web.Response:
    changes = body.model_dump(exclude_unset=True)
    event = await request.app[events_key].update(user, path_id(request, "event_id"), changes)
    return json_response(event_json(event))


update_event = endpoint(
    "event-update",
    "Replace an event (its organizer)",
    EVENTS,
    returns=EventOut,
    access=ORGANIZER,
    description=CANCELLING,
)(_update_event)
partial_update_event = endpoint(
    "event-partial-update",
    "Change an event (its organizer)",
    EVENTS,
    returns=EventOut,
    access=ORGANIZER,
    partial_body=True,
    description=CANCELLING,
)(_update_event)


@endpoint(
    "event-delete",
    "Delete an event without bookings (its organizer)",
    EVENTS,
    status=204,
    access=ORGANIZER,
    errors=(409,),
)
async def delete_event(request: web.Request, user: User) -> web.Response:
    await request.app[events_key].delete(user, path_id(request, "event_id"))
    return web.Response(status=204)


@endpoint("ticket-type-list", "An event's ticket types", TYPES, returns=TicketTypePage)
async def list_ticket_types(request: web.Request, query: TicketTypeQuery) -> web.Response:
    page = Page(query.page, query.page_size)
    count, rows = await request.app[ticket_types_key].of_event(
        path_id(request, "event_id"), query.ordering, page.size, page.offset
    )
    return paginated(request, page, count, [ticket_type_json(r) for r in rows])


@endpoint(
    "ticket-type-create",
    "Add a ticket type (the event's organizer)",
    TYPES,
    status=201,
    returns=TicketTypeOut,
    access=ORGANIZER,
)
async def create_ticket_type(request: web.Request, user: User, body: TicketTypeIn) -> web.Response:
    event_id = path_id(request, "event_id")
    values = body.model_dump(exclude_unset=True)
    row = await request.app[ticket_types_key].add(user, event_id, values)
    return json_response(ticket_type_json(row), status=201)


def _ids(request: web.Request) -> tuple[int, int]:
    return path_id(request, "event_id"), path_id(request, "ticket_type_id")


@endpoint(
    "ticket-type-detail",
    "A ticket type (the event's organizer)",
    TYPES,
    returns=TicketTypeOut,
    access=ORGANIZER,
)
async def get_ticket_type(request: web.Request, user: User) -> web.Response:
    row = await request.app[ticket_types_key].get(user, *_ids(request))
    return json_response(ticket_type_json(row))


async def _update_ticket_type(request: web.Request, user: User, body: TicketTypeIn) -> web.Response:
    changes = body.model_dump(exclude_unset=True)
    row = await request.app[ticket_types_key].update(user, *_ids(request), changes)
    return json_response(ticket_type_json(row))


update_ticket_type = endpoint(
    "ticket-type-update",
    "Replace a ticket type",
    TYPES,
    returns=TicketTypeOut,
    access=ORGANIZER,
)(_update_ticket_type)
partial_update_ticket_type = endpoint(
    "ticket-type-partial-update",
    "Change a ticket type",
    TYPES,
    returns=TicketTypeOut,
    access=ORGANIZER,
    partial_body=True,
)(_update_ticket_type)


@endpoint(
    "ticket-type-delete",
    "Delete a ticket type nothing was sold of",
    TYPES,
    status=204,
    access=ORGANIZER,
    errors=(409,),
)
async def delete_ticket_type(request: web.Request, user: User) -> web.Response:
    await request.app[ticket_types_key].delete(user, *_ids(request))
    return web.Response(status=204)
