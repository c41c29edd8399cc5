from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from pytest_aiohttp import AiohttpClient

from server.app import create_app
from server.config import Config
from server.embedded.redis import RedisServer
from tests.support.databases import via_tcp
from tests.support.proxy import TcpProxy


def _connector(dsn: str):  # type: ignore[no-untyped-def]
    """Open a stream to the PostgreSQL server of ``dsn`` (TCP or unix socket)."""
    parts = urlsplit(dsn)
    socket_dir = parse_qs(parts.query).get("host", [None])[0]

    async def connect() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if socket_dir:
            return await asyncio.open_unix_connection(f"{socket_dir}/.s.PGSQL.{parts.port or 5432}")
        return await asyncio.open_connection(parts.hostname, parts.port or 5432)

    return connect


async def test_ok_when_database_answers_and_redis_is_disabled(client) -> None:  # type: ignore[no-untyped-def]
    response = await client.get("/api/health")
    assert response.status == 200
    assert await response.json() == {"status": "ok", "database": "ok", "redis": "disabled"}


async def test_ok_with_a_real_redis(
    config: Config, redis_server: RedisServer, aiohttp_client: AiohttpClient
) -> None:
    client = await aiohttp_client(
        create_app(dataclasses.replace(config, redis_url=redis_server.url))
    )
    response = await client.get("/api/health")
    assert await response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


async def test_503_names_the_database_when_it_goes_away(
    config: Config, aiohttp_client: AiohttpClient
) -> None:
    assert config.database_url is not None
    proxy = TcpProxy(_connector(config.database_url))
    await proxy.start()
    dsn = via_tcp(config.database_url, "127.0.0.1", proxy.port)
    client = await aiohttp_client(create_app(dataclasses.replace(config, database_url=dsn)))
    assert (await client.get("/api/health")).status == 200

    await proxy.cut()
    response = await client.get("/api/health")
    assert response.status == 503
    body = await response.json()
    assert body["database"] == "error"
    assert body["redis"] == "disabled"
    assert body["code"] == "service_unavailable"
    assert "database" in body["detail"]


async def test_503_names_redis_when_it_stops(
    config: Config, tmp_path: Path, aiohttp_client: AiohttpClient
) -> None:
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    try:
        client = await aiohttp_client(create_app(dataclasses.replace(config, redis_url=redis.url)))
        assert (await client.get("/api/health")).status == 200
        redis.stop()
        response = await client.get("/api/health")
        assert response.status == 503
        body = await response.json()
        assert (body["database"], body["redis"]) == ("ok", "error")
        assert "redis" in body["detail"]
    finally:
        redis.stop()
