"""What operators and integrators get, wired into the app: the metrics' gauges and the batch
observer, the webhooks service and its sender (woken by every commit that may have written
deliveries)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web

from server.keys import (
    actors_key,
    config_key,
    hub_key,
    metrics_key,
    pool_key,
    queries_key,
    webhook_sender_key,
    webhooks_key,
)
from server.tasks import cancel_all
from server.webhooks import subscriptions
from server.webhooks.sender import QUERIES as sender_queries
from server.webhooks.sender import WebhookSender
from server.webhooks.subscriptions import Webhooks

__all__ = ["operations_context"]


async def operations_context(app: web.Application) -> AsyncIterator[None]:
    """After the actors' context (it needs the registry), before the server takes requests."""
    config, pool, queries = app[config_key], app[pool_key], app[queries_key]
    queries.require(*sender_queries, *subscriptions.QUERIES, "outbox_backlog")
    registry = app[actors_key]
    metrics = app.get(metrics_key)
    if metrics is not None:
        metrics.watch(app[hub_key].connections, lambda: len(registry), pool)
        app[hub_key].time_passes(metrics.fanout_duration.observe)
        registry.on_run.append(metrics.batch)
    sender = WebhookSender(
        pool,
        queries,
        allow_private=config.webhooks_allow_private,
        timeout=config.webhook_timeout_seconds,
        retry_hours=config.webhook_retry_hours,
        on_attempt=metrics.webhook_attempt if metrics is not None else None,
    )
    app[webhooks_key] = Webhooks(pool, queries, config.webhooks_allow_private)
    app[webhook_sender_key] = sender
    registry.on_commit.append(lambda _event, _seq: sender.wake())
    task = asyncio.create_task(sender.run(), name="webhook-sender")
    try:
        yield
    finally:
        await cancel_all([task])
