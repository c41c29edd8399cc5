"""The one route table. Every path answers with and without its trailing slash."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from server.http import health

__all__ = ["ROUTES", "Route", "setup_routes"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str  # written without a trailing slash
    handler: Handler
    name: str


ROUTES: tuple[Route, ...] = (Route("GET", "/api/health", health.health, "health"),)


def setup_routes(app: web.Application, routes: tuple[Route, ...] = ROUTES) -> None:
    for route in routes:
        path = route.path.rstrip("/")
        app.router.add_route(route.method, path, route.handler, name=route.name)
        app.router.add_route(route.method, path + "/", route.handler)
