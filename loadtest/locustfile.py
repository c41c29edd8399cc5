"""Realistic Stampede users for locust: organizers, attendees and live-availability watchers.

Run it with ``make loadtest`` (headless, against a server it starts, or ``TARGET=http://…``), or
open the web UI against a running server::

    .venv/bin/locust -f loadtest/locustfile.py --host http://127.0.0.1:8000

- Organizers create events with ticket types, look at their bookings, sometimes change an event.
- Attendees browse, open events, book one or more tickets (half the time on one of the "hot"
  events whose few seats everybody races for), look at their bookings, sometimes cancel one.
  A 400 ``sold_out``/``capacity_exceeded`` is a correct answer, not a failure.
- Watchers own a quiet event, watch it over a websocket, book a ticket of it and time how long
  after the 201 the new state arrives: the ``WS live: 201 -> new state`` row of the report.
- On-sale fans (``onsale.py``) queue in a waiting room before sales open, wait for admission on
  their websocket, then hold and confirm or walk away: the ``QUEUE`` rows.

When the run stops, every event it created is checked through the API: none may be oversold
(the run then exits 1). The server should run with ``RATE_LIMITS=off``, or registrations from
one address are throttled (``make loadtest`` starts it so).
"""

from __future__ import annotations

import json
import logging
import random
import time
from typing import Any

import websocket  # websocket-client: blocking sockets, made cooperative by locust's gevent
from locust import between, events, task
from locust.env import Environment
from onsale import OnSaleFan  # noqa: F401 - a user class of this run: the on-sale scenario
from stampede_users import StampedeUser, account, api, created_events, later

log = logging.getLogger("stampede.loadtest")

HOT_EVENTS = 3
HOT_SEATS = 150  # per hot event: sold out within the first minute
# Correct answers, not failures: no seats left, or an on-sale that needs its queue (onsale.py).
REFUSALS = (
    "sold_out", "capacity_exceeded", "event_closed", "ticket_type_inactive", "not_on_sale",
    "queue_required",
)  # fmt: skip
hot_events: list[dict[str, Any]] = []  # {"id", "types": [ids]}, made at test start


class Organizer(StampedeUser):
    weight = 1
    role = "organizer"
    wait_time = between(2, 5)

    def on_start(self) -> None:
        super().on_start()
        self.events: list[dict[str, Any]] = []

    @task(3)
    def create_an_event(self) -> None:
        event = self.create_event(random.randint(50, 400), random.randint(1, 3), "Gig")
        if event is not None:
            self.events.append(event)

    @task(2)
    def look_at_bookings(self) -> None:
        if self.events:
            event = random.choice(self.events)
            self.client.get(
                f"/api/events/{event['id']}/bookings/",
                headers=self.auth,
                name="/api/events/[id]/bookings/",
            )

    @task(1)
    def rename_an_event(self) -> None:
        if self.events:
            event = random.choice(self.events)
            self.client.patch(
                f"/api/events/{event['id']}/",
                json={"description": f"Updated at {time.time():.0f}"},
                headers=self.auth,
                name="/api/events/[id]/",
            )


