"""The OpenAPI 3.1 document, built at startup from the application's router: every named route
whose handler is a declared ``endpoint`` becomes an operation, its body, query string and
answer described by the very models its handler validates with (``shapes``), its errors
implied by its declaration. Nothing is typed twice, so the document cannot drift from the code.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

import orjson
import yaml
from aiohttp import web
from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from server.auth import reads_tokens
from server.http.endpoints import ENDPOINTS, SIGNED_IN, Endpoint
from server.http.guide import DESCRIPTION
from server.http.paths import PATH_PARAMETERS
from server.http.shapes.common import Error, FieldErrorsOut

__all__ = ["OpenApi", "build_document"]

SECURITY_SCHEME = "bearer"
REF = "#/components/schemas/{model}"
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
BODY_ERRORS = (400, 408, 413)  # every route that reads a JSON body can answer these
_PARAMETER = re.compile(r"{(\w+)}")

Models = dict[tuple[Any, JsonSchemaMode], dict[str, Any]]


@dataclass(frozen=True)
class OpenApi:
    document: dict[str, Any]

    @functools.cached_property
    def json(self) -> bytes:
        return orjson.dumps(self.document)

    @functools.cached_property
    def yaml(self) -> str:
        return yaml.safe_dump(self.document, sort_keys=False, allow_unicode=True)


def _declared(app: web.Application) -> list[tuple[web.AbstractRoute, Endpoint]]:
    """Each declared route once (its named form: the trailing-slash twin has no name)."""
    return [
        (route, ENDPOINTS[route.handler])
        for route in app.router.routes()
        if route.name is not None and route.handler in ENDPOINTS
    ]


def build_document(app: web.Application) -> dict[str, Any]:
    declared = _declared(app)
    wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        (Error, "serialization"),
        (FieldErrorsOut, "serialization"),
    ]
    for _, endpoint in declared:
        if endpoint.body is not None:
            wanted.append((endpoint.body, "validation"))
        if endpoint.returns is not None:
            wanted.append((endpoint.returns, "serialization"))
    models, definitions = models_json_schema(list(dict.fromkeys(wanted)), ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    for route, endpoint in declared:
        assert route.resource is not None
        path = _openapi_path(route.resource.canonical)
        paths.setdefault(path, {})[route.method.lower()] = _operation(path, endpoint, models)
    return {
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
            "schemas": definitions.get("$defs", {}),
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


def _openapi_path(canonical: str) -> str:
    """The reference API's paths with their trailing slash (both forms are served)."""
    reference = canonical.startswith("/api/") and not canonical.startswith(
        ("/api/schema", "/api/docs")
    )
    return canonical + "/" if reference else canonical


def _schema(declared: Any) -> dict[str, Any]:
    """A JSON Schema given as such, or a pydantic type's."""
    return dict(declared) if isinstance(declared, dict) else TypeAdapter(declared).json_schema()


def _parameters(path: str, endpoint: Endpoint) -> list[dict[str, Any]]:
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": _schema(
                endpoint.path.get(name, PATH_PARAMETERS.get(name, {"type": "string"}))
            ),
        }
        for name in _PARAMETER.findall(path)
    ]
    if endpoint.query is not None:
        query = endpoint.query.model_json_schema()
        for name, schema in query["properties"].items():
            schema.pop("title", None)
            parameters.append(
                {
                    "name": name,
                    "in": "query",
                    "required": name in query.get("required", ()),
                    "description": schema.pop("description", ""),
                    "schema": schema,
                }
            )
    for header in endpoint.headers:
        parameters.append(
            {
                "name": header.name,
                "in": "header",
                "description": header.description,
                "schema": _schema(header.schema),
            }
        )
    return parameters


def _errors(path: str, endpoint: Endpoint) -> list[int]:
    errors = set(endpoint.errors)
    if endpoint.access is not None or reads_tokens(path):
        errors.add(401)
    if endpoint.access not in (None, SIGNED_IN):
        errors.add(403)
    if endpoint.body is not None:
        errors.update(BODY_ERRORS)
    if endpoint.headers:
        errors.add(400)  # a header the declaration refuses
    if endpoint.query is not None:
        errors.add(400)
        if "page" in endpoint.query.model_fields:
            errors.add(404)  # a page past the last one
    if _PARAMETER.search(path):
        errors.add(404)
    return sorted(errors)


def _error(status: int, models: Models) -> dict[str, Any]:
    error = models[(Error, "serialization")]
    schema = (
        {"anyOf": [error, models[(FieldErrorsOut, "serialization")]]} if status == 400 else error
    )
    response: dict[str, Any] = {
        "description": REASONS[status],
        "content": {"application/json": {"schema": schema}},
    }
    if status in (429, 503):
        response["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
    return response


def _operation(path: str, endpoint: Endpoint, models: Models) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status in (endpoint.status, *endpoint.also):
        ok: dict[str, Any] = {"description": REASONS[status]}
        if endpoint.returns is not None:
            schema = models[(endpoint.returns, "serialization")]
            ok["content"] = {"application/json": {"schema": schema}}
        responses[str(status)] = ok
    responses |= {str(status): _error(status, models) for status in _errors(path, endpoint)}
    operation: dict[str, Any] = {
        "operationId": endpoint.name,
        "summary": endpoint.summary,
        "tags": [endpoint.tag],
        "parameters": _parameters(path, endpoint),
        "responses": responses,
    }
    if endpoint.description:
        operation["description"] = endpoint.description
    if endpoint.access is not None:
        operation["security"] = [{SECURITY_SCHEME: []}]
    if endpoint.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": models[(endpoint.body, "validation")]}},
        }
    return operation
