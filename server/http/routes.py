"""The one route table. Every path answers with and without its trailing slash."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from server.http import accounts, bookings, events, health, pages
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


ROUTES: tuple[Route, ...] = (
    Route("GET", "/api/health", health.health, "health"),
    # Accounts
    Route("POST", "/api/auth/register", accounts.register, "register"),
    Route("POST", "/api/auth/login", accounts.login, "login"),
    Route("POST", "/api/auth/token/refresh", accounts.refresh, "token-refresh"),
    Route("GET", "/api/auth/profile", accounts.profile, "profile"),
    Route("PUT", "/api/auth/profile", accounts.update_profile, "profile-update"),
    Route("PATCH", "/api/auth/profile", accounts.update_profile, "profile-partial-update"),
    Route("POST", "/api/auth/change-password", accounts.change_password, "change-password"),
    Route("POST", RESET_REQUEST, accounts.password_reset_request, "password-reset-request"),
    Route("POST", RESET_CONFIRM, accounts.password_reset_confirm, "password-reset-confirm"),
    Route("DELETE", "/api/auth/deactivate-account", accounts.deactivate, "deactivate-account"),
    # Events
    Route("GET", "/api/events", events.list_events, "event-list"),
    Route("POST", "/api/events", events.create_event, "event-create"),
    Route("GET", EVENT, events.get_event, "event-detail"),
    Route("PUT", EVENT, events.update_event, "event-update"),
    Route("PATCH", EVENT, events.update_event, "event-partial-update"),
    Route("DELETE", EVENT, events.delete_event, "event-delete"),
    # Ticket types
    Route("GET", TICKET_TYPES, events.list_ticket_types, "ticket-type-list"),
    Route("POST", TICKET_TYPES, events.create_ticket_type, "ticket-type-create"),
    Route("GET", TICKET_TYPE, events.get_ticket_type, "ticket-type-detail"),
    Route("PUT", TICKET_TYPE, events.update_ticket_type, "ticket-type-update"),
    Route("PATCH", TICKET_TYPE, events.update_ticket_type, "ticket-type-partial-update"),
    Route("DELETE", TICKET_TYPE, events.delete_ticket_type, "ticket-type-delete"),
    # Bookings
    Route("POST", "/api/bookings", bookings.create_booking, "booking-create"),
    Route("GET", BOOKING, bookings.get_booking, "booking-detail"),
    Route("PUT", BOOKING + "/cancel", bookings.cancel_booking, "booking-cancel"),
    Route("PATCH", BOOKING + "/cancel", bookings.cancel_booking, "booking-partial-cancel"),
    Route("GET", "/api/users/me/bookings", bookings.my_bookings, "my-bookings"),
    Route("GET", EVENT + "/bookings", bookings.event_bookings, "event-bookings"),
    # Live availability (websockets)
    Route("GET", "/ws/events/{event_id}", live.event_socket, "ws-event"),
    Route("GET", "/ws", live.multiplexed_socket, "ws"),
    Route("GET", "/events/{event_id}/live", pages.live_page, "live-page"),
    Route("GET", "/static/{name}", pages.static_asset, "static"),
)  # fmt: skip


def setup_routes(app: web.Application, routes: tuple[Route, ...] = ROUTES) -> None:
    for route in routes:
        path = route.path.rstrip("/")
        app.router.add_route(route.method, path, route.handler, name=route.name)
        app.router.add_route(route.method, path + "/", route.handler)
