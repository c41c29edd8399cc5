"""The authorization matrix: every route x {anonymous, attendee, other organizer, owner}.

The table is checked against the route table itself, so a new route cannot be left out.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from server.config import Config
from server.http.routes import ROUTES, Route
from tests.support.admins import admin
from tests.support.api import PASSWORD, Account, Api, future

CALLERS = ("anonymous", "attendee", "other organizer", "owner", "admin")
PUBLIC_200 = (200, 200, 200, 200, 200)
SIGNED_IN = (401, 200, 200, 200, 200)
OWNER_ONLY = (401, 403, 403, 200, 403)  # an admin is no organizer: the admin API is its own
ATTENDEES = (401, 200, 403, 403, 403)
ADMINS = (401, 403, 403, 403, 200)

# Expected status per caller, in the order of CALLERS.
MATRIX: dict[str, tuple[int, int, int, int, int]] = {
    "health": PUBLIC_200,
    "register": (201, 201, 201, 201, 201),
    "login": PUBLIC_200,
    "token-refresh": PUBLIC_200,
    "profile": SIGNED_IN,
    "profile-update": SIGNED_IN,
    "profile-partial-update": SIGNED_IN,
    "change-password": SIGNED_IN,
    "password-reset-request": PUBLIC_200,
    # A made-up token: refused for all, never 401/403.
    "password-reset-confirm": (400, 400, 400, 400, 400),
    "deactivate-account": (401, 204, 204, 204, 204),
    "event-list": PUBLIC_200,
    "event-create": (401, 403, 201, 201, 403),
    "event-detail": PUBLIC_200,
    "event-update": OWNER_ONLY,
    "event-partial-update": OWNER_ONLY,
    "event-delete": (401, 403, 403, 204, 403),
    "ticket-type-list": PUBLIC_200,
    "ticket-type-create": (401, 403, 403, 201, 403),
    "ticket-type-detail": OWNER_ONLY,
    "ticket-type-update": OWNER_ONLY,
    "ticket-type-partial-update": OWNER_ONLY,
    "ticket-type-delete": (401, 403, 403, 204, 403),
    "booking-create": (401, 201, 403, 403, 403),
    "booking-detail": ATTENDEES,
    "booking-cancel": ATTENDEES,
    "booking-partial-cancel": ATTENDEES,
    "booking-confirm": ATTENDEES,
    "booking-extend": ATTENDEES,
    "my-bookings": ATTENDEES,
    "event-bookings": OWNER_ONLY,
    "event-stats": (401, 403, 403, 200, 200),
    "waitlist-join": (401, 201, 403, 403, 403),
    "my-waitlist": ATTENDEES,
    "waitlist-leave": (401, 204, 403, 403, 403),
    "queue-join": (401, 201, 403, 403, 403),  # on an event with a waiting room
    "queue-place": ATTENDEES,
    "admin-users": ADMINS,
    "admin-user-update": ADMINS,
    "admin-events": ADMINS,
    "admin-event-cancel": ADMINS,
    "admin-booking": ADMINS,
    "admin-audit": ADMINS,
    "webhook-create": (401, 403, 201, 201, 403),
    "webhook-list": (401, 403, 200, 200, 403),
    "webhook-delete": (401, 403, 404, 204, 403),  # another organizer's is not found
    "webhook-deliveries": (401, 403, 404, 200, 403),
    "metrics": PUBLIC_200,  # with no METRICS_TOKEN (tests/http/test_metrics.py: with one)
    "ws-event": (101, 101, 101, 101, 101),  # availability is public: the upgrade succeeds for all
    "ws": (101, 101, 101, 101, 101),
    "live-page": PUBLIC_200,
    "queue-page": PUBLIC_200,
    "dashboard-page": PUBLIC_200,  # the page itself; its data asks for the organizer
    "admin-page": PUBLIC_200,
    "static": PUBLIC_200,
    "schema": PUBLIC_200,
    "swagger-ui": PUBLIC_200,
    "redoc": PUBLIC_200,
}

_n = itertools.count(1)
ROUTES_BY_NAME = {route.name: route for route in ROUTES}


def test_every_route_is_in_the_matrix() -> None:
    assert set(MATRIX) == {route.name for route in ROUTES}


def _body(
    route: Route, caller: Account | None, owner: Account, ids: dict[str, int]
) -> dict[str, Any] | None:
    n = next(_n)
    new_password = f"Another-secret-{n}"
    bodies: dict[str, dict[str, Any]] = {
        "register": {
            "username": f"new{n}",
            "email": f"new{n}@example.org",
            "password": PASSWORD,
            "role": "attendee",
        },
        "login": {"username": owner.username, "password": owner.password},
        "token-refresh": {"refresh": owner.refresh},
        "profile-update": {"username": caller.username, "email": caller.email} if caller else {},
        "profile-partial-update": {"email": caller.email} if caller else {},
        "change-password": {
            "old_password": caller.password if caller else "",
            "new_password1": new_password,
            "new_password2": new_password,
        },
        "password-reset-request": {"email": owner.email},
        "password-reset-confirm": {"new_password1": new_password, "new_password2": new_password},
        "event-create": {"name": "E", "location": "L", "start_time": future(), "total_capacity": 5},
        "event-update": {
            "name": "E2",
            "location": "L2",
            "start_time": future(),
            "end_time": future(31),
            "total_capacity": 6,
        },
        "event-partial-update": {"name": "E3"},
        "ticket-type-create": {"name": f"T{n}", "price": "5.00", "quantity_available": 3},
        "ticket-type-update": {"name": f"T{n}", "price": "6.00", "quantity_available": 4},
        "ticket-type-partial-update": {"price": "7.00"},
        "booking-create": {
            "event_id": ids["event"],
            "items": [{"ticket_type_id": ids["ticket"], "quantity": 1}],
        },
        "waitlist-join": {"ticket_type_id": ids["ticket"], "quantity": 51},  # more than there is
        "admin-user-update": {"role": "organizer"},
        "webhook-create": {"url": "https://93.184.216.34/hook", "events": ["booking.created"]},
    }
    return bodies.get(route.name)


@pytest.mark.parametrize("route", ROUTES, ids=[f"{r.method} {r.name}" for r in ROUTES])
async def test_route_answers_each_caller_as_the_matrix_says(
    api: Api, config: Config, route: Route
) -> None:
    owner = await api.organizer()
    callers: dict[str, Account | None] = {
        "anonymous": None,
        "attendee": await api.attendee(),
        "other organizer": await api.organizer(),
        "owner": owner,
        "admin": await admin(api, config),
    }
    event = await api.event(owner)
    ticket = await api.ticket_type(owner, event["id"])
    ids = {"event": event["id"], "ticket": ticket["id"]}
    reference = "none"
    if "{reference}" in route.path:
        attendee = callers["attendee"]
        assert attendee is not None
        body = _body(ROUTES_BY_NAME["booking-create"], None, owner, ids)
        if route.name in ("booking-confirm", "booking-extend"):  # a hold, to check out
            body = {**body, "hold": True}
        booking = await api.client.post("/api/bookings/", json=body, headers=attendee.headers)
        reference = (await booking.json())["booking_reference"]
    if route.name.startswith("queue"):
        room = {"waiting_room": {"admit_per_minute": 60, "session_seconds": 60}}
        await api.client.patch(f"/api/events/{event['id']}/", json=room, headers=owner.headers)
    if route.name == "queue-place":  # the attendee's own place
        attendee = callers["attendee"]
        assert attendee is not None
        await api.client.post(f"/api/events/{event['id']}/queue/", headers=attendee.headers)
    entry_id = "0"
    if "{entry_id}" in route.path:
        attendee = callers["attendee"]
        assert attendee is not None
        body = _body(ROUTES_BY_NAME["waitlist-join"], None, owner, ids)
        joined = await api.client.post(
            f"/api/events/{event['id']}/waitlist/", json=body, headers=attendee.headers
        )
        entry_id = str((await joined.json())["id"])
    webhook_id = "0"
    if "{webhook_id}" in route.path:  # the owner's
        body = _body(ROUTES_BY_NAME["webhook-create"], owner, owner, ids)
        made = await api.client.post("/api/webhooks/", json=body, headers=owner.headers)
        webhook_id = str((await made.json())["id"])
    path = (
        route.path.replace("{event_id}", str(event["id"]))
        .replace("{webhook_id}", webhook_id)
        .replace("{ticket_type_id}", str(ticket["id"]))
        .replace("{reference}", reference)
        .replace("{entry_id}", entry_id)
        .replace("{user_id}", str((await api.attendee()).id))
        .replace("{name}", "live.js")
        .replace("{uid:[0-9A-Za-z_\\-]+}", "MQ")
        .replace("{token:[0-9A-Za-z]{1,13}-[0-9A-Za-z]{1,32}}", "abc-def")
    )
    observed = []
    for name in CALLERS:
        caller = callers[name]
        headers = caller.headers if caller else {}
        if route.name.startswith("ws"):
            async with api.client.ws_connect(path, headers=headers) as ws:
                observed.append(101 if not ws.closed else 0)
            continue
        response = await api.client.request(
            route.method, path, json=_body(route, caller, owner, ids), headers=headers
        )
        observed.append(response.status)
    assert tuple(observed) == MATRIX[route.name], dict(zip(CALLERS, observed, strict=True))
