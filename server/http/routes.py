"""The one route table. Every path answers with and without its trailing slash."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from server.events import EVENT_ORDERING, TICKET_TYPE_ORDERING
from server.http import accounts, bookings, docs, events, health, pages
from server.http.openapi import Doc, Param
from server.ws import handlers as live

__all__ = ["ROUTES", "Route", "setup_routes"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

EVENT = "/api/events/{event_id}"
TICKET_TYPES = EVENT + "/ticket-types"
TICKET_TYPE = TICKET_TYPES + "/{ticket_type_id}"
BOOKING = "/api/bookings/{reference}"
RESET_REQUEST = "/api/auth/password-reset-request"
UID = r"{uid:[0-9A-Za-z_\-]+}"
TOKEN = r"{token:[0-9A-Za-z]{1,13}-[0-9A-Za-z]{1,32}}"
RESET_CONFIRM = "/api/auth/password-reset-confirm/" + UID + "/" + TOKEN


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str  # written without a trailing slash
    handler: Handler
    name: str
    doc: Doc


PAGING = (
    Param("page", "Page number, from 1.", {"type": "integer", "minimum": 1}),
    Param("page_size", "Results per page (1-100, default 10).", {"type": "integer", "minimum": 1, "maximum": 100}),
)  # fmt: skip
ORDERING = "A field to sort by, `-` in front for descending: "
EVENT_QUERY = (
    Param("status", "Only events in this status.", {"enum": list(events.EVENT_STATUSES)}),
    Param("location", "Only events at exactly this location."),
    Param("search", "Words to find in the name, description or location."),
    Param("ordering", ORDERING + ", ".join(EVENT_ORDERING)),
    *PAGING,
)  # fmt: skip
BOOKING_STATUS = Param(
    "status", "Only bookings in this status.", {"enum": list(bookings.BOOKING_STATUSES)}
)
MY_BOOKINGS_QUERY = (
    BOOKING_STATUS,
    Param("event", "Only bookings of this event.", {"type": "integer", "minimum": 1}),
    Param("created_at__gte", "Booked at or after.", {"type": "string", "format": "date-time"}),
    Param("created_at__lte", "Booked at or before.", {"type": "string", "format": "date-time"}),
    *PAGING,
)  # fmt: skip
IDEMPOTENCY = Param(
    bookings.IDEMPOTENCY_HEADER,
    "Repeat a booking safely: the same key within 24 h replays the first answer.",
    {"type": "string", "minLength": 1, "maxLength": 255},
    where="header",
)
BOOKING_CREATE = """All or nothing: every item is booked, or none (400 `sold_out`, `capacity_exceeded`, `event_closed`, `ticket_type_inactive`, `invalid_ticket_types`).

