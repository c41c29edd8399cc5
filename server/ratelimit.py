"""Fixed-window rate limits: in Redis when it is set (shared by every instance), else in memory.

A limit allows ``count`` requests per key in each ``seconds``-long window; past it the request is
429 with ``Retry-After`` (the seconds left in the window). If Redis fails, the instance counts in
memory until it answers again: limits loosen to per-instance, they never lock everyone out.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from server.errors import ApiError

__all__ = [
    "BOOKING_PER_USER",
    "LOGIN_PER_ACCOUNT",
    "LOGIN_PER_ADDRESS",
    "REGISTER_PER_ADDRESS",
    "RESET_PER_ACCOUNT",
    "RESET_PER_ADDRESS",
    "Limit",
    "RateLimiter",
    "Throttled",
]

log = logging.getLogger("stampede.ratelimit")


@dataclass(frozen=True, slots=True)
class Limit:
    name: str
    count: int
    seconds: int


LOGIN_PER_ADDRESS = Limit("login-address", 30, 60)
LOGIN_PER_ACCOUNT = Limit("login-account", 10, 60)
REGISTER_PER_ADDRESS = Limit("register-address", 10, 60)
RESET_PER_ADDRESS = Limit("reset-address", 10, 60)
RESET_PER_ACCOUNT = Limit("reset-account", 3, 3600)
BOOKING_PER_USER = Limit("booking-user", 300, 60)


class Throttled(ApiError):
    status = 429
    code = "throttled"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"Request was throttled. Expected available in {retry_after} seconds.",
            headers={"Retry-After": str(retry_after)},
        )


# One round trip, atomic: count the request, and give a new window's key its lifetime. (A
# MULTI/INCR/EXPIRE/EXEC pipeline cost redis-py twice the CPU per request: 352 vs 182 us.)
COUNT_IN_WINDOW = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


class RateLimiter:
    def __init__(self, redis: Redis | None, enabled: bool = True) -> None:
        self._redis = redis
        self._enabled = enabled
        self._count_in_window = redis.register_script(COUNT_IN_WINDOW) if redis else None
        self._counts: dict[str, int] = {}
        self._window_of_counts = 0

    async def check(self, limit: Limit, key: str) -> None:
        """Count one request against ``limit`` for ``key``; raise Throttled past the limit."""
        if not self._enabled:
            return
        now = time.time()
        window = int(now // limit.seconds)
        bucket = f"stampede:ratelimit:{limit.name}:{window}:{key.lower()}"
        count = await self._count(bucket, limit.seconds)
        if count > limit.count:
            raise Throttled(max(1, int((window + 1) * limit.seconds - now + 0.999)))

    async def _count(self, bucket: str, seconds: int) -> int:
        if self._count_in_window is not None:
            try:
                return int(await self._count_in_window(keys=[bucket], args=[seconds + 1]))
            except (RedisError, OSError) as exc:
                log.warning("rate limits: Redis unavailable (%r); counting in memory", exc)
        return self._count_in_memory(bucket)

    def _count_in_memory(self, bucket: str) -> int:
        minute = int(time.time() // 60)
        if minute != self._window_of_counts:  # windows are at most an hour: forget old ones
            self._window_of_counts = minute
            if len(self._counts) > 100_000:
                self._counts.clear()
        self._counts[bucket] = self._counts.get(bucket, 0) + 1
        return self._counts[bucket]
