"""Every typed application key, and nothing else."""

from __future__ import annotations

import asyncpg
from aiohttp import web
from redis.asyncio import Redis

from server.config import Config
from server.db import Queries

__all__ = ["config_key", "pool_key", "queries_key", "redis_key"]

config_key = web.AppKey("config", Config)
pool_key = web.AppKey("pool", asyncpg.Pool)
queries_key = web.AppKey("queries", Queries)
# None when REDIS_URL is unset: the instance runs alone, with in-process fan-out.
redis_key: web.AppKey[Redis | None] = web.AppKey("redis")
