"""The one middleware every request passes: its id, its Bearer token's user, every failure in
the one JSON error shape, then its metrics and its access-log line.

One middleware rather than three: each layer is a coroutine frame that every request enters and
every resumption of its handler (the actor's answer, the body's arrival) passes through again.
"""

from __future__ import annotations

import itertools
import logging
import re
import secrets
import time

from aiohttp import web
from aiohttp.typedefs import Handler

from server.auth import authenticate, current_user
from server.db import DATABASE_GONE
from server.errors import ApiError
from server.jsonio import json_response
from server.keys import config_key, metrics_key

__all__ = ["REQUEST_ID_HEADER", "request_id_key", "request_middleware", "route_of"]

access_log = logging.getLogger("stampede.access")
log = logging.getLogger("stampede.errors")

REQUEST_ID_HEADER = "X-Request-ID"
request_id_key = web.RequestKey("request_id", str)
# Request ids: a random prefix per process and a counter; unique across instances, and far
# cheaper than a uuid4 per request on the booking hot path.
_ID_PREFIX = secrets.token_hex(6)
_id_counter = itertools.count(1)
# A caller's id is kept only when it is short and harmless to log.
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


@web.middleware
async def request_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer the request (see the module's docstring); never raises but for a redirect
    or a cancellation."""
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    request_id = incoming if _SAFE_ID.match(incoming) else f"{_ID_PREFIX}{next(_id_counter):010x}"
    request[request_id_key] = request_id
    started = time.perf_counter()
    status = 500
    try:
        try:
            # PostgreSQL text cannot hold NUL; no filter needs it.
            if "\x00" in request.query_string:
                raise ApiError("Null characters are not allowed.", code="invalid_query")
            await authenticate(request)
            response = await handler(request)
        except Exception as exc:
            response = _error_response(exc, request)
        status = response.status
        if not response.prepared:
            response.headers[REQUEST_ID_HEADER] = request_id
            # Browsers take each response for exactly the type it says it is.
            response.headers["X-Content-Type-Options"] = "nosniff"
        return response
    finally:
        _observe(request, request_id, status, time.perf_counter() - started)


def _observe(request: web.Request, request_id: str, status: int, seconds: float) -> None:
    """The request's metrics and access-log line (when either is on)."""
    metrics = request.app.get(metrics_key)
    logged = access_log.isEnabledFor(logging.INFO)
    if metrics is not None or logged:
        route = route_of(request)
        if metrics is not None:
            metrics.request(route, request.method, status, seconds)
        if logged:
            _log_request(request, request_id, route, status, seconds)


def route_of(request: web.Request) -> str:
    """The route's template (``/api/events/{event_id}``), never the raw path; ``unmatched``."""
    resource = request.match_info.route.resource
    if resource is None:
        return "unmatched"
    return resource.canonical.rstrip("/") or "/"


def _log_request(
    request: web.Request, request_id: str, route: str, status: int, seconds: float
) -> None:
    """One line per request; its fields also as record attributes (``LOG_FORMAT=json``)."""
    user = current_user(request)
    fields = {
        "request_id": request_id, "method": request.method, "route": route,
        "path": request.path, "status": status, "duration_ms": round(seconds * 1000, 2),
        "user_id": user.id if user is not None else None,
    }  # fmt: skip
    access_log.info(
        "%s %s %s %.1fms rid=%s", request.method, request.path_qs, status, seconds * 1000,
        request_id, extra=fields,
    )  # fmt: skip


# Statuses aiohttp raises by itself (routing, body size), mapped to our codes and messages.
_HTTP_CODES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "Bad request."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", 'Method "{method}" not allowed.'),
    413: ("request_too_large", "Request body is too large (limit {limit} bytes)."),
}


def _from_http_exception(exc: web.HTTPException, request: web.Request) -> web.Response:
    code, template = _HTTP_CODES.get(exc.status, ("http_error", exc.reason))
    limit = request.app[config_key].max_body_bytes
    detail = template.format(method=request.method, limit=limit)
    headers = {}
    if "Allow" in exc.headers:
        headers["Allow"] = exc.headers["Allow"]
    return json_response({"detail": detail, "code": code}, status=exc.status, headers=headers)


def _error_response(exc: Exception, request: web.Request) -> web.StreamResponse:
    """Every failure as JSON; unexpected ones logged with their traceback, shown to nobody.
    A redirect (an HTTPException below 400) is raised again, for aiohttp to send."""
    if isinstance(exc, ApiError):
        return json_response(exc.body(), status=exc.status, headers=exc.headers)
    if isinstance(exc, web.HTTPException):
        if exc.status < 400:
            raise exc
        return _from_http_exception(exc, request)
    if isinstance(exc, DATABASE_GONE):
        log.warning("database unavailable on %s %s: %r", request.method, request.path, exc)
        body = {
            "detail": "The database is unavailable; retry shortly.",
            "code": "database_unavailable",
        }
        return json_response(body, status=503, headers={"Retry-After": "1"})
    log.error("unhandled error on %s %s", request.method, request.path, exc_info=exc)
    body = {"detail": "Internal server error.", "code": "internal_error"}
    return json_response(body, status=500)
