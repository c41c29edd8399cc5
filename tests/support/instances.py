"""Several Stampede instances in the test process, on one database (and a Redis, if set)."""

from __future__ import annotations

from pytest_aiohttp import AiohttpClient

from server.app import create_app
from server.config import Config
from tests.support.api import Client


async def two_instances(aiohttp_client: AiohttpClient, settings: Config) -> tuple[Client, Client]:
    """Two apps with the same settings, each behind its own test client."""
    return (
        await aiohttp_client(create_app(settings)),
        await aiohttp_client(create_app(settings)),
    )
