"""Path parameters: each name's type (the OpenAPI document shows it) and its parsing, where
anything malformed names nothing: 404."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from server.errors import NotFound
from server.http.fields import Id
from server.http.validation import parse_id

__all__ = ["PATH_PARAMETERS", "path_id", "path_reference"]

# The type of each path parameter, by name (``{name}`` in the routes).
PATH_PARAMETERS: dict[str, Any] = {
    "event_id": Id,
    "ticket_type_id": Id,
    "entry_id": Id,
    "user_id": Id,
    "webhook_id": Id,
    "reference": uuid.UUID,
}


def path_id(request: web.Request, name: str, detail: str | None = None) -> int:
    """A numeric id from the path; anything else (or out of range) is 404."""
    number = parse_id(request.match_info[name])
    if number is None:
        raise NotFound(detail)
    return number


def path_reference(request: web.Request, detail: str | None = None) -> uuid.UUID:
    """A booking reference (a UUID) from the path; anything else is 404."""
    try:
        return uuid.UUID(request.match_info["reference"])
    except ValueError:
        raise NotFound(detail) from None
