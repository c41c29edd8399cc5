"""``GET /ws/events/{event_id}`` (one event) and ``GET /ws`` (subscribe and unsubscribe by
message; and, after ``{"op": "auth", "token": …}``, the user's own messages).

Every server message is one JSON text frame: the event's current state first, then its whole
new state after each committed change. No token is needed: availability is public.
"""

from __future__ import annotations

import orjson
from aiohttp import WSMsgType, web

from server.auth import user_for_token
from server.errors import Unauthorized
from server.http.endpoints import endpoint
from server.http.validation import parse_id
from server.keys import hub_key
from server.ws.hub import Hub
from server.ws.socket import Subscription

__all__ = ["CLOSE_NOT_FOUND", "event_socket", "multiplexed_socket"]

CLOSE_NOT_FOUND = 4404
HEARTBEAT = 30.0
MAX_MESSAGE = 4096  # client messages are tiny; a bigger one closes that socket (1009)


def _error(code: str, detail: str) -> bytes:
    return orjson.dumps({"type": "error", "code": code, "detail": detail})


def _not_found(event_id: object) -> bytes:
    return _error("not_found", f"No Event matches the given query (event_id {event_id}).")


def _prepared() -> web.WebSocketResponse:
    # No permessage-deflate: every socket would compress the same state again, and keep a
    # compressor (~75 KiB) for it. Availability messages are small.
    return web.WebSocketResponse(heartbeat=HEARTBEAT, max_msg_size=MAX_MESSAGE, compress=False)


LIVE = "Live availability"
SOCKET = (
    "Upgrades to a websocket (a request without the upgrade is 400); see the live-availability "
    "section above."
)


@endpoint(
    "ws-event",
    "Watch one event's availability (websocket)",
    LIVE,
    status=101,
    errors=(400,),
    description=SOCKET,
)
async def event_socket(request: web.Request) -> web.WebSocketResponse:
    ws = _prepared()
    await ws.prepare(request)
    hub = request.app[hub_key]
    async with hub.connected(ws, request.transport) as subscription:
        event_id = parse_id(request.match_info["event_id"])
        if event_id is None or not await hub.watch(event_id, subscription):
            await subscription.send_now(_not_found(request.match_info["event_id"]))
            await ws.close(code=CLOSE_NOT_FOUND, message=b"not found")
            return ws
        async for message in ws:  # nothing to say here; reading ends the handler on close
            if message.type == WSMsgType.TEXT:
                await subscription.send_now(_error("bad_request", "This socket takes no messages."))
    return ws


@endpoint(
    "ws",
    "Watch several events' availability (websocket)",
    LIVE,
    status=101,
    errors=(400,),
    description=SOCKET,
)
async def multiplexed_socket(request: web.Request) -> web.WebSocketResponse:
    ws = _prepared()
    await ws.prepare(request)
    hub = request.app[hub_key]
    async with hub.connected(ws, request.transport) as subscription:
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                await _command(request.app, hub, subscription, message.data)
            elif message.type == WSMsgType.BINARY:
                await subscription.send_now(_error("bad_request", "Send JSON text frames."))
    return ws


EXPECTED = (
    'Expected {"op": "subscribe" | "unsubscribe", "event_id": <positive integer>} or '
    '{"op": "auth", "token": "<access token>"}.'
)


async def _command(app: web.Application, hub: Hub, subscription: Subscription, text: str) -> None:
    """``{"op": "subscribe" | "unsubscribe", "event_id": N}`` or ``{"op": "auth", "token"}``;
    anything else is a bad request answered on the socket, which stays open. An unknown event
    is answered with not_found."""
    try:
        command = orjson.loads(text)
    except orjson.JSONDecodeError:
        command = None
    op = command.get("op") if isinstance(command, dict) else None
    if op == "auth" and isinstance(command, dict):
        await _authenticate(app, hub, subscription, command.get("token"))
        return
    event_id = parse_id(command.get("event_id")) if isinstance(command, dict) else None
    if op not in ("subscribe", "unsubscribe") or event_id is None:
        await subscription.send_now(_error("bad_request", EXPECTED))
    elif op == "unsubscribe":
        hub.unwatch(event_id, subscription)
    elif event_id not in subscription.events and not await hub.watch(event_id, subscription):
        await subscription.send_now(_not_found(event_id))


async def _authenticate(
    app: web.Application, hub: Hub, subscription: Subscription, token: object
) -> None:
    """The socket gets the token's user's own messages from now on; a bad token is answered
    with unauthorized, and the socket stays (its public subscriptions too)."""
    try:
        if not isinstance(token, str) or not token:
            raise Unauthorized("Send an access token.")
        user = await user_for_token(app, token)
    except Unauthorized as exc:
        await subscription.send_now(_error("unauthorized", exc.detail))
        return
    hub.identify(subscription, user.id)
    await subscription.send_now(orjson.dumps({"type": "authenticated", "user_id": user.id}))
