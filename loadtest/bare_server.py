"""The ceiling of the HTTP stack for the booking benchmark: aiohttp + uvloop + orjson answering
``POST /api/bookings/`` with a 201 body shaped like Stampede's, and nothing else (no auth, no
validation beyond reading the JSON, no database, no actor, no mail, no access log).

``make bench`` runs it first, under the same load generator and client counts, so that every
booking figure is printed next to the ceiling of the same run.

    .venv/bin/python loadtest/bare_server.py [--port 8000]
"""

from __future__ import annotations

import argparse
import asyncio
import uuid
from datetime import UTC, datetime

import orjson
import uvloop
from aiohttp import web


async def book(request: web.Request) -> web.Response:
    order = orjson.loads(await request.read())
    now = datetime.now(UTC).isoformat()
    items = [
        {
            "id": n,
            "ticket_type_name": "GA",
            "quantity": item["quantity"],
            "price_at_booking": "49.00",
        }
        for n, item in enumerate(order["items"], 1)
    ]
    body = {
        "booking_reference": str(uuid.uuid4()),
        "event_id": order["event_id"],
        "event_name": "Hot on-sale",
        "status": "confirmed",
        "created_at": now,
        "updated_at": now,
        "cancelled_at": None,
        "expires_at": None,
        "items": items,
        "total_price": "49.00",
    }
    return web.Response(body=orjson.dumps(body), status=201, content_type="application/json")


async def health(request: web.Request) -> web.Response:
    return web.Response(body=b'{"status": "ok"}', content_type="application/json")


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_post("/api/bookings/", book)
    app.router.add_get("/api/health", health)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    web.run_app(make_app(), host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
