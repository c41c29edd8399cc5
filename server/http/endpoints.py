"""Endpoints: a handler and its declaration, made one by the ``endpoint`` decorator.

The handler's signature names its input: ``body: EventIn`` (the JSON body), ``query:
EventQuery`` (the query string), ``user: User`` (the caller, checked against ``access``). The
decorator checks the caller, validates the input against those models and passes them in; the
OpenAPI document is built from the same declarations (``ENDPOINTS``), so what is validated and
what is documented cannot drift apart.

    @endpoint("event-create", "Create an event (organizers)", EVENTS, status=201,
              returns=EventOut, access=ORGANIZER, errors=(403,))
    async def create_event(request: web.Request, user: User, body: EventIn) -> web.Response:
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from server.auth import require_user
from server.errors import PermissionDenied
from server.http.body import read_json_object
from server.http.validation import parse_body, parse_query, partial

__all__ = [
    "ENDPOINTS",
    "SIGNED_IN",
    "BodyReader",
    "Endpoint",
    "Handler",
    "Header",
    "endpoint",
    "read_body",
]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SIGNED_IN = "signed in"  # any role


@dataclass(frozen=True, slots=True)
class Header:
    """A request header the endpoint reads, described by ``schema`` (a pydantic type)."""

    name: str
    description: str
    schema: Any


@dataclass(frozen=True, slots=True)
class Endpoint:
    name: str  # the route's name and operationId
    summary: str
    tag: str
    status: int = 200
    also: tuple[int, ...] = ()  # other success statuses, answering the same shape
    returns: type[BaseModel] | None = None  # None: no JSON body (204, pages, websockets)
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    access: str | None = None  # None: anyone; SIGNED_IN; or the one role allowed
    errors: tuple[int, ...] = ()  # beyond those the declaration implies
    headers: tuple[Header, ...] = ()
    description: str = ""
    # Path parameters beyond the common ones (server/http/paths.py): a type, or a JSON Schema.
    path: Mapping[str, Any] = field(default_factory=dict)


ENDPOINTS: dict[Handler, Endpoint] = {}


BodyReader = Callable[[web.Request, type[BaseModel]], Awaitable[BaseModel]]


async def read_body(request: web.Request, model: type[BaseModel]) -> BaseModel:
    return parse_body(model, await read_json_object(request))


def endpoint(
    name: str,
    summary: str,
    tag: str,
    *,
    partial_body: bool = False,
    body_reader: BodyReader = read_body,
    **declared: Any,
) -> Callable[[Callable[..., Awaitable[web.StreamResponse]]], Handler]:
    """Declare a handler (see the module's docstring); ``partial_body``: PATCH, every body
    field optional; ``body_reader``: how the body is read, when not as the model says alone.
    ``declared``: the other ``Endpoint`` fields."""

    def decorate(function: Callable[..., Awaitable[web.StreamResponse]]) -> Handler:
        hints = typing.get_type_hints(function)
        body, query = hints.get("body"), hints.get("query")
        if body is not None and partial_body:
            body = partial(body)
        access, wants_user = declared.get("access"), "user" in hints
        given = [name for name in inspect.signature(function).parameters if name != "request"]
        # The handler takes what it names, in this order (passed positionally: cheaper).
        assert given == [n for n in ("user", "query", "body") if n in given], function

        @functools.wraps(function)
        async def handler(request: web.Request) -> web.StreamResponse:
            arguments: list[Any] = [request]
            if access is not None:  # who may, before what they sent is looked at
                user = require_user(request)
                if access != SIGNED_IN and user.role != access:
                    raise PermissionDenied()
                if wants_user:
                    arguments.append(user)
            if query is not None:
                arguments.append(parse_query(query, request.query))
            if body is not None:
                arguments.append(await body_reader(request, body))
            return await function(*arguments)

        ENDPOINTS[handler] = Endpoint(name, summary, tag, body=body, query=query, **declared)
        return handler

    return decorate
