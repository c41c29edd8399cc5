"""The one route table: method, path, handler. Every path answers with and without its
trailing slash. What each route takes and answers is declared on its handler (``endpoint``);
the OpenAPI document is built from this router once it is set up."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from server.http import (
    accounts,
    admin,
    bookings,
    docs,
    events,
    health,
    holds,
    metrics,
    pages,
    queue,
    waitlist,
    webhooks,
)
from server.http.endpoints import ENDPOINTS, Endpoint, Handler
from server.http.openapi import OpenApi, build_document
from server.keys import openapi_key
from server.ws import handlers as live

__all__ = ["ROUTES", "Route", "setup_routes"]

EVENT = "/api/events/{event_id}"
TICKET_TYPES = EVENT + "/ticket-types"
TICKET_TYPE = TICKET_TYPES + "/{ticket_type_id}"
BOOKING = "/api/bookings/{reference}"
UID = r"{uid:[0-9A-Za-z_\-]+}"
TOKEN = r"{token:[0-9A-Za-z]{1,13}-[0-9A-Za-z]{1,32}}"
RESET_CONFIRM = "/api/auth/password-reset-confirm/" + UID + "/" + TOKEN


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str  # written without a trailing slash
    handler: Handler

    @property
    def endpoint(self) -> Endpoint:
        return ENDPOINTS[self.handler]

    @property
    def name(self) -> str:
        return self.endpoint.name


A, E, B = accounts, events, bookings
ROUTES: tuple[Route, ...] = (
    Route("GET", "/api/health", health.health),
    Route("GET", "/metrics", metrics.metrics),
    Route("POST", "/api/auth/register", A.register),
    Route("POST", "/api/auth/login", A.login),
    Route("POST", "/api/auth/token/refresh", A.refresh),
    Route("GET", "/api/auth/profile", A.profile),
    Route("PUT", "/api/auth/profile", A.update_profile),
    Route("PATCH", "/api/auth/profile", A.partial_update_profile),
    Route("POST", "/api/auth/change-password", A.change_password),
    Route("POST", "/api/auth/password-reset-request", A.password_reset_request),
    Route("POST", RESET_CONFIRM, A.password_reset_confirm),
    Route("DELETE", "/api/auth/deactivate-account", A.deactivate),
    Route("GET", "/api/events", E.list_events),
    Route("POST", "/api/events", E.create_event),
    Route("GET", EVENT, E.get_event),
    Route("PUT", EVENT, E.update_event),
    Route("PATCH", EVENT, E.partial_update_event),
    Route("DELETE", EVENT, E.delete_event),
    Route("GET", TICKET_TYPES, E.list_ticket_types),
    Route("POST", TICKET_TYPES, E.create_ticket_type),
    Route("GET", TICKET_TYPE, E.get_ticket_type),
    Route("PUT", TICKET_TYPE, E.update_ticket_type),
    Route("PATCH", TICKET_TYPE, E.partial_update_ticket_type),
    Route("DELETE", TICKET_TYPE, E.delete_ticket_type),
    Route("POST", "/api/bookings", B.create_booking),
    Route("GET", BOOKING, B.get_booking),
    Route("PUT", BOOKING + "/cancel", B.cancel_booking),
    Route("PATCH", BOOKING + "/cancel", B.partial_cancel_booking),
    Route("POST", BOOKING + "/confirm", holds.confirm_hold),
    Route("POST", BOOKING + "/extend", holds.extend_hold),
    Route("GET", "/api/users/me/bookings", B.my_bookings),
    Route("GET", EVENT + "/bookings", B.event_bookings),
    Route("POST", EVENT + "/waitlist", waitlist.join_waitlist),
    Route("GET", "/api/users/me/waitlist", waitlist.my_waitlist),
    Route("DELETE", "/api/waitlist/{entry_id}", waitlist.leave_waitlist),
    Route("POST", EVENT + "/queue", queue.join_queue),
    Route("GET", EVENT + "/queue", queue.my_place),
    Route("GET", EVENT + "/stats", admin.event_stats),
    Route("GET", "/api/admin/users", admin.admin_users),
    Route("PATCH", "/api/admin/users/{user_id}", admin.admin_update_user),
    Route("GET", "/api/admin/events", admin.admin_events),
    Route("POST", "/api/admin/events/{event_id}/cancel", admin.admin_cancel_event),
    Route("GET", "/api/admin/bookings/{reference}", admin.admin_booking),
    Route("GET", "/api/admin/audit", admin.audit_log),
    Route("POST", "/api/webhooks", webhooks.create_webhook),
    Route("GET", "/api/webhooks", webhooks.list_webhooks),
    Route("DELETE", "/api/webhooks/{webhook_id}", webhooks.delete_webhook),
    Route("GET", "/api/webhooks/{webhook_id}/deliveries", webhooks.webhook_deliveries),
    Route("GET", "/ws/events/{event_id}", live.event_socket),
    Route("GET", "/ws", live.multiplexed_socket),
    Route("GET", "/events/{event_id}/live", pages.live_page),
    Route("GET", "/events/{event_id}/queue", pages.queue_page),
    Route("GET", "/events/{event_id}/dashboard", pages.dashboard_page),
    Route("GET", "/admin", pages.admin_page),
    Route("GET", "/static/{name}", pages.static_asset),
    Route("GET", "/api/schema", docs.schema),
    Route("GET", "/api/docs/swagger", docs.swagger),
    Route("GET", "/api/docs/redoc", docs.redoc),
)


def setup_routes(app: web.Application, routes: tuple[Route, ...] = ROUTES) -> None:
    for route in routes:
        path = route.path.rstrip("/")
        app.router.add_route(route.method, path, route.handler, name=route.name)
        app.router.add_route(route.method, path + "/", route.handler)
    app[openapi_key] = OpenApi(build_document(app))
