"""Every typed application key, and nothing else.

The services are imported for type checking only: a module that needs one key (the config,
say) does not pull in the actor and hub stack by importing this one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    import asyncpg
    from redis.asyncio import Redis

    from server.accounts import Accounts
    from server.actors.registry import ActorRegistry
    from server.admin import Admin
    from server.bookings import Bookings
    from server.config import Config
    from server.db import Queries
    from server.events import Events
    from server.http.openapi import OpenApi
    from server.mail import Mailer
    from server.metrics import Metrics
    from server.ratelimit import RateLimiter
    from server.stats import Stats
    from server.ticket_types import TicketTypes
    from server.users import UserCache
    from server.waiting_room.rooms import WaitingRooms
    from server.waiting_room.tokens import QueueTokens
    from server.waitlist import Waitlist
    from server.webhooks.sender import WebhookSender
    from server.webhooks.subscriptions import Webhooks
    from server.ws.hub import Hub

__all__ = [
    "accounts_key",
    "actors_key",
    "admin_key",
    "bookings_key",
    "config_key",
    "events_key",
    "hub_key",
    "jwt_key_key",
    "limiter_key",
    "mailer_key",
    "metrics_key",
    "openapi_key",
    "pool_key",
    "queries_key",
    "queue_tokens_key",
    "redis_key",
    "stats_key",
    "ticket_types_key",
    "user_cache_key",
    "waiting_rooms_key",
    "waitlist_key",
    "webhook_sender_key",
    "webhooks_key",
]

config_key: web.AppKey[Config] = web.AppKey("config")
pool_key: web.AppKey[asyncpg.Pool] = web.AppKey("pool")
queries_key: web.AppKey[Queries] = web.AppKey("queries")
# None when REDIS_URL is unset: the instance runs alone, with in-process fan-out.
redis_key: web.AppKey[Redis | None] = web.AppKey("redis")
# The HS256 signing key: JWT_SECRET, or the development key under the data folder.
jwt_key_key: web.AppKey[str] = web.AppKey("jwt_key")
mailer_key: web.AppKey[Mailer] = web.AppKey("mailer")
accounts_key: web.AppKey[Accounts] = web.AppKey("accounts")
admin_key: web.AppKey[Admin] = web.AppKey("admin")
stats_key: web.AppKey[Stats] = web.AppKey("stats")
events_key: web.AppKey[Events] = web.AppKey("events")
ticket_types_key: web.AppKey[TicketTypes] = web.AppKey("ticket_types")
actors_key: web.AppKey[ActorRegistry] = web.AppKey("actors")
bookings_key: web.AppKey[Bookings] = web.AppKey("bookings")
waitlist_key: web.AppKey[Waitlist] = web.AppKey("waitlist")
queue_tokens_key: web.AppKey[QueueTokens] = web.AppKey("queue_tokens")
waiting_rooms_key: web.AppKey[WaitingRooms] = web.AppKey("waiting_rooms")
user_cache_key: web.AppKey[UserCache] = web.AppKey("user_cache")
hub_key: web.AppKey[Hub] = web.AppKey("hub")
limiter_key: web.AppKey[RateLimiter] = web.AppKey("limiter")
# Absent with METRICS=off.
metrics_key: web.AppKey[Metrics] = web.AppKey("metrics")
webhooks_key: web.AppKey[Webhooks] = web.AppKey("webhooks")
webhook_sender_key: web.AppKey[WebhookSender] = web.AppKey("webhook_sender")
# The OpenAPI document, built from the router once the routes are set up.
openapi_key: web.AppKey[OpenApi] = web.AppKey("openapi")
