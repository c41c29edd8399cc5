"""Prometheus metrics (stampede-api.md §9), with ``prometheus-client``: one registry per app,
so that each instance (and each app of a test process) counts what it served.

Cheap on the hot path: a request costs one cached child lookup, one counter increment and one
histogram observation; gauges (sockets, actors, the pool, the outbox) are read only when
``/metrics`` is scraped. No label holds a raw path, an id or a user: routes are templates,
methods and statuses are bounded sets."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import asyncpg
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from server.actors.transaction import BatchResult
from server.booking.commands import BookTickets, Command
from server.booking.outcomes import Booked, Cancelled, Offered

__all__ = ["CONTENT_TYPE", "Metrics"]

CONTENT_TYPE = CONTENT_TYPE_LATEST
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
BOOKING_OUTCOMES = ("confirmed", "held", "rejected")
FANOUT_BUCKETS = (0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1)

_HttpChildren = tuple["Counter", "Histogram"]


class Metrics:
    """This app's metrics, and the calls that move them."""

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry(auto_describe=True)
        counter = functools.partial(Counter, registry=registry)
        gauge = functools.partial(Gauge, registry=registry)
        histogram = functools.partial(Histogram, registry=registry)
        http = ("route", "method")
        self.http_requests = counter(
            "stampede_http_requests", "HTTP requests answered", [*http, "status"]
        )
        self.http_duration = histogram(
            "stampede_http_request_duration_seconds", "Time to answer an HTTP request", http,
            buckets=LATENCY_BUCKETS,
        )  # fmt: skip
        self.bookings = counter("stampede_bookings", "Booking requests decided", ["outcome"])
        self.cancellations = counter(
            "stampede_cancellations", "Bookings cancelled (by owners and with their events)"
        )
        self.holds_expired = counter("stampede_holds_expired", "Holds whose time ran out")
        self.offers = counter("stampede_waitlist_offers", "Seats offered to the waiting list")
        self.admissions = counter("stampede_queue_admissions", "Places admitted from the queue")
        self.batch_size = histogram(
            "stampede_actor_batch_size", "Commands per batch transaction", buckets=BATCH_BUCKETS
        )
        self.batch_duration = histogram(
            "stampede_actor_batch_duration_seconds", "Time from a batch's start to its answers",
            buckets=LATENCY_BUCKETS,
        )  # fmt: skip
        self.mailbox_depth = histogram(
            "stampede_actor_mailbox_depth", "Commands still waiting when a batch starts",
            buckets=(0, *BATCH_BUCKETS),
        )  # fmt: skip
        self.commits = counter("stampede_actor_commits", "Batches committed that changed an event")
        self.retries = counter("stampede_actor_retries", "Batch attempts retried (deadlocks, …)")
        self.fanout_duration = histogram(
            "stampede_fanout_pass_duration_seconds", "One event's state written to its sockets",
            buckets=FANOUT_BUCKETS,
        )  # fmt: skip
        self.webhook_deliveries = counter("stampede_webhook_deliveries", "Webhooks", ["outcome"])
        self.outbox_backlog = gauge("stampede_outbox_backlog", "Undelivered outbox rows", ["kind"])
        self.outbox_oldest = gauge(
            "stampede_outbox_oldest_unsent_seconds", "Age of the oldest undelivered row", ["kind"]
        )
        self.websockets = gauge("stampede_websocket_connections", "Open websockets here")
        self.actors = gauge("stampede_event_actors", "Running event actors")
        self.pool_connections = gauge("stampede_db_pool_connections", "DB pool", ["state"])
        self._http: dict[tuple[str, str, int], _HttpChildren] = {}
        self._outcomes = {name: self.bookings.labels(name) for name in BOOKING_OUTCOMES}

    def watch(
        self, sockets: Callable[[], int], actors: Callable[[], int], pool: asyncpg.Pool
    ) -> None:
        """The gauges read when scraped: sockets, actors, the pool's connections."""
        self.websockets.set_function(sockets)
        self.actors.set_function(actors)
        self.pool_connections.labels("in_use").set_function(
            lambda: pool.get_size() - pool.get_idle_size()
        )
        self.pool_connections.labels("idle").set_function(pool.get_idle_size)

    async def read_outbox(self, pool: asyncpg.Pool, query: str) -> None:
        """The outbox's backlog and its oldest row's age, mail and webhooks (when scraped)."""
        for row in await pool.fetch(query):
            self.outbox_backlog.labels(row["kind"]).set(row["backlog"])
            self.outbox_oldest.labels(row["kind"]).set(row["oldest"])

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        children = self._http.get(key)
        if children is None:
            label = method if method in METHODS else "OTHER"
            children = (
                self.http_requests.labels(route, label, str(status)),
                self.http_duration.labels(route, label),
            )
            self._http[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def batch(
        self, commands: Sequence[Command], waiting: int, seconds: float, result: BatchResult
    ) -> None:
        """A batch answered: its size, time and what it decided."""
        self.batch_size.observe(len(commands))
        self.batch_duration.observe(seconds)
        self.mailbox_depth.observe(waiting)
        if result.seq is not None:
            self.commits.inc()
        if result.retries:
            self.retries.inc(result.retries)
        for command, outcome in zip(commands, result.outcomes, strict=True):
            if isinstance(outcome, Booked):
                if not outcome.replayed:
                    self._outcomes["held" if outcome.held else "confirmed"].inc()
            elif isinstance(outcome, Cancelled):
                self.cancellations.inc()
            elif isinstance(command, BookTickets):
                self._outcomes["rejected"].inc()
        if result.expired:
            self.holds_expired.inc(len(result.expired))
        offered = sum(1 for done in result.settled if isinstance(done, Offered))
        if offered:
            self.offers.inc(offered)

    def webhook_attempt(self, delivered: bool) -> None:
        self.webhook_deliveries.labels("delivered" if delivered else "failed").inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