**503** comes in two kinds. `booking_busy` and `booking_unavailable`: nothing was booked; retry after `Retry-After`. `booking_outcome_unknown`: the booking was still being committed when the answer was given up on, and **may have been made**. Find out with `GET /api/users/me/bookings/` before booking again; or, having sent an `Idempotency-Key`, retry with the same key: the retry answers with the booking if it was made (201, `Idempotent-Replayed: true`) and books it otherwise."""
SOCKET = "Upgrades to a websocket (a request without the upgrade is 400); see the live-availability section above."
ACCOUNTS, EVENTS, TYPES, BOOKINGS, LIVE, DOCS = (
    "Accounts", "Events", "Ticket types", "Bookings", "Live availability", "Service",
)  # fmt: skip
A, E = accounts, events

ROUTES: tuple[Route, ...] = (
    Route("GET", "/api/health", health.health, "health", Doc("Health of the server and its dependencies", DOCS, returns="Health", errors=(503,))),
    # Accounts
    Route("POST", "/api/auth/register", A.register, "register", Doc("Create an account", ACCOUNTS, 201, "Registered", A.REGISTER, errors=(429,))),
    Route("POST", "/api/auth/login", A.login, "login", Doc("Get an access and a refresh token", ACCOUNTS, returns="Tokens", body=A.LOGIN, errors=(401, 429))),
    Route("POST", "/api/auth/token/refresh", A.refresh, "token-refresh", Doc("Trade a refresh token for a new access token", ACCOUNTS, returns="Access", body=A.REFRESH, errors=(401,))),
    Route("GET", "/api/auth/profile", A.profile, "profile", Doc("Your profile", ACCOUNTS, returns="Profile", auth=True)),
    Route("PUT", "/api/auth/profile", A.update_profile, "profile-update", Doc("Change your username and email", ACCOUNTS, returns="Profile", body=A.PROFILE, auth=True)),
    Route("PATCH", "/api/auth/profile", A.update_profile, "profile-partial-update", Doc("Change your username or email", ACCOUNTS, returns="Profile", body=A.PROFILE, partial=True, auth=True)),
    Route("POST", "/api/auth/change-password", A.change_password, "change-password", Doc("Change your password", ACCOUNTS, returns="Detail", body=A.CHANGE_PASSWORD, auth=True)),
    Route("POST", RESET_REQUEST, A.password_reset_request, "password-reset-request", Doc("Mail a password-reset link", ACCOUNTS, returns="Detail", body=A.RESET_REQUEST, errors=(429,))),
    Route("POST", RESET_CONFIRM, A.password_reset_confirm, "password-reset-confirm", Doc("Set a new password with the mailed link", ACCOUNTS, returns="Detail", body=A.RESET_CONFIRM, partial=True)),
    Route("DELETE", "/api/auth/deactivate-account", A.deactivate, "deactivate-account", Doc("Deactivate your account", ACCOUNTS, 204, auth=True)),
    # Events
    Route("GET", "/api/events", E.list_events, "event-list", Doc("List events", EVENTS, returns="EventPage", params=EVENT_QUERY, errors=(400, 404))),
    Route("POST", "/api/events", E.create_event, "event-create", Doc("Create an event (organizers)", EVENTS, 201, "Event", E.EVENT, auth=True, errors=(403,))),
    Route("GET", EVENT, E.get_event, "event-detail", Doc("An event", EVENTS, returns="Event")),
    Route("PUT", EVENT, E.update_event, "event-update", Doc("Replace an event (its organizer)", EVENTS, returns="Event", body=E.EVENT, auth=True, errors=(403,), description="Setting `status` to `cancelled` cancels its bookings and tells live subscribers.")),
    Route("PATCH", EVENT, E.update_event, "event-partial-update", Doc("Change an event (its organizer)", EVENTS, returns="Event", body=E.EVENT, partial=True, auth=True, errors=(403,))),
    Route("DELETE", EVENT, E.delete_event, "event-delete", Doc("Delete an event without bookings (its organizer)", EVENTS, 204, auth=True, errors=(403, 409))),
    # Ticket types
    Route("GET", TICKET_TYPES, E.list_ticket_types, "ticket-type-list", Doc("An event's ticket types", TYPES, returns="TicketTypePage", params=(Param("ordering", ORDERING + ", ".join(TICKET_TYPE_ORDERING)), *PAGING), errors=(400,))),
    Route("POST", TICKET_TYPES, E.create_ticket_type, "ticket-type-create", Doc("Add a ticket type (the event's organizer)", TYPES, 201, "TicketType", E.TICKET_TYPE, auth=True, errors=(403,))),
    Route("GET", TICKET_TYPE, E.get_ticket_type, "ticket-type-detail", Doc("A ticket type (the event's organizer)", TYPES, returns="TicketType", auth=True, errors=(403,))),
    Route("PUT", TICKET_TYPE, E.update_ticket_type, "ticket-type-update", Doc("Replace a ticket type", TYPES, returns="TicketType", body=E.TICKET_TYPE, auth=True, errors=(403,))),
    Route("PATCH", TICKET_TYPE, E.update_ticket_type, "ticket-type-partial-update", Doc("Change a ticket type", TYPES, returns="TicketType", body=E.TICKET_TYPE, partial=True, auth=True, errors=(403,))),
    Route("DELETE", TICKET_TYPE, E.delete_ticket_type, "ticket-type-delete", Doc("Delete a ticket type nothing was sold of", TYPES, 204, auth=True, errors=(403, 409))),
    # Bookings
    Route("POST", "/api/bookings", bookings.create_booking, "booking-create", Doc("Book tickets of one event (attendees)", BOOKINGS, 201, "Booking", bookings.BOOKING, auth=True, errors=(403, 404, 409, 422, 429, 503), params=(IDEMPOTENCY,), description=BOOKING_CREATE)),
    Route("GET", BOOKING, bookings.get_booking, "booking-detail", Doc("One of your bookings", BOOKINGS, returns="Booking", auth=True, errors=(403,))),
    Route("PUT", BOOKING + "/cancel", bookings.cancel_booking, "booking-cancel", Doc("Cancel one of your bookings", BOOKINGS, returns="Detail", auth=True, errors=(400, 403, 503))),
    Route("PATCH", BOOKING + "/cancel", bookings.cancel_booking, "booking-partial-cancel", Doc("Cancel one of your bookings", BOOKINGS, returns="Detail", auth=True, errors=(400, 403, 503))),
    Route("GET", "/api/users/me/bookings", bookings.my_bookings, "my-bookings", Doc("Your bookings", BOOKINGS, returns="BookingPage", auth=True, errors=(400, 403, 404), params=MY_BOOKINGS_QUERY)),
    Route("GET", EVENT + "/bookings", bookings.event_bookings, "event-bookings", Doc("An event's bookings (its organizer)", BOOKINGS, returns="EventBookingPage", auth=True, errors=(400, 403), params=(BOOKING_STATUS, *PAGING))),
    # Live availability (websockets)
    Route("GET", "/ws/events/{event_id}", live.event_socket, "ws-event", Doc("Watch one event's availability (websocket)", LIVE, 101, description=SOCKET, websocket=True, errors=(400,))),
    Route("GET", "/ws", live.multiplexed_socket, "ws", Doc("Watch several events' availability (websocket)", LIVE, 101, description=SOCKET, websocket=True, errors=(400,))),
    Route("GET", "/events/{event_id}/live", pages.live_page, "live-page", Doc("A page showing an event's availability live (HTML)", LIVE, description="HTML.")),
    Route("GET", "/static/{name}", pages.static_asset, "static", Doc("The pages' scripts and styles", DOCS, description="Files.")),
    # The API's own documentation
    Route("GET", "/api/schema", docs.schema, "schema", Doc("This OpenAPI document", DOCS, params=(Param("format", "`json` (default) or `yaml`.", {"enum": ["json", "yaml"]}),), errors=(400,))),
    Route("GET", "/api/docs/swagger", docs.swagger, "swagger-ui", Doc("Swagger UI (HTML)", DOCS, errors=(503,))),
    Route("GET", "/api/docs/redoc", docs.redoc, "redoc", Doc("ReDoc (HTML)", DOCS, errors=(503,))),
)  # fmt: skip


def setup_routes(app: web.Application, routes: tuple[Route, ...] = ROUTES) -> None:
    for route in routes:
        path = route.path.rstrip("/")
        app.router.add_route(route.method, path, route.handler, name=route.name)
        app.router.add_route(route.method, path + "/", route.handler)
