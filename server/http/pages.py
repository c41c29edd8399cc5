"""``GET /events/{event_id}/live`` and its assets, served from the project (no CDN)."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from server.errors import NotFound
from server.http.events import path_id

__all__ = ["SECURITY_HEADERS", "live_page", "static_asset"]

STATIC = Path(__file__).resolve().parent.parent / "static"
ASSETS = {"live.js": "text/javascript", "live.css": "text/css", "favicon.svg": "image/svg+xml"}
# The page loads only its own script and style, and talks only to its own origin.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


async def live_page(request: web.Request) -> web.FileResponse:
    path_id(request, "event_id")  # a non-numeric id is 404; an unknown one is the page's to say
    return web.FileResponse(STATIC / "live.html", headers=SECURITY_HEADERS)


async def static_asset(request: web.Request) -> web.FileResponse:
    name = request.match_info["name"]
    if name not in ASSETS:
        raise NotFound()
    headers = {
        "Content-Type": ASSETS[name],
        "Cache-Control": "public, max-age=300",
        **SECURITY_HEADERS,
    }
    return web.FileResponse(STATIC / name, headers=headers)
