"""Fixtures: a real PostgreSQL (DATABASE_URL, or an embedded one), a real Redis, the real app."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from playwright.async_api import Browser, async_playwright
from pytest_aiohttp import AiohttpClient

from server.app import create_app
from server.config import Config
from server.db import apply_migrations
from server.embedded.postgres import start_postgres, stop_postgres
from server.embedded.redis import RedisServer
from tests.support.api import Api
from tests.support.databases import TEMPLATE, create_database, drop_database, with_database
from tests.support.leaks import wait_for_leftovers


@pytest.fixture(scope="session", autouse=True)
def nothing_left_behind(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Fail the run, naming them, when processes the tests started outlive it: a child of
    this session, or a PostgreSQL or Redis working in one of its temporary folders.

    Autouse and session-scoped, this is set up before any other session fixture and so torn
    down after all of them: what is still running then was left behind.
    """
    yield
    left = wait_for_leftovers([tmp_path_factory.getbasetemp()], os.getpid())
    if left:
        names = "\n".join(f"  {process.describe()}" for process in left)
        pytest.fail(f"the test run left {len(left)} process(es) running:\n{names}", pytrace=False)


@pytest.fixture(scope="session")
def admin_dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL server for the whole run: DATABASE_URL if set, else a private one."""
    external = os.environ.get("DATABASE_URL")
    if external:
        yield external
        return
    server = start_postgres(tmp_path_factory.mktemp("pg") / "data")
    try:
        yield with_database(str(server.get_uri()), "postgres")
    finally:
        stop_postgres(server)


@pytest.fixture(scope="session")
def template_dsn(admin_dsn: str) -> str:
    """A database with every migration applied, copied for each test that needs one."""

    async def build() -> str:
        conn = await asyncpg.connect(admin_dsn)
        try:
            await conn.execute(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")
            await conn.execute(f"CREATE DATABASE {TEMPLATE}")
        finally:
            await conn.close()
        dsn = with_database(admin_dsn, TEMPLATE)
        conn = await asyncpg.connect(dsn)
        try:
            await apply_migrations(conn)
        finally:
            await conn.close()
        return dsn

    return asyncio.run(build())


@pytest.fixture
async def database_url(admin_dsn: str, template_dsn: str) -> AsyncIterator[str]:
    """A fresh, migrated database of this test's own."""
    dsn = await create_database(admin_dsn, template=TEMPLATE)
    yield dsn
    await drop_database(admin_dsn, dsn)


@pytest.fixture
async def empty_database_url(admin_dsn: str) -> AsyncIterator[str]:
    """A fresh database with no schema at all."""
    dsn = await create_database(admin_dsn)
    yield dsn
    await drop_database(admin_dsn, dsn)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis of this test's own, which the test may stop and start again."""
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def config(database_url: str, tmp_path: Path) -> Config:
    return Config(
        database_url=database_url,
        data_dir=tmp_path,
        jwt_secret="test-secret-" + "x" * 32,
        rate_limits=False,
        db_pool_min=1,
        db_pool_max=5,
        mail_sender="inline",  # the app's own task sends the mail the tests read
    )


@pytest.fixture
def app(config: Config) -> web.Application:
    return create_app(config)


@pytest.fixture
async def client(
    app: web.Application, aiohttp_client: AiohttpClient
) -> TestClient[web.Request, web.Application]:
    # The app (and so its database) comes first, so that it is torn down after the client.
    return await aiohttp_client(app)


@pytest.fixture
def api(client: TestClient[web.Request, web.Application]) -> Api:
    return Api(client)


# As the machine notes advise for a closed network: no background traffic, no sandbox as root.
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Debian's headless Chromium, driven by Playwright (``make test`` installs it)."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail(
            "Chromium is missing: `make test` installs it (apt-get install chromium) when run as root"
        )
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()
