"""The OpenAPI 3.1 document, built from the route table.

Each route carries one ``Doc``; its request body is the very ``Schema`` its handler validates
with, and its responses name the shapes below (the event and ticket-type shapes come from the
same declarations too), so the document cannot drift from the code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from server.auth import reads_tokens
from server.http.validation import Schema

if TYPE_CHECKING:
    from server.http.routes import Route

__all__ = ["Doc", "Param", "build_document"]

SECURITY_SCHEME = "bearer"
REASONS = {
    101: "Switching protocols",
    200: "OK", 201: "Created", 204: "No content", 400: "Invalid input",
    401: "Not signed in, or a bad token (refused wherever one is sent, as in the reference)",
    403: "Not allowed for this caller",
    404: "Not found", 405: "Method not allowed", 408: "The body did not arrive in time",
    409: "Conflicts with the current state", 413: "Body over 1 MiB",
    422: "Idempotency-Key reused with another body", 429: "Rate limited (see Retry-After)",
    503: "A dependency is unavailable; retry later",
}  # fmt: skip
# Errors every route that reads a JSON body can answer.
BODY_ERRORS = (400, 408, 413)


@dataclass(frozen=True, slots=True)
class Param:
    """A query parameter (or a header, with ``where="header"``)."""

    name: str
    description: str
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})
    where: str = "query"


@dataclass(frozen=True, slots=True)
class Doc:
    """What the OpenAPI document says of one route."""

    summary: str
    tag: str
    ok: int = 200
    returns: str | None = None  # a component name; None for an empty body
    body: Schema | None = None
    partial: bool = False  # PATCH: every body field optional
    auth: bool = False  # a bearer token is required
    errors: tuple[int, ...] = ()  # beyond those implied by auth, body and path ids
    params: tuple[Param, ...] = ()
    description: str = ""
    websocket: bool = False


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _closed(properties: dict[str, Any], required: Iterable[str] | None = None) -> dict[str, Any]:
    """An object with exactly these properties, all present unless ``required`` says which."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties if required is None else required),
        "additionalProperties": False,
    }


def representation(schema: Schema) -> dict[str, Any]:
    """A declaration as the server renders it: every field, read-only ones included."""
    properties = {name: spec.json_schema() for name, spec in schema.fields.items()}
    properties.update({name: spec.json_schema() for name, spec in schema.read_only.items()})
    return _closed(properties)


def request_body(schema: Schema, partial: bool) -> dict[str, Any]:
    body = schema.json_schema()
    body["properties"] = {
        name: spec for name, spec in body["properties"].items() if not spec.get("readOnly")
    }
    if partial:
        body.pop("required", None)
    return body


def _page(item: str) -> dict[str, Any]:
    link = {"type": ["string", "null"], "format": "uri"}
    return _closed(
        {
            "count": {"type": "integer", "minimum": 0},
            "next": link,
            "previous": link,
            "results": {"type": "array", "items": _ref(item)},
        }
    )


def _components() -> dict[str, Any]:
    from server.http.accounts import PROFILE, ROLE
    from server.http.bookings import BOOKING_STATUSES
    from server.http.events import EVENT, TICKET_TYPE

    text = {"type": "string"}
    moment = {"type": "string", "format": "date-time"}
    money = {"type": "string", "pattern": r"^-?\d+\.\d{2}$"}
    item = _closed(
        {
            "id": {"type": "integer"},
            "ticket_type_name": text,
            "quantity": {"type": "integer", "minimum": 1},
            "price_at_booking": money,
        }
    )
    booking = {
        "booking_reference": {"type": "string", "format": "uuid"},
        "event_id": {"type": "integer"},
        "event_name": text,
        "status": {"type": "string", "enum": list(BOOKING_STATUSES)},
        "created_at": moment,
        "updated_at": moment,
        "cancelled_at": {"type": ["string", "null"], "format": "date-time"},
        "items": {"type": "array", "items": _ref("BookingItem")},
        "total_price": money,
    }
    return {
        "Error": {
            "type": "object",
            "description": "Every error but a field error. 401s for tokens add `messages`; "
            "booking refusals may add `non_field_errors`.",
            "properties": {"detail": text, "code": text},
            "required": ["detail", "code"],
        },
        "FieldErrors": {
            "type": "object",
            "description": "Messages per field, as the reference API gives them.",
            "additionalProperties": {"type": "array"},
            "minProperties": 1,
        },
        "Detail": _closed({"detail": text}),
        "Tokens": _closed({"refresh": text, "access": text}),
        "Access": _closed({"access": text}),
        "Registered": _closed(
            {
                "username": text,
                "email": {"type": "string", "format": "email"},
                "role": ROLE.json_schema(),
            }
        ),
        "Profile": representation(PROFILE),
        "Event": representation(EVENT),
        "TicketType": representation(TICKET_TYPE),
        "BookingItem": item,
        "Booking": _closed(booking),
        "EventBooking": _closed({**booking, "username": text}),
        "EventPage": _page("Event"),
        "TicketTypePage": _page("TicketType"),
        "BookingPage": _page("Booking"),
        "EventBookingPage": _page("EventBooking"),
        "Health": {
            "type": "object",
            "properties": {
                "status": {"enum": ["ok", "error"]},
                "database": {"enum": ["ok", "error"]},
                "redis": {"enum": ["ok", "error", "disabled"]},
                "detail": text,
                "code": text,
            },
            "required": ["status", "database", "redis"],
        },
    }


