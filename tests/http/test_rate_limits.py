"""Rate limits: 429 with Retry-After, per address and per account, shared through Redis."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient
from redis.asyncio import Redis

from server.app import create_app
from server.config import Config
from server.embedded.ports import free_port
from server.embedded.redis import RedisServer
from server.ratelimit import Limit, RateLimiter, Throttled
from tests.support.api import PASSWORD, Api
from tests.support.instances import two_instances


def _limited(config: Config, **changes: Any) -> Config:
    return dataclasses.replace(config, rate_limits=True, **changes)


@pytest.fixture(autouse=True)
async def _away_from_a_window_edge() -> None:
    """Limits count in fixed windows (a minute, an hour): start each test well inside one, so
    that its requests are not split by a window starting afresh halfway."""
    now = time.time()
    for window in (60, 3600):
        left = window - now % window
        if left < 8:
            await asyncio.sleep(left + 0.1)
            now = time.time()


async def _login(client: TestClient[Any, Any], username: str, **headers: str) -> Any:
    return await client.post(
        "/api/auth/login/", json={"username": username, "password": "wrong-Pass-1"}, headers=headers
    )


async def test_login_is_limited_per_account(config: Config, aiohttp_client: AiohttpClient) -> None:
    client = await aiohttp_client(create_app(_limited(config)))
    statuses = [(await _login(client, "victim")).status for _ in range(11)]
    assert statuses == [401] * 10 + [429]
    throttled = await _login(client, "VICTIM")  # the account name's case does not help
    assert throttled.status == 429
    assert 1 <= int(throttled.headers["Retry-After"]) <= 60
    body = await throttled.json()
    assert body["code"] == "throttled"
    assert body["detail"].startswith("Request was throttled. Expected available in ")
    assert (await _login(client, "someone-else")).status == 401  # other accounts are not blocked


async def test_register_and_reset_are_limited(
    config: Config, aiohttp_client: AiohttpClient
) -> None:
    client = await aiohttp_client(create_app(_limited(config)))
    api = Api(client)
    account = await api.attendee()
    statuses = []
    for _ in range(4):
        response = await client.post(
            "/api/auth/password-reset-request/", json={"email": account.email}
        )
        statuses.append(response.status)
    assert statuses == [200, 200, 200, 429]  # three mails an hour per address
    registrations = []
    for n in range(10):
        body = {
            "username": f"spam{n}",
            "email": f"spam{n}@example.org",
            "password": PASSWORD,
            "role": "attendee",
        }
        registrations.append((await client.post("/api/auth/register/", json=body)).status)
    assert registrations == [201] * 9 + [429]  # ten per address per minute, one used above


async def test_the_limit_holds_across_two_instances(
    config: Config, redis_server: RedisServer, aiohttp_client: AiohttpClient
) -> None:
    settings = _limited(config, redis_url=redis_server.url)
    first, second = await two_instances(aiohttp_client, settings)
    statuses = [(await _login((first, second)[n % 2], "shared-victim")).status for n in range(11)]
    assert statuses == [401] * 10 + [429]


async def test_forwarded_addresses_count_only_behind_a_trusted_proxy(
    config: Config, aiohttp_client: AiohttpClient
) -> None:
    trusting = await aiohttp_client(create_app(_limited(config, trust_forwarded_for=True)))
    for n in range(31):  # 30 per address per minute: a fresh address each time never hits it
        response = await _login(
            trusting, f"user{n}", **{"X-Forwarded-For": f"203.0.113.7, 10.0.0.{n}"}
        )
        assert response.status == 401
    naive = await aiohttp_client(create_app(_limited(config)))
    statuses = [
        (await _login(naive, f"user{n}", **{"X-Forwarded-For": f"10.0.0.{n}"})).status
        for n in range(31)
    ]
    assert statuses[-1] == 429  # the header is ignored: one address, one budget


async def test_without_redis_the_limits_still_hold_in_memory() -> None:
    gone = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.2)
    limiter = RateLimiter(gone)
    limit = Limit("test", 2, 60)
    try:
        await limiter.check(limit, "k")
        await limiter.check(limit, "k")
        with pytest.raises(Throttled):
            await limiter.check(limit, "k")
    finally:
        await gone.aclose()


async def test_concurrent_requests_are_counted_exactly_in_few_redis_calls(
    private_redis: RedisServer,
) -> None:
    redis = Redis.from_url(private_redis.url)
    limiter = RateLimiter(redis)
    limit = Limit("wave", 30, 60)
    try:
        results = await asyncio.gather(
            *(limiter.check(limit, "fan") for _ in range(50)), return_exceptions=True
        )
        assert sum(isinstance(r, Throttled) for r in results) == 20  # 30 allowed, none lost
        assert [r for r in results if not isinstance(r, Throttled | None)] == []
        calls = (await redis.info("commandstats"))["cmdstat_evalsha"]["calls"]
        assert calls <= 2  # the wave went together, not a round trip each
        [key] = await redis.keys("stampede:ratelimit:wave:*")
        assert 0 < await redis.ttl(key) <= 61  # a window's key still expires
    finally:
        await redis.aclose()
