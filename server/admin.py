"""The admin console's service: users (roles, activity), every organizer's events, any booking,
and the audit log. Every write is audited in its own transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from server import audit
from server.db import Queries
from server.errors import NotFound, PermissionDenied
from server.users import ADMIN, User, UserCache

__all__ = ["QUERIES", "USER_NOT_FOUND", "Admin", "UserFilters"]

QUERIES = (
    "admin_count_users", "admin_list_users", "admin_lock_user", "admin_update_user",
    "insert_audit", "count_audit", "list_audit",
)  # fmt: skip
USER_NOT_FOUND = "No User matches the given query."


@dataclass(frozen=True, slots=True)
class UserFilters:
    search: str | None = None
    role: str | None = None
    is_active: bool | None = None


@dataclass(frozen=True, slots=True)
class Admin:
    pool: asyncpg.Pool
    queries: Queries
    users: UserCache

    async def find_users(
        self, filters: UserFilters, limit: int, offset: int
    ) -> tuple[int, list[asyncpg.Record]]:
        args = (filters.search, filters.role, filters.is_active)
        count = await self.pool.fetchval(self.queries["admin_count_users"], *args)
        return count, await self.pool.fetch(self.queries["admin_list_users"], *args, limit, offset)

    async def update_user(
        self, admin: User, user_id: int, changes: dict[str, Any]
    ) -> asyncpg.Record:
        """A new role and/or activity for a user who is not an admin; the change is audited,
        and forgotten by every instance's user cache at once (a deactivated user's tokens
        are refused on the next request, wherever it lands)."""
        async with self.pool.acquire() as conn, conn.transaction():
            stored = await conn.fetchrow(self.queries["admin_lock_user"], user_id)
            if stored is None:
                raise NotFound(USER_NOT_FOUND)
            if stored["role"] == ADMIN:
                raise PermissionDenied("Admin accounts are not changed here.")
            role = changes.get("role", stored["role"])
            active = changes.get("is_active", stored["is_active"])
            row = await conn.fetchrow(self.queries["admin_update_user"], user_id, role, active)
            detail = {
                name: [stored[name], row[name]]
                for name in ("role", "is_active")
                if stored[name] != row[name]
            }
            if detail:
                await audit.record(
                    conn, self.queries, admin, "user.update", f"user:{user_id}", detail
                )
        await self.users.forget(user_id)
        return row

    async def audit_log(self, limit: int, offset: int) -> tuple[int, list[asyncpg.Record]]:
        count = await self.pool.fetchval(self.queries["count_audit"])
        return count, await self.pool.fetch(self.queries["list_audit"], limit, offset)
