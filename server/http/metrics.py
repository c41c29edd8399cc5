"""``GET /metrics``: Prometheus text, behind ``METRICS_TOKEN`` when one is set."""

from __future__ import annotations

import hmac

from aiohttp import web

from server.errors import NotFound, Unauthorized
from server.http.endpoints import endpoint
from server.keys import config_key, metrics_key, pool_key, queries_key
from server.metrics import CONTENT_TYPE

__all__ = ["metrics"]

DESCRIPTION = """The Prometheus text format (`prometheus-client`): HTTP requests and latency by \
route template, the event actors' batches, bookings, cancellations, expiries, offers and \
admissions, websocket connections and fan-out passes, the outbox's backlog, the database pool. \
Each instance counts what it served. With `METRICS_TOKEN` set it needs `Authorization: Bearer \
<METRICS_TOKEN>`; with `METRICS=off`, 404."""


@endpoint(
    "metrics",
    "Prometheus metrics of this instance",
    "Service",
    errors=(401, 404),
    description=DESCRIPTION,
)
async def metrics(request: web.Request) -> web.Response:
    config, found = request.app[config_key], request.app.get(metrics_key)
    if found is None:
        raise NotFound()
    if config.metrics_token:
        sent = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not hmac.compare_digest(sent.encode(), config.metrics_token.encode()):
            raise Unauthorized("A valid metrics token is required.")
    await found.read_outbox(request.app[pool_key], request.app[queries_key]["outbox_backlog"])
    response = web.Response(body=found.render())
    response.headers["Content-Type"] = CONTENT_TYPE
    return response
