"""The audit log: every admin write, recorded in the transaction of the change."""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson

from server.db import Queries
from server.users import User

__all__ = ["record"]


async def record(
    conn: asyncpg.Connection,
    queries: Queries,
    actor: User,
    action: str,
    target: str,
    detail: dict[str, Any],
) -> None:
    """Keep ``actor``'s ``action`` on ``target`` (``user:42``, ``event:7``) with its
    ``detail``, inside the caller's transaction."""
    await conn.execute(
        queries["insert_audit"],
        actor.id,
        actor.username,
        action,
        target,
        orjson.dumps(detail).decode(),
    )
