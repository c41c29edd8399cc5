"""PostgreSQL: the migration runner, the named-query loader and the pool's lifecycle."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from server.errors import StartupError

__all__ = [
    "DATABASE_ERRORS",
    "DATABASE_GONE",
    "MIGRATIONS_DIR",
    "QUERIES_DIR",
    "Migration",
    "Queries",
    "apply_migrations",
    "connect_pool",
    "describe_dsn",
    "load_migrations",
]

# A lost or refused database connection: a request had no effect it could report (503).
DATABASE_GONE = (
    asyncpg.PostgresConnectionError,
    asyncpg.OperatorInterventionError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,  # asyncpg's state error when a connection dies mid-query
    ConnectionError,
)
# Everything a background loop (outbox sender, live publisher) logs and outlives.
DATABASE_ERRORS = (*DATABASE_GONE, asyncpg.PostgresError, OSError, TimeoutError)

log = logging.getLogger("stampede.db")

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
MIGRATIONS_DIR = SQL_DIR / "migrations"
QUERIES_DIR = SQL_DIR / "queries"

# Any constant shared by every Stampede instance: the key of the advisory lock that
# serialises migration runners ("stampede" in ASCII, as a bigint).
MIGRATION_LOCK_KEY = 0x7374616D70656465
CONNECT_TIMEOUT = 10.0

_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_QUERY_HEADER = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Migration:
    version: str
    name: str
    sql: str


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Every ``NNNN_name.sql`` file of the directory, in version order."""
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        match = _MIGRATION_NAME.match(path.name)
        if match is None:
            raise StartupError(f"migration file name must look like 0001_name.sql: {path.name}")
        migrations.append(Migration(match[1], match[2], path.read_text()))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise StartupError(f"two migrations share a version number in {directory}")
    return migrations


async def apply_migrations(
    conn: asyncpg.Connection, migrations: list[Migration] | None = None
) -> list[str]:
    """Apply each pending migration once, in its own transaction, under an advisory lock.

    Two instances starting together serialise on the lock; the second finds the migrations
    recorded and applies nothing. Returns the versions this call applied.
    """
    migrations = load_migrations() if migrations is None else migrations
    applied_now = []
    for migration in migrations:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK_KEY)
            await conn.execute(
                """CREATE TABLE IF NOT EXISTS schema_migrations (
                       version    text PRIMARY KEY,
                       name       text NOT NULL,
                       applied_at timestamptz NOT NULL DEFAULT now())"""
            )
            done = await conn.fetchval(
                "SELECT true FROM schema_migrations WHERE version = $1", migration.version
            )
            if done:
                continue
            await conn.execute(migration.sql)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                migration.version,
                migration.name,
            )
            applied_now.append(migration.version)
            log.info("applied migration %s_%s", migration.version, migration.name)
    return applied_now


class Queries(Mapping[str, str]):
    """Named SQL from ``sql/queries/*.sql``: blocks that start with ``-- name: <name>``."""

    def __init__(self, queries: Mapping[str, str]) -> None:
        self._queries = dict(queries)

    @classmethod
    def load(cls, directory: Path = QUERIES_DIR) -> Queries:
        queries: dict[str, str] = {}
        for path in sorted(directory.glob("*.sql")):
            parts = _QUERY_HEADER.split(path.read_text())
            for name, body in zip(parts[1::2], parts[2::2], strict=True):
                if name in queries:
                    raise StartupError(f"query {name!r} is defined twice (again in {path.name})")
                queries[name] = body.strip()
        return cls(queries)

    def require(self, *names: str) -> None:
        """Fail at boot, not at first use, when a query the code needs is missing."""
        missing = sorted(set(names) - self._queries.keys())
        if missing:
            raise StartupError(f"missing SQL queries: {', '.join(missing)}")

    def __getitem__(self, name: str) -> str:
        return self._queries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._queries)

    def __len__(self) -> int:
        return len(self._queries)


def describe_dsn(dsn: str) -> str:
    """The DSN without its password, for messages and logs."""
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", dsn)


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Release without asyncpg's reset query (one more round trip per use). Stampede keeps no
    session state (no LISTEN, no session advisory locks, no SET); open transactions are still
    rolled back by the pool itself."""


async def connect_pool(dsn: str, *, min_size: int, max_size: int) -> asyncpg.Pool:
    """Open the pool, turning every way of failing into one clear StartupError line."""
    try:
        pool = await asyncpg.create_pool(
            dsn,
            min_size=min_size,
            max_size=max_size,
            timeout=CONNECT_TIMEOUT,
            command_timeout=60,
            max_inactive_connection_lifetime=300,
            reset=_keep_session,
        )
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        reason = str(exc) or type(exc).__name__
        raise StartupError(
            f"cannot connect to PostgreSQL at {describe_dsn(dsn)}: {reason}"
        ) from None
    except ValueError as exc:
        raise StartupError(f"DATABASE_URL is not a valid PostgreSQL DSN: {exc}") from None
    assert pool is not None
    return pool