class Attendee(StampedeUser):
    weight = 8
    wait_time = between(0.5, 2)

    def on_start(self) -> None:
        super().on_start()
        self.bookings: list[str] = []
        self.seen: list[dict[str, Any]] = []
        self.pages = 1  # of the upcoming events' list, as last seen

    @task(4)
    def browse(self) -> None:
        page = random.randint(1, self.pages)
        response = self.client.get(
            f"/api/events/?status=upcoming&page={page}", name="/api/events/?status=upcoming"
        )
        if response.status_code == 200:
            listing = response.json()
            self.seen = listing["results"]
            self.pages = max(1, -(-listing["count"] // 10))

    @task(3)
    def open_an_event(self) -> None:
        if self.seen:
            event = random.choice(self.seen)
            self.client.get(f"/api/events/{event['id']}/", name="/api/events/[id]/")
            self.client.get(
                f"/api/events/{event['id']}/ticket-types/", name="/api/events/[id]/ticket-types/"
            )

    @task(6)
    def book(self) -> None:
        target = self._choose()
        if target is None:
            return
        event_id, type_ids = target
        chosen = random.sample(type_ids, k=random.randint(1, min(2, len(type_ids))))
        body = {
            "event_id": event_id,
            "items": [{"ticket_type_id": t, "quantity": random.randint(1, 3)} for t in chosen],
        }
        with self.client.post(
            "/api/bookings/", json=body, headers=self.auth, catch_response=True
        ) as response:
            if response.status_code == 201:
                self.bookings.append(response.json()["booking_reference"])
            elif response.status_code in (400, 403) and response.json().get("code") in REFUSALS:
                response.success()
            else:
                response.failure(f"{response.status_code}: {response.text[:200]}")

    @task(1)
    def cancel(self) -> None:
        if self.bookings and random.random() < 0.5:
            reference = self.bookings.pop(random.randrange(len(self.bookings)))
            self.client.put(
                f"/api/bookings/{reference}/cancel/",
                headers=self.auth,
                name="/api/bookings/[reference]/cancel/",
            )

    @task(2)
    def my_bookings(self) -> None:
        self.client.get("/api/users/me/bookings/", headers=self.auth)

    def _choose(self) -> tuple[int, list[int]] | None:
        if hot_events and random.random() < 0.5:
            event = random.choice(hot_events)
            return event["id"], event["types"]
        if not self.seen:
            return None
        event = random.choice(self.seen)
        response = self.client.get(
            f"/api/events/{event['id']}/ticket-types/", name="/api/events/[id]/ticket-types/"
        )
        if response.status_code != 200:
            return None
        types = [t["id"] for t in response.json()["results"] if t["is_active"]]
        return (event["id"], types) if types else None


class Watcher(StampedeUser):
    """Books on an event of its own while watching it live, and times the update."""

    weight = 1
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.event = self.create_event(10_000, 1, "Watched", auth=self.sign_in("organizer"))
        self.auth = self.sign_in("attendee")  # who books it
        self.socket: websocket.WebSocket | None = None
        if self.event is None or not self.event["types"]:
            return
        url = self.host.replace("http", "ws", 1) + f"/ws/events/{self.event['id']}"
        self.socket = websocket.create_connection(url, timeout=10)
        self.sold = json.loads(self.socket.recv())["tickets_sold"]  # the snapshot

    def on_stop(self) -> None:
        if self.socket is not None:
            self.socket.close()

    @task
    def book_and_watch(self) -> None:
        if self.socket is None or self.event is None:
            return
        body = {
            "event_id": self.event["id"],
            "items": [{"ticket_type_id": self.event["types"][0], "quantity": 1}],
        }
        sent = time.perf_counter()
        response = self.client.post("/api/bookings/", json=body, headers=self.auth)
        if response.status_code != 201:
            return
        booked = time.perf_counter()
        self.sold += 1
        exception: Exception | None = None
        try:
            while json.loads(self.socket.recv()).get("tickets_sold", -1) < self.sold:
                pass
        except (websocket.WebSocketException, OSError) as exc:
            exception = exc
        arrived = time.perf_counter()
        # The state is often on its way before the 201 is read: then "201 -> state" is ~0 ms.
        for name, start in (
            ("live: 201 -> new state", booked),
            ("live: booking sent -> new state", sent),
        ):
            events.request.fire(
                request_type="WS",
                name=name,
                response_time=(arrived - start) * 1000,
                response_length=0,
                exception=exception,
                context={},
            )


@events.test_start.add_listener
def make_hot_events(environment: Environment, **_: Any) -> None:
    """A few events with few seats that half of all bookings race for."""
    organizer = account("organizer")
    api(environment, "POST", "/api/auth/register/", organizer)
    token = api(environment, "POST", "/api/auth/login/", organizer)["access"]
    for n in range(HOT_EVENTS):
        event = api(
            environment, "POST", "/api/events/",
            {"name": f"Hot show {n + 1}", "location": "Arena", "start_time": later(10), "total_capacity": HOT_SEATS},
            token,
        )  # fmt: skip
        types = [
            api(
                environment, "POST", f"/api/events/{event['id']}/ticket-types/",
                {"name": name, "price": price, "quantity_available": HOT_SEATS * 2 // 3},
                token,
            )["id"]
            for name, price in (("Standard", "40.00"), ("VIP", "120.00"))
        ]  # fmt: skip
        hot_events.append({"id": event["id"], "types": types})
        created_events.add(event["id"])


@events.test_stop.add_listener
def check_nothing_oversold(environment: Environment, **_: Any) -> None:
    oversold = []
    for event_id in sorted(created_events):
        event = api(environment, "GET", f"/api/events/{event_id}/")
        types = api(environment, "GET", f"/api/events/{event_id}/ticket-types/?page_size=100")[
            "results"
        ]
        if (
            event["tickets_sold"] > event["total_capacity"]
            or event["tickets_available"] < 0
            or any(t["quantity_available"] < 0 for t in types)
            or sum(t["quantity_sold"] for t in types) != event["tickets_sold"]
        ):
            oversold.append(event_id)
    hot_sold = sum(
        api(environment, "GET", f"/api/events/{e['id']}/")["tickets_sold"] for e in hot_events
    )
    log.warning(
        "oversell check: %d events checked, %d oversold; hot events sold %d of %d seats",
        len(created_events), len(oversold), hot_sold, HOT_EVENTS * HOT_SEATS,
    )  # fmt: skip
    if oversold:
        log.error("OVERSOLD events: %s", oversold)
        environment.process_exit_code = 1
