"""The application factory: it wires resources, routes and middlewares, and nothing else."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator

from aiohttp import web
from redis.asyncio import Redis

from server import (
    accounts,
    admin,
    auth,
    bookings,
    events,
    mail,
    purge,
    stats,
    ticket_types,
    waitlist,
)
from server.accounts import Accounts
from server.actors import sweeper, transaction
from server.actors.actor import ActorSettings
from server.actors.registry import ActorRegistry
from server.actors.sweeper import sweep
from server.actors.transaction import BatchRunner
from server.admin import Admin
from server.bookings import Bookings
from server.config import Config
from server.db import Queries, apply_migrations, connect_pool
from server.errors import StartupError
from server.events import Events
from server.http.middleware import request_middleware
from server.http.routes import setup_routes
from server.keys import (
    accounts_key,
    actors_key,
    admin_key,
    bookings_key,
    config_key,
    events_key,
    hub_key,
    jwt_key_key,
    limiter_key,
    mailer_key,
    metrics_key,
    pool_key,
    queries_key,
    queue_tokens_key,
    redis_key,
    stats_key,
    ticket_types_key,
    user_cache_key,
    waiting_rooms_key,
    waitlist_key,
    webhook_sender_key,
)
from server.mail import Mailer
from server.metrics import Metrics
from server.operations import operations_context
from server.purge import Purger
from server.ratelimit import RateLimiter
from server.stats import Stats
from server.tasks import cancel_all
from server.ticket_types import TicketTypes
from server.tokens import resolve_jwt_key
from server.users import UserCache
from server.waiting_room import rooms
from server.waiting_room.admitter import admit_forever
from server.waiting_room.rooms import Admitted, WaitingRooms
from server.waiting_room.tokens import QueueTokens
from server.waitlist import Waitlist
from server.ws import hub as live_hub
from server.ws import reminders
from server.ws.hub import Hub
from server.ws.personal import queue_message
from server.ws.reminders import Reminders

__all__ = ["create_app"]

log = logging.getLogger("stampede.app")


async def database_context(app: web.Application) -> AsyncIterator[None]:
    """Open the pool, bring the schema up to date, load the named queries."""
    config = app[config_key]
    if config.database_url is None:
        raise StartupError("no database: DATABASE_URL is unset and no embedded server was started")
    queries = Queries.load()
    queries.require(
        "ping",
        *auth.QUERIES,
        *accounts.QUERIES,
        *events.QUERIES,
        *ticket_types.QUERIES,
        *mail.QUERIES,
        *transaction.QUERIES,
        *sweeper.QUERIES,
        *bookings.QUERIES,
        *live_hub.QUERIES,
        *purge.QUERIES,
        *waitlist.QUERIES,
        *rooms.QUERIES,
        *reminders.QUERIES,
        *admin.QUERIES,
        *stats.QUERIES,
    )
    pool = await connect_pool(
        config.database_url, min_size=config.db_pool_min, max_size=config.db_pool_max
    )
    try:
        async with pool.acquire() as conn:
            await apply_migrations(conn)
        app[pool_key] = pool
        app[queries_key] = queries
        yield
    finally:
        await pool.close()


async def redis_context(app: web.Application) -> AsyncIterator[None]:
    """Connect to Redis when REDIS_URL is set; an unreachable Redis is reported, not fatal."""
    url = app[config_key].redis_url
    if url is None:
        app[redis_key] = None
        yield
        return
    redis = Redis.from_url(url, socket_connect_timeout=2, health_check_interval=15)
    try:
        await redis.ping()
    except Exception as exc:
        log.warning("Redis at %s is not answering yet (%r); continuing without it", url, exc)
    app[redis_key] = redis
    try:
        yield
    finally:
        await redis.aclose()


async def services_context(app: web.Application) -> AsyncIterator[None]:
    """The services the handlers call."""
    config, pool, queries = app[config_key], app[pool_key], app[queries_key]
    mailer = Mailer.for_config(pool, queries, config)
    app[jwt_key_key] = resolve_jwt_key(config)
    app[queue_tokens_key] = tokens = QueueTokens(app[jwt_key_key])
    app[waiting_rooms_key] = WaitingRooms(pool, queries, tokens)
    app[mailer_key] = mailer
    app[limiter_key] = RateLimiter(app[redis_key], enabled=config.rate_limits)
    app[user_cache_key] = UserCache(app[redis_key], load=auth.users_loader(pool, queries))
    app[accounts_key] = Accounts(
        pool, queries, config, app[jwt_key_key], mailer, app[user_cache_key]
    )
    hub = app[hub_key]

    def availability_changed(event_id: int, settle: bool) -> None:
        hub.changed(event_id)
        mailer.wake()  # an event's cancellation mails its attendees, and tells webhooks
        if webhook_sender_key in app:
            app[webhook_sender_key].wake()
        if settle:  # its waiting list may have seats to offer, or to close
            app[actors_key].tick(event_id)

    metrics = app.get(metrics_key)
    counting = {"on_cancelled": metrics.cancellations.inc} if metrics is not None else {}
    app[events_key] = Events(pool, queries, availability_changed, **counting)
    app[admin_key] = Admin(pool, queries, app[user_cache_key])
    app[stats_key] = Stats(pool, queries)
    app[ticket_types_key] = TicketTypes(pool, queries, availability_changed)
    yield


async def background_context(app: web.Application) -> AsyncIterator[None]:
    """What runs in the background on every instance: the purge, the waiting rooms' admitter,
    the live reminders, (with Redis) the user-cache listener, and the outbox sender (unless it
    has a process of its own)."""
    config, pool, queries, hub = app[config_key], app[pool_key], app[queries_key], app[hub_key]
    purger = Purger(
        pool,
        queries,
        interval=config.purge_interval_seconds,
        retention_days=config.outbox_retention_days,
        batch=config.purge_batch,
    )
    admitting = admit_forever(
        app[waiting_rooms_key],
        functools.partial(tell_admitted, hub, app.get(metrics_key)),
        config.admit_interval_ms / 1000,
    )
    reminders = Reminders(pool, queries, hub, app[queue_tokens_key])
    background = [
        asyncio.create_task(purger.run(), name="purge"),
        asyncio.create_task(admitting, name="admitter"),
        asyncio.create_task(reminders.run(), name="reminders"),
    ]
    if app[redis_key] is not None:
        background.append(asyncio.create_task(app[user_cache_key].listen(), name="user-changes"))
    if not config.mail_in_own_process:  # else python -m server runs it (server/mail_process.py)
        background.append(asyncio.create_task(app[mailer_key].run(), name="outbox-sender"))
    try:
        yield
    finally:
        await cancel_all(background)


async def actors_context(app: web.Application) -> AsyncIterator[None]:
    """The event actors; on shutdown each finishes or fails its queued commands, before the
    pool closes (cleanup contexts unwind in reverse)."""
    config = app[config_key]
    settings = ActorSettings(
        batch_max=config.booking_batch_max,
        mailbox_size=config.booking_mailbox,
        ask_timeout=config.booking_timeout,
        idle_seconds=config.actor_idle_seconds,
    )
    registry = ActorRegistry(
        BatchRunner(
            app[pool_key],
            app[queries_key],
            mail.Notices(config.base_url),
            retry_seconds=0.6 * config.booking_timeout,
        ),
        settings,
        config.max_actors,
    )
    registry.on_commit.append(app[hub_key].changed)  # after each commit, never before
    registry.on_commit.append(lambda _event, _seq: app[mailer_key].wake())  # its mails
    registry.on_batch.append(app[hub_key].tell_batch)
    app[actors_key] = registry
    app[bookings_key] = Bookings(app[pool_key], app[queries_key], registry)
    app[waitlist_key] = Waitlist(app[pool_key], app[queries_key], registry)
    sweeping = asyncio.create_task(
        sweep(app[pool_key], app[queries_key], registry, config.sweep_interval_ms / 1000),
        name="sweeper",
    )
    try:
        yield
    finally:
        sweeping.cancel()
        await asyncio.gather(sweeping, return_exceptions=True)
        await registry.close()


async def live_context(app: web.Application) -> AsyncIterator[None]:
    """The live-availability hub, and its Redis listener when REDIS_URL is set."""
    interval = app[config_key].live_interval_ms / 1000
    hub = Hub(app[pool_key], app[queries_key], app[redis_key], interval)
    app[hub_key] = hub
    hub.start()
    try:
        yield
    finally:
        await hub.stop()


async def close_websockets(app: web.Application) -> None:
    """First phase of shutdown: tell every websocket we are going away (1001)."""
    await app[hub_key].close_sockets()


def tell_admitted(hub: Hub, metrics: Metrics | None, admitted: Admitted) -> None:
    """Each place admitted, at once, on its user's sockets (and counted)."""
    if metrics is not None:
        metrics.admissions.inc(len(admitted.places))
    for user_id, position in admitted.places:
        place = {"state": "admitted", "position": position, "ahead": 0, "eta_seconds": 0}
        hub.tell(user_id, queue_message(admitted.event_id, place))


def create_app(config: Config) -> web.Application:
    app = web.Application(
        middlewares=[request_middleware],
        client_max_size=config.max_body_bytes,
    )
    app[config_key] = config
    if config.metrics:
        app[metrics_key] = Metrics()
    app.cleanup_ctx.append(database_context)
    app.cleanup_ctx.append(redis_context)
    app.cleanup_ctx.append(live_context)
    app.cleanup_ctx.append(services_context)
    app.cleanup_ctx.append(background_context)
    app.cleanup_ctx.append(actors_context)
    app.cleanup_ctx.append(operations_context)
    app.on_shutdown.append(close_websockets)
    setup_routes(app)
    return app
