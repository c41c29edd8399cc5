"""``GET /api/health``: is this instance able to serve, and if not, which part is down."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from server.http.endpoints import endpoint
from server.http.shapes.common import Health
from server.jsonio import json_response
from server.keys import pool_key, queries_key, redis_key

__all__ = ["health"]

log = logging.getLogger("stampede.health")

CHECK_TIMEOUT = 2.0


async def _database_ok(app: web.Application) -> bool:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            await app[pool_key].fetchval(app[queries_key]["ping"])
    except Exception as exc:  # any failure means "down"; the reason goes to the log
        log.warning("health: database check failed: %r", exc)
        return False
    return True


async def _redis_status(app: web.Application) -> str:
    redis = app[redis_key]
    if redis is None:
        return "disabled"
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            await redis.ping()
    except Exception as exc:
        log.warning("health: redis check failed: %r", exc)
        return "error"
    return "ok"


@endpoint(
    "health",
    "Health of the server and its dependencies",
    "Service",
    returns=Health,
    errors=(503,),
)
async def health(request: web.Request) -> web.Response:
    database_ok, redis = await asyncio.gather(_database_ok(request.app), _redis_status(request.app))
    database = "ok" if database_ok else "error"
    failed = [
        name for name, status in (("database", database), ("redis", redis)) if status == "error"
    ]
    if not failed:
        return json_response({"status": "ok", "database": database, "redis": redis})
    body = {
        "status": "error",
        "database": database,
        "redis": redis,
        "detail": f"Unavailable: {', '.join(failed)}.",
        "code": "service_unavailable",
    }
    return json_response(body, status=503)
