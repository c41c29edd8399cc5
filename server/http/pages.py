"""The pages (``/events/{event_id}/live``, ``…/queue``, ``…/dashboard``, ``/admin``) and their
assets, served from the project (no CDN)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from server.errors import NotFound
from server.http.endpoints import endpoint
from server.http.paths import path_id

__all__ = [
    "DOCS_SECURITY_HEADERS",
    "SECURITY_HEADERS",
    "STATIC",
    "admin_page",
    "dashboard_page",
    "live_page",
    "queue_page",
    "static_asset",
]

STATIC = Path(__file__).resolve().parent.parent / "static"
VENDOR = STATIC / "vendor"  # installed from npm by server.docs_assets
JS, CSS = "text/javascript", "text/css"
ASSETS = {
    "live.js": (STATIC, JS),
    "queue.js": (STATIC, JS),
    "console.js": (STATIC, JS),
    "admin.js": (STATIC, JS),
    "dashboard.js": (STATIC, JS),
    "live.css": (STATIC, CSS),
    "favicon.svg": (STATIC, "image/svg+xml"),
    "swagger-init.js": (STATIC, JS),
    "swagger-ui-bundle.js": (VENDOR, JS),
    "swagger-ui.css": (VENDOR, CSS),
    "redoc.standalone.js": (VENDOR, JS),
}
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
# Swagger UI and ReDoc set inline styles, and ReDoc searches in a blob: worker; scripts still
# come only from this origin.
DOCS_SECURITY_HEADERS = {
    **SECURITY_HEADERS,
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "connect-src 'self'; img-src 'self' data:; font-src 'self' data:; "
        "worker-src 'self' blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
}


def _event_page(file: str) -> Callable[[web.Request], Awaitable[web.FileResponse]]:
    """The handler of a page about one event, served from ``file``."""

    async def page(request: web.Request) -> web.FileResponse:
        path_id(request, "event_id")  # a non-numeric id is 404; an unknown one is the page's to say
        return web.FileResponse(STATIC / file, headers=SECURITY_HEADERS)

    return page


live_page = endpoint(
    "live-page",
    "A page showing an event's availability live (HTML)",
    "Live availability",
    description="HTML.",
)(_event_page("live.html"))
queue_page = endpoint(
    "queue-page",
    "A page to queue in an event's waiting room, then book (HTML)",
    "Waiting room",
    description="HTML: sign in, join, watch your place and ETA live, book once admitted.",
)(_event_page("queue.html"))
dashboard_page = endpoint(
    "dashboard-page",
    "An organizer's live dashboard of an on-sale (HTML)",
    "Consoles",
    description="HTML: sign in as the event's organizer (or an admin).",
)(_event_page("dashboard.html"))


@endpoint(
    "admin-page",
    "The admin console (HTML)",
    "Consoles",
    description="HTML: sign in as an admin; find users and events, change roles, cancel events.",
)
async def admin_page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "admin.html", headers=SECURITY_HEADERS)


@endpoint(
    "static",
    "The pages' scripts and styles",
    "Service",
    description="Files.",
    path={"name": {"enum": sorted(ASSETS)}},
)
async def static_asset(request: web.Request) -> web.FileResponse:
    name = request.match_info["name"]
    if name not in ASSETS:
        raise NotFound()
    folder, content_type = ASSETS[name]
    if not (folder / name).is_file():
        raise NotFound()
    headers = {
        "Content-Type": content_type,
        "Cache-Control": "public, max-age=300",
        **SECURITY_HEADERS,
    }
    return web.FileResponse(folder / name, headers=headers)
