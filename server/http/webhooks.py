"""``/api/webhooks/``: an organizer's endpoints, and each one's delivery log."""

from __future__ import annotations

from aiohttp import web

from server.http.endpoints import endpoint
from server.http.pagination import Page, paginated
from server.http.paths import path_id
from server.http.shapes.common import PageQuery
from server.http.shapes.webhooks import DeliveryPage, WebhookCreated, WebhookIn, WebhookPage
from server.jsonio import json_response
from server.keys import webhooks_key
from server.users import ORGANIZER, User
from server.webhooks.subscriptions import WEBHOOK_NOT_FOUND

__all__ = ["create_webhook", "delete_webhook", "list_webhooks", "webhook_deliveries"]

WEBHOOKS = "Webhooks"
DELIVERIES = """Stampede POSTs each delivery as JSON `{"id", "type", "created_at", "data"}` \
(`data`: the booking, or for `event.sold_out` the event's counts), with the header \
`Stampede-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`: check it \
with your secret, and refuse old timestamps. Any 2xx is success; anything else (a redirect too: \
they are not followed) is retried, first after 1 s, each wait doubling up to 10 minutes, for 72 \
hours. A delivery keeps its `id` on every retry: deliveries are at least once, so drop repeats \
by `id`. `booking.created` comes when a booking is confirmed (a hold: when it is confirmed); \
`hold.expired` when a hold runs out; `waitlist.offered` when freed seats are held for a waiting \
entry; `event.sold_out` when the last ticket on sale goes; `booking.cancelled` when a booking is \
cancelled, by its owner or with its event."""


@endpoint(
    "webhook-create",
    "Register a webhook for one of your events, or for all of them",
    WEBHOOKS,
    status=201,
    returns=WebhookCreated,
    access=ORGANIZER,
    errors=(404,),
    description=DELIVERIES,
)
async def create_webhook(request: web.Request, user: User, body: WebhookIn) -> web.Response:
    created = await request.app[webhooks_key].create(user.id, body.url, body.events, body.event_id)
    return json_response(created, status=201)


@endpoint(
    "webhook-list",
    "Your webhooks (without their secrets)",
    WEBHOOKS,
    returns=WebhookPage,
    access=ORGANIZER,
)
async def list_webhooks(request: web.Request, user: User, query: PageQuery) -> web.Response:
    page = Page(query.page, query.page_size)
    count, results = await request.app[webhooks_key].of_organizer(user.id, page.size, page.offset)
    return paginated(request, page, count, results)


@endpoint(
    "webhook-delete",
    "Delete a webhook (its undelivered deliveries with it)",
    WEBHOOKS,
    status=204,
    access=ORGANIZER,
    errors=(404,),
)
async def delete_webhook(request: web.Request, user: User) -> web.Response:
    await request.app[webhooks_key].delete(
        user.id, path_id(request, "webhook_id", WEBHOOK_NOT_FOUND)
    )
    return web.Response(status=204)


@endpoint(
    "webhook-deliveries",
    "A webhook's delivery log, newest first",
    WEBHOOKS,
    returns=DeliveryPage,
    access=ORGANIZER,
    errors=(404,),
)
async def webhook_deliveries(request: web.Request, user: User, query: PageQuery) -> web.Response:
    webhook_id = path_id(request, "webhook_id", WEBHOOK_NOT_FOUND)
    page = Page(query.page, query.page_size)
    count, results = await request.app[webhooks_key].deliveries(
        user.id, webhook_id, page.size, page.offset
    )
    return paginated(request, page, count, results)
