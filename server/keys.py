"""Every typed application key, and nothing else."""

from __future__ import annotations

import asyncpg
from aiohttp import web
from redis.asyncio import Redis

from server.accounts import Accounts
from server.actors.registry import ActorRegistry
from server.bookings import Bookings
from server.config import Config
from server.db import Queries
from server.events import Events
from server.mail import Mailer
from server.ratelimit import RateLimiter
from server.users import UserCache
from server.ws.hub import Hub

__all__ = [
    "accounts_key",
    "actors_key",
    "bookings_key",
    "config_key",
    "events_key",
    "hub_key",
    "jwt_key_key",
    "limiter_key",
    "mailer_key",
    "pool_key",
    "queries_key",
    "redis_key",
    "user_cache_key",
]

config_key = web.AppKey("config", Config)
pool_key = web.AppKey("pool", asyncpg.Pool)
queries_key = web.AppKey("queries", Queries)
# None when REDIS_URL is unset: the instance runs alone, with in-process fan-out.
redis_key: web.AppKey[Redis | None] = web.AppKey("redis")
# The HS256 signing key: JWT_SECRET, or the development key under the data folder.
jwt_key_key = web.AppKey("jwt_key", str)
mailer_key = web.AppKey("mailer", Mailer)
accounts_key = web.AppKey("accounts", Accounts)
events_key = web.AppKey("events", Events)
actors_key = web.AppKey("actors", ActorRegistry)
bookings_key = web.AppKey("bookings", Bookings)
user_cache_key = web.AppKey("user_cache", UserCache)
hub_key = web.AppKey("hub", Hub)
limiter_key = web.AppKey("limiter", RateLimiter)
