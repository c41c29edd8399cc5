"""``/api/events/{id}/queue``: one's place in an event's waiting room."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server.http.endpoints import endpoint
from server.http.paths import path_id
from server.http.shapes.queue import QueueOut
from server.jsonio import json_response
from server.keys import waiting_rooms_key
from server.render import iso
from server.users import ATTENDEE, User
from server.waiting_room.rooms import NO_ROOM

__all__ = ["join_queue", "my_place"]

QUEUE = "Waiting room"
JOIN = """Joining twice gives the same place; joining after one's admission ran out queues again, \
at the back (201 for a new place, 200 for the same one). Those who join before `sales_start` \
are in the `prequeue`: at `sales_start` they get places drawn at random, so arriving early gives \
no edge; later arrivals queue in order. Places are admitted in order at the room's \
`admit_per_minute`; once `admitted`, book with the `queue_token` as the `Queue-Token` header \
until `admitted_until`. An authenticated live socket (`/ws`, `{"op": "auth"}`) is told the place \
every few seconds and at once on admission.

400 `queue_not_open` more than 30 minutes before `sales_start`; 400 `event_closed` once the \
event no longer sells; 404 on an event without a waiting room."""


def _shown(place: dict[str, Any]) -> dict[str, Any]:
    return {**place, "admitted_until": iso(place["admitted_until"])}


@endpoint(
    "queue-join",
    "Join an event's waiting room",
    QUEUE,
    status=201,
    also=(200,),
    returns=QueueOut,
    access=ATTENDEE,
    errors=(400, 404),
    description=JOIN,
)
async def join_queue(request: web.Request, user: User) -> web.Response:
    event_id = path_id(request, "event_id", NO_ROOM)
    fresh, place = await request.app[waiting_rooms_key].join(event_id, user.id)
    return json_response(_shown(place), status=201 if fresh else 200)


@endpoint(
    "queue-place",
    "Your place in an event's waiting room",
    QUEUE,
    returns=QueueOut,
    access=ATTENDEE,
    description="404 `not_in_queue` before joining; 404 on an event without a waiting room.",
)
async def my_place(request: web.Request, user: User) -> web.Response:
    event_id = path_id(request, "event_id", NO_ROOM)
    return json_response(_shown(await request.app[waiting_rooms_key].place(event_id, user.id)))