_PATH_PARAM = re.compile(r"{(\w+)(?::(?:[^{}]|{[^{}]*})*)?}")  # {name} or {name:regex}
_PATH_SCHEMAS = {
    "event_id": {"type": "integer", "minimum": 1},
    "ticket_type_id": {"type": "integer", "minimum": 1},
    "reference": {"type": "string", "format": "uuid"},
}


def _path(route: Route) -> tuple[str, list[dict[str, Any]]]:
    """The OpenAPI path (the reference API's paths with their trailing slash) and its params."""
    from server.http.pages import ASSETS

    schemas = {**_PATH_SCHEMAS, "name": {"enum": sorted(ASSETS)}}
    names = _PATH_PARAM.findall(route.path)
    params = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": schemas.get(name, {"type": "string"}),
        }
        for name in names
    ]
    path = _PATH_PARAM.sub(r"{\1}", route.path)
    reference_style = path.startswith("/api/") and not path.startswith(("/api/schema", "/api/docs"))
    return (path + "/" if reference_style else path), params


def _error(status: int) -> dict[str, Any]:
    schema = {"anyOf": [_ref("Error"), _ref("FieldErrors")]} if status == 400 else _ref("Error")
    response: dict[str, Any] = {
        "description": REASONS[status],
        "content": {"application/json": {"schema": schema}},
    }
    if status in (429, 503):
        response["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
    return response


def _operation(route: Route, path_params: list[dict[str, Any]]) -> dict[str, Any]:
    doc = route.doc
    ok: dict[str, Any] = {"description": REASONS[doc.ok]}
    if doc.returns is not None:
        ok["content"] = {"application/json": {"schema": _ref(doc.returns)}}
    errors = set(doc.errors)
    if doc.auth or reads_tokens(route.path):
        errors.add(401)
    if doc.body is not None:
        errors.update(BODY_ERRORS)
    if path_params:
        errors.add(404)
    operation: dict[str, Any] = {
        "operationId": route.name,
        "summary": doc.summary,
        "tags": [doc.tag],
        "parameters": path_params
        + [
            {"name": p.name, "in": p.where, "description": p.description, "schema": p.schema}
            for p in doc.params
        ],
        "responses": {str(doc.ok): ok} | {str(status): _error(status) for status in sorted(errors)},
    }
    if doc.description:
        operation["description"] = doc.description
    if doc.auth:
        operation["security"] = [{SECURITY_SCHEME: []}]
    if doc.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": request_body(doc.body, doc.partial)}},
        }
    return operation


def build_document(routes: Iterable[Route], server_url: str | None = None) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        path, params = _path(route)
        paths.setdefault(path, {})[route.method.lower()] = _operation(route, params)
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "Stampede",
            "version": "1.0.0",
            "summary": "Event ticketing that never oversells, with live availability.",
            "description": DESCRIPTION,
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "paths": paths,
        "components": {
            "schemas": _components(),
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "The `access` token from `POST /api/auth/login/`.",
                }
            },
        },
    }
    if server_url:
        document["servers"] = [{"url": server_url}]
    return document


DESCRIPTION = """\
REST paths and JSON shapes follow the reference Django API (kkig/event-booking-api); its
clients work unchanged. Every route answers with and without its trailing slash.

**Errors.** Field errors are `{"<field>": ["message", ...]}`; every other error is
`{"detail": "message", "code": "machine_code"}`.

**Live availability.** `GET /ws/events/{event_id}` (one event) and `GET /ws` (subscribe to
several with `{"op": "subscribe", "event_id": 1}` / `{"op": "unsubscribe", ...}`) are
websockets. The server sends the event's whole availability first, then again after each
committed change (at most one message per event every 50 ms, the last state always sent):
`{"type": "availability", "event_id", "seq", "status", "total_capacity", "tickets_sold",
"tickets_available", "ticket_types": [{"id", "name", "price", "quantity_available",
"quantity_sold", "is_active"}]}`; `seq` only grows. Errors are
`{"type": "error", "code", "detail"}`; an unknown event on `/ws/events/{id}` closes with 4404;
shutdown closes with 1001; client messages over 4 KiB close that socket with 1009.
"""
