"""``python -m server``: serve (default), apply migrations (``--migrate``), or make an admin
account (``createsuperuser``), then exit.

Every way of failing to start (bad setting, port in use, database unreachable, data folder
in use) ends in one line on stderr and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import logging
import os
import signal
import socket
import sys
from collections.abc import Iterator

import asyncpg
from aiohttp import web

from server.app import create_app
from server.config import Config, ConfigError
from server.db import apply_migrations, describe_dsn
from server.embedded.postgres import embedded_postgres
from server.errors import FieldErrors, StartupError
from server.logs import setup_logging
from server.mail_process import MailProcess
from server.superuser import PASSWORD_VARIABLE, ask, create_superuser
from server.tasks import cancel_all, loop_factory

log = logging.getLogger("stampede")

EXIT_STARTUP_FAILED = 1
EXIT_BAD_CONFIG = 2
EXIT_BAD_INPUT = 3
SHUTDOWN_TIMEOUT = 10.0


def bind_socket(host: str, port: int) -> socket.socket:
    """Take the listening port before anything else starts, so "in use" is the first answer."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise StartupError(f"HOST {host!r} cannot be resolved: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise StartupError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(1024)
    sock.setblocking(False)
    return sock


@contextlib.contextmanager
def database(config: Config, share: bool = False) -> Iterator[Config]:
    """The config with a database: DATABASE_URL as given, or a private embedded server (with
    ``share``, the one a running server owns, if one does)."""
    if config.database_url is not None:
        yield config
        return
    with embedded_postgres(config.data_dir, share) as dsn:
        yield dataclasses.replace(config, database_url=dsn)


def createsuperuser(config: Config, username: str | None, email: str | None) -> int:
    try:
        username, email, password = ask(username, email)
        with database(config, share=True) as ready:
            user_id = asyncio.run(create_superuser(ready, username, email, password))
    except FieldErrors as exc:
        for field, messages in exc.body().items():
            for message in messages if isinstance(messages, list) else [messages]:
                print(f"stampede: {field}: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"superuser {username} created (id {user_id}, role admin)")
    return 0


async def serve(config: Config, sock: socket.socket) -> None:
    runner = web.AppRunner(
        create_app(config),
        access_log=None,
        shutdown_timeout=SHUTDOWN_TIMEOUT,
        # aiohttp starts this clock when a connection opens and stops it only once a whole
        # request has arrived: it is the slowloris guard as well as the keep-alive timeout.
        keepalive_timeout=config.idle_timeout,
    )
    await runner.setup()  # the schema is up to date from here on
    mail = MailProcess(config) if config.mail_in_own_process else None
    # Everything made at startup lives for good: keep it out of the collector's scans, and
    # collect the young generation less often (each request allocates many short-lived objects).
    gc.freeze()
    gc.set_threshold(10_000, 20, 50)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    watching = None
    try:
        if mail is not None:
            mail.start()
            watching = asyncio.create_task(mail.watch(), name="mail-process")
        await web.SockSite(runner, sock).start()
        log.info("Stampede listening on http://%s:%s", config.host, config.port)
        await stop.wait()
        log.info("shutting down")
    finally:
        if watching is not None:
            await cancel_all([watching])
        await runner.cleanup()
        if mail is not None:
            await asyncio.to_thread(mail.stop)


async def migrate(config: Config) -> None:
    assert config.database_url is not None
    try:
        conn = await asyncpg.connect(config.database_url, timeout=10)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        where = describe_dsn(config.database_url)
        raise StartupError(f"cannot connect to PostgreSQL at {where}: {exc}") from None
    try:
        applied = await apply_migrations(conn)
    finally:
        await conn.close()
    print(f"applied {len(applied)} migration(s): {', '.join(applied) or 'none pending'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server", description=__doc__)
    parser.add_argument("--migrate", action="store_true", help="apply migrations and exit")
    commands = parser.add_subparsers(dest="command")
    superuser = commands.add_parser(
        "createsuperuser",
        help=f"make an admin account (password asked, or from {PASSWORD_VARIABLE})",
    )
    superuser.add_argument("--username")
    superuser.add_argument("--email")
    args = parser.parse_args(argv)
    try:
        config = Config.from_env(os.environ)
    except ConfigError as exc:
        print(f"stampede: configuration error: {exc}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    setup_logging(config.log_level, config.log_format)
    # The embedded server's wrapper logs every command's whole output at INFO.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    try:
        if args.command == "createsuperuser":
            return createsuperuser(config, args.username, args.email)
        if args.migrate:
            with database(config) as ready:
                asyncio.run(migrate(ready))
            return 0
        with (
            contextlib.closing(bind_socket(config.host, config.port)) as sock,
            database(config) as ready,
            asyncio.Runner(loop_factory=loop_factory()) as runner,
        ):
            runner.run(serve(ready, sock))
    except StartupError as exc:
        print(f"stampede: cannot start: {exc}", file=sys.stderr)
        return EXIT_STARTUP_FAILED
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
