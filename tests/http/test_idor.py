"""Insecure direct object references: callers try other users' events, ticket types and
bookings on every route that takes an id, and get nothing: no data, no change."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from server.http.routes import ROUTES, Route
from tests.support.api import Account, Api
from tests.support.databases import table_digest

# Routes whose answers are public on purpose: availability is for everyone to see; any
# attendee may join any event's waiting list or waiting room (and read their own place in
# it), as any may book it; the pages themselves are public (their data is not).
PUBLIC = {
    "event-detail", "ticket-type-list", "ws-event", "live-page", "static", "waitlist-join",
    "queue-join", "queue-place", "queue-page", "dashboard-page",
}  # fmt: skip
# A reset link names a user, but only its secret token opens it (tests/http/test_password_reset.py).
NOT_AN_OBJECT = {"password-reset-confirm"}
BODIES: dict[str, dict[str, Any]] = {
    "PUT": {
        "name": "Taken over",
        "description": "mine now",
        "location": "Nowhere",
        "start_time": "2030-01-01T10:00:00Z",
        "end_time": "2030-01-01T12:00:00Z",
        "total_capacity": 1,
        "price": "0.01",
        "quantity_available": 1,
        "status": "cancelled",
    },
    "PATCH": {"name": "Taken over", "status": "cancelled", "quantity_available": 1},
    "POST": {"name": "Sneaked in", "price": "0.01", "quantity_available": 1},
}


async def _digest(dsn: str) -> dict[str, str]:
    conn = await asyncpg.connect(dsn)
    try:
        return await table_digest(conn)
    finally:
        await conn.close()


def _targets(route: Route, victim: dict[str, Any], attacker: dict[str, Any]) -> list[str]:
    """The route's path aimed at the victim's objects, and (the sneaky kind) the victim's
    ticket type or booking reached through the attacker's own event."""
    if "{" not in route.path or route.name in PUBLIC | NOT_AN_OBJECT:
        return []
    paths = [route.path.format(**victim)]
    if "{ticket_type_id}" in route.path:
        paths.append(route.path.format(**{**victim, "event_id": attacker["event_id"]}))
    return [path + "/" for path in paths]


@pytest.fixture
async def world(api: Api, database_url: str) -> dict[str, Any]:
    """A victim organizer's event with a victim attendee's booking; attackers with their own."""
    owner, attendee = await api.organizer(), await api.attendee()
    event = await api.event(owner)
    ticket = await api.ticket_type(owner, event["id"])
    booked = await api.client.post(
        "/api/bookings/",
        json={"event_id": event["id"], "items": [{"ticket_type_id": ticket["id"], "quantity": 2}]},
        headers=attendee.headers,
    )
    assert booked.status == 201
    reference = (await booked.json())["booking_reference"]
    waiting = await api.client.post(
        f"/api/events/{event['id']}/waitlist/",
        json={"ticket_type_id": ticket["id"], "quantity": 49},  # one more than there is
        headers=attendee.headers,
    )
    assert waiting.status == 201, await waiting.text()
    entry_id = (await waiting.json())["id"]
    hook = {"url": "https://93.184.216.34/hook", "events": ["booking.created"]}
    made = await api.client.post("/api/webhooks/", json=hook, headers=owner.headers)
    assert made.status == 201
    webhook = await made.json()
    rival = await api.organizer()
    rival_event = await api.event(rival)
    rival_ticket = await api.ticket_type(rival, rival_event["id"])
    return {
        "victim": {
            "event_id": event["id"],
            "ticket_type_id": ticket["id"],
            "reference": reference,
            "entry_id": entry_id,
            "user_id": attendee.id,
            "webhook_id": webhook["id"],
        },
        "secrets": [reference, attendee.email, owner.email, webhook["secret"], webhook["url"]],
        "attackers": {"other attendee": await api.attendee(), "other organizer": rival},
        "rival": {"event_id": rival_event["id"], "ticket_type_id": rival_ticket["id"]},
        "victim organizer": owner,
    }


def test_every_route_with_an_id_is_attacked() -> None:
    attacked = {
        r.name
        for r in ROUTES
        if _targets(
            r,
            dict.fromkeys(("event_id", "ticket_type_id", "entry_id", "user_id", "webhook_id"), 1)
            | {"reference": "r"},
            {"event_id": 2},
        )
    }
    with_ids = {r.name for r in ROUTES if "{" in r.path} - PUBLIC - NOT_AN_OBJECT
    assert attacked == with_ids
    assert {
        "booking-detail",
        "booking-cancel",
        "event-update",
        "ticket-type-delete",
        "event-bookings",
        "waitlist-leave",
        "webhook-delete",
        "webhook-deliveries",
    } <= attacked


async def test_no_one_reads_or_changes_what_is_not_theirs(
    api: Api, database_url: str, world: dict[str, Any]
) -> None:
    before = await _digest(database_url)
    attempts = 0
    for who, attacker in world["attackers"].items():
        for route in ROUTES:
            for path in _targets(route, world["victim"], world["rival"]):
                response = await api.client.request(
                    route.method, path, json=BODIES.get(route.method), headers=attacker.headers
                )
                text = await response.text()
                assert response.status in (403, 404), (
                    who,
                    route.method,
                    path,
                    response.status,
                    text,
                )
                assert not any(secret in text for secret in world["secrets"]), (who, path, text)
                attempts += 1
    assert attempts >= 2 * 16
    assert await _digest(database_url) == before


async def test_an_event_owner_cannot_touch_an_attendees_booking(
    api: Api, database_url: str, world: dict[str, Any]
) -> None:
    owner: Account = world["victim organizer"]
    reference = world["victim"]["reference"]
    before = await _digest(database_url)
    for method, path in [
        ("GET", f"/api/bookings/{reference}/"),
        ("PUT", f"/api/bookings/{reference}/cancel/"),
        ("PATCH", f"/api/bookings/{reference}/cancel/"),
    ]:
        response = await api.client.request(method, path, headers=owner.headers)
        assert response.status in (403, 404), (method, path)
    assert await _digest(database_url) == before


async def test_filters_do_not_leak_other_users_bookings(api: Api, world: dict[str, Any]) -> None:
    attendee: Account = world["attackers"]["other attendee"]
    event_id = world["victim"]["event_id"]
    for query in ("", f"?event={event_id}", "?status=confirmed", "?page_size=100"):
        response = await api.client.get(f"/api/users/me/bookings/{query}", headers=attendee.headers)
        assert response.status == 200
        page = await response.json()
        assert (page["count"], page["results"]) == (0, []), query
