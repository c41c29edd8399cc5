"""``GET /metrics`` (stampede-api.md §9): Prometheus text that ``prometheus_client`` parses, with
counters that move by what was done, route templates (never raw paths) as labels, and the
optional token."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from pytest_aiohttp import AiohttpClient

from server.actors.transaction import BatchResult
from server.app import create_app
from server.booking.commands import BookTickets
from server.booking.outcomes import Booked, Reason, Refused
from server.config import Config
from server.metrics import Metrics
from tests.support.api import Api

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def _scrape(api: Api, **headers: str) -> Samples:
    response = await api.client.get("/metrics", headers=headers)
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def _book(
    api: Api, who: Any, event: dict[str, Any], ticket: dict[str, Any], n: int, **extra: Any
) -> int:
    body = {
        "event_id": event["id"],
        "items": [{"ticket_type_id": ticket["id"], "quantity": n}],
        **extra,
    }
    response = await api.client.post("/api/bookings/", json=body, headers=who.headers)
    return response.status


async def test_counters_move_by_what_was_done(api: Api) -> None:
    owner, fan = await api.organizer(), await api.attendee()
    event = await api.event(owner, total_capacity=5, hold_seconds=5)
    ticket = await api.ticket_type(owner, event["id"], quantity_available=5)
    before = await _scrape(api)
    assert [await _book(api, fan, event, ticket, 1) for _ in range(3)] == [201, 201, 201]
    assert await _book(api, fan, event, ticket, 1, hold=True) == 201
    assert await _book(api, fan, event, ticket, 9) == 400  # more than there is
    mine = await (await api.client.get("/api/users/me/bookings/", headers=fan.headers)).json()
    confirmed = [b for b in mine["results"] if b["status"] == "confirmed"]
    reference = confirmed[0]["booking_reference"]
    cancel = await api.client.patch(f"/api/bookings/{reference}/cancel/", headers=fan.headers)
    assert cancel.status == 200
    for _ in range(100):  # the hold runs out after 5 s
        after = await _scrape(api)
        if _value(after, "stampede_holds_expired_total") > _value(
            before, "stampede_holds_expired_total"
        ):
            break
        await asyncio.sleep(0.1)

    def moved(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert moved("stampede_bookings_total", outcome="confirmed") == 3
    assert moved("stampede_bookings_total", outcome="held") == 1
    assert moved("stampede_bookings_total", outcome="rejected") == 1
    assert moved("stampede_cancellations_total") == 1
    assert moved("stampede_holds_expired_total") == 1
    route = {"route": "/api/bookings", "method": "POST"}
    assert moved("stampede_http_requests_total", **route, status="201") == 4
    assert moved("stampede_http_requests_total", **route, status="400") == 1
    assert moved("stampede_http_request_duration_seconds_count", **route) == 5
    assert moved("stampede_actor_batch_size_count") >= 5
    assert _value(after, "stampede_actor_commits_total") >= 5


async def test_labels_are_templates_never_ids(api: Api) -> None:
    owner = await api.organizer()
    event = await api.event(owner)
    assert (await api.client.get(f"/api/events/{event['id']}/")).status == 200
    assert (await api.client.get("/no/such/path/123456")).status == 404
    samples = await _scrape(api)
    routes = {
        dict(labels).get("route") for (name, labels) in samples if name.startswith("stampede_http")
    }
    assert "/api/events/{event_id}" in routes
    assert "unmatched" in routes
    assert not any(r and "123456" in r for r in routes)
    assert not any(
        r and str(event["id"]) in r.replace("{event_id}", "") for r in routes if r != "/metrics"
    )
    assert _value(samples, "stampede_db_pool_connections", state="in_use") >= 0
    assert ("stampede_outbox_backlog", (("kind", "mail"),)) in samples
    assert ("stampede_websocket_connections", ()) in samples


async def test_the_token_guards_it(config: Config, aiohttp_client: AiohttpClient) -> None:
    api = Api(
        await aiohttp_client(
            create_app(dataclasses.replace(config, metrics_token="t0ken-" + "m" * 20))
        )
    )
    response = await api.client.get("/metrics")
    assert (response.status, (await response.json())["code"]) == (401, "not_authenticated")
    wrong = await api.client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status == 401
    assert await _scrape(api, Authorization="Bearer t0ken-" + "m" * 20)


async def test_metrics_off(config: Config, aiohttp_client: AiohttpClient) -> None:
    api = Api(await aiohttp_client(create_app(dataclasses.replace(config, metrics=False))))
    assert (await api.client.get("/metrics")).status == 404
    assert (await api.client.get("/api/health")).status == 200


def test_a_batch_counts_its_retries_and_outcomes() -> None:
    """What ``Metrics.batch`` makes of a batch that took three attempts."""
    metrics = Metrics()
    commands = [BookTickets(1, ((3, 1),)), BookTickets(2, ((3, 9),))]
    result = BatchResult(
        [Booked(uuid.uuid4()), Refused(Reason.SOLD_OUT, "Sold out.")], seq=5, retries=2
    )
    metrics.batch(commands, waiting=3, seconds=0.004, result=result)
    value = metrics.registry.get_sample_value
    assert value("stampede_actor_retries_total") == 2
    assert value("stampede_actor_commits_total") == 1
    assert value("stampede_bookings_total", {"outcome": "confirmed"}) == 1
    assert value("stampede_bookings_total", {"outcome": "rejected"}) == 1
    assert value("stampede_actor_batch_size_sum") == 2
    assert value("stampede_actor_mailbox_depth_sum") == 3
