"""Rate limits applied at the edge: by client address and by account name."""

from __future__ import annotations

from aiohttp import web

from server.keys import config_key, limiter_key
from server.ratelimit import Limit

__all__ = ["client_address", "throttle"]


def client_address(request: web.Request) -> str:
    """The caller's address; behind a trusted proxy, the last one in X-Forwarded-For."""
    if request.app[config_key].trust_forwarded_for:
        forwarded = request.headers.get("X-Forwarded-For", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            return last
    return request.remote or "unknown"


async def throttle(request: web.Request, limit: Limit, key: str | None = None) -> None:
    """Count this request against ``limit`` for ``key`` (the client's address by default)."""
    await request.app[limiter_key].check(limit, key if key is not None else client_address(request))
