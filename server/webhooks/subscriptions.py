"""An organizer's webhooks: registered for one of their events or all of them, listed (without
their secrets), deleted, and their delivery log."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from server.db import Queries
from server.errors import ApiError, NotFound
from server.webhooks.urls import UrlRefused, check_url

__all__ = ["QUERIES", "WEBHOOK_NOT_FOUND", "Webhooks"]

QUERIES = (
    "create_webhook", "organizer_webhooks", "webhook_owner", "delete_webhook",
    "webhook_delivery_log", "event_by_id",
)  # fmt: skip
WEBHOOK_NOT_FOUND = "No webhook with this id."


def _page(rows: Sequence[asyncpg.Record]) -> tuple[int, list[dict[str, Any]]]:
    total = rows[0]["total"] if rows else 0
    return total, [{k: v for k, v in row.items() if k != "total"} for row in rows]


@dataclass(frozen=True, slots=True)
class Webhooks:
    pool: asyncpg.Pool
    queries: Queries
    allow_private: bool = False

    async def create(
        self, organizer_id: int, url: str, events: Sequence[str], event_id: int | None
    ) -> dict[str, Any]:
        """A new webhook, with its secret (shown only now)."""
        try:
            await check_url(url, self.allow_private)
        except UrlRefused as exc:
            raise ApiError(str(exc), code="webhook_url_not_allowed") from exc
        if event_id is not None:
            event = await self.pool.fetchrow(self.queries["event_by_id"], event_id)
            if event is None or event["organizer_id"] != organizer_id:
                raise NotFound("No event of yours with this id.")
        secret = "whsec_" + secrets.token_urlsafe(32)
        kinds = sorted(set(events), key=list(events).index)  # each once, in the order given
        row = await self.pool.fetchrow(
            self.queries["create_webhook"], organizer_id, event_id, url, kinds, secret
        )
        return dict(row)

    async def of_organizer(
        self, organizer_id: int, limit: int, offset: int
    ) -> tuple[int, list[dict[str, Any]]]:
        rows = await self.pool.fetch(
            self.queries["organizer_webhooks"], organizer_id, limit, offset
        )
        return _page(rows)

    async def delete(self, organizer_id: int, webhook_id: int) -> None:
        await self._own(organizer_id, webhook_id)
        await self.pool.execute(self.queries["delete_webhook"], webhook_id)

    async def deliveries(
        self, organizer_id: int, webhook_id: int, limit: int, offset: int
    ) -> tuple[int, list[dict[str, Any]]]:
        await self._own(organizer_id, webhook_id)
        rows = await self.pool.fetch(
            self.queries["webhook_delivery_log"], webhook_id, limit, offset
        )
        return _page(rows)

    async def _own(self, organizer_id: int, webhook_id: int) -> None:
        """Another organizer's webhook is not found (its existence is not theirs to learn)."""
        owner = await self.pool.fetchval(self.queries["webhook_owner"], webhook_id)
        if owner != organizer_id:
            raise NotFound(WEBHOOK_NOT_FOUND)
