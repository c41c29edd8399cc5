"""Fixed-window rate limits: in Redis when it is set (shared by every instance), else in memory.

A limit allows ``count`` requests per key in each ``seconds``-long window; past it the request is
429 with ``Retry-After`` (the seconds left in the window). If Redis fails, the instance counts in
memory until it answers again: limits loosen to per-instance, they never lock everyone out.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from server.coalesce import Coalesced
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


# One round trip for the requests of a loop pass, atomic: count each request, and give a new
# window's key its lifetime. (redis-py's CPU per call, ~180 us, was the largest cost of rate
# limits on the booking path; a MULTI/INCR/EXPIRE/EXEC pipeline per request cost 352 us.)
COUNT_IN_WINDOWS = """
local counts = {}
for i, key in ipairs(KEYS) do
    local count = redis.call('INCR', key)
    if count == 1 then redis.call('EXPIRE', key, ARGV[i]) end
    counts[i] = count
end
return counts
"""


class RateLimiter:
    def __init__(self, redis: Redis | None, enabled: bool = True) -> None:
        self._enabled = enabled
        self._count_in_windows = redis.register_script(COUNT_IN_WINDOWS) if redis else None
        self._count_in_redis = Coalesced(self._counts)
        self._counts_in_memory: dict[str, int] = {}
        self._window_of_counts = 0

    async def check(self, limit: Limit, key: str) -> None:
        """Count one request against ``limit`` for ``key``; raise Throttled past the limit."""
        if not self._enabled:
            return
        now = time.time()
        window = int(now // limit.seconds)
        bucket = f"stampede:ratelimit:{limit.name}:{window}:{key.lower()}"
        if self._count_in_windows is not None:
            count = await self._count_in_redis((bucket, limit.seconds + 1))
        else:
            count = self._count_in_memory(bucket)
        if count > limit.count:
            raise Throttled(max(1, int((window + 1) * limit.seconds - now + 0.999)))

    async def _counts(self, buckets: Sequence[tuple[str, int]]) -> list[int]:
        """Each (key, seconds to live) bucket's count, this request counted, in one call."""
        assert self._count_in_windows is not None
        try:
            keys, lifetimes = zip(*buckets, strict=True)
            return [int(n) for n in await self._count_in_windows(keys=keys, args=lifetimes)]
        except (RedisError, OSError) as exc:
            log.warning("rate limits: Redis unavailable (%r); counting in memory", exc)
        return [self._count_in_memory(bucket) for bucket, _ in buckets]

    def _count_in_memory(self, bucket: str) -> int:
        minute = int(time.time() // 60)
        if minute != self._window_of_counts:  # windows are at most an hour: forget old ones
            self._window_of_counts = minute
            if len(self._counts_in_memory) > 100_000:
                self._counts_in_memory.clear()
        self._counts_in_memory[bucket] = self._counts_in_memory.get(bucket, 0) + 1
        return self._counts_in_memory[bucket]
