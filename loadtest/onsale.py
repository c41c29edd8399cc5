"""The on-sale scenario: a spike of fans before sales open, a fair queue, then the checkout.

At the start of the run, an event with a waiting room (``ADMIT_PER_MINUTE``, default 600) is
made whose sales open ``ONSALE_AFTER`` seconds later (default 15; ``run_locust.py`` sets a
quarter of the run). Fans arrive in a spike before that: each signs in, joins the queue (the
prequeue: places are drawn at random when sales open) and waits on its authenticated websocket
for its admission; then it holds a ticket with its queue token and confirms it (80%) or walks
away (the hold expires by itself). Report rows: ``QUEUE join -> admitted`` (time in the queue)
and ``QUEUE hold -> confirmed``; at the end, the admission rate seen against the configured one,
and the checks: no place admitted twice, none out of order. (Nothing oversold: the general
check, which covers this event too.)
"""

from __future__ import annotations

import base64
import itertools
import json
import logging
import os
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import websocket
from locust import constant, events, task
from locust.env import Environment
from stampede_users import StampedeUser, account, api, created_events, later

__all__ = ["OnSaleFan"]

log = logging.getLogger("stampede.loadtest")

ONSALE_AFTER = float(os.environ.get("ONSALE_AFTER", "15"))
ADMIT_PER_MINUTE = int(os.environ.get("ADMIT_PER_MINUTE", "600"))
SEATS = 200
HOLD_SECONDS = 30
onsale: dict[str, int] = {}  # "id" and "type" of the on-sale event
admissions: list[tuple[float, int, int]] = []  # (when told, position, user) of each admission


class OnSaleFan(StampedeUser):
    """One journey: join, wait for admission, hold, confirm or walk away; then idle."""

    weight = 4
    wait_time = constant(1)

    def on_start(self) -> None:
        super().on_start()
        self.done = False

    @task
    def journey(self) -> None:
        if self.done or not onsale:
            return
        self.done = True
        event_id = onsale["id"]
        joined = time.perf_counter()
        self.client.post(
            f"/api/events/{event_id}/queue/", headers=self.auth, name="/api/events/[id]/queue/"
        )
        state = self._wait_for_admission(event_id, joined)
        if state != "admitted":
            return
        place = self.client.get(
            f"/api/events/{event_id}/queue/", headers=self.auth, name="/api/events/[id]/queue/"
        ).json()
        admissions.append((time.perf_counter(), place["position"], self._user_id()))
        self._check_out(event_id, place["queue_token"])

    def _wait_for_admission(self, event_id: int, joined: float) -> str:
        url = self.host.replace("http", "ws", 1) + "/ws"
        socket = websocket.create_connection(url, timeout=ONSALE_AFTER + 300)
        try:
            socket.send(json.dumps({"op": "auth", "token": self._token()}))
            while True:
                message = json.loads(socket.recv())
                mine = message.get("type") == "queue" and message["event_id"] == event_id
                if mine and message["state"] in ("admitted", "sold_out", "expired"):
                    break
        finally:
            socket.close()
        events.request.fire(
            request_type="QUEUE", name="join -> admitted",
            response_time=(time.perf_counter() - joined) * 1000, response_length=0,
            exception=None, context={},
        )  # fmt: skip
        state: str = message["state"]
        return state

    def _check_out(self, event_id: int, token: str) -> None:
        body = {
            "event_id": event_id,
            "items": [{"ticket_type_id": onsale["type"], "quantity": 1}],
            "hold": True,
        }
        headers = {**self.auth, "Queue-Token": token}
        with self.client.post(
            "/api/bookings/", json=body, headers=headers, catch_response=True,
            name="/api/bookings/ (hold, queue token)",
        ) as response:  # fmt: skip
            if response.status_code == 400 and response.json().get("code") == "sold_out":
                response.success()
                return
            if response.status_code != 201:
                response.failure(f"{response.status_code}: {response.text[:200]}")
                return
            held = time.perf_counter()
            reference = response.json()["booking_reference"]
        if random.random() < 0.2:
            return  # walks away: the hold expires by itself
        self.client.post(
            f"/api/bookings/{reference}/confirm/", headers=self.auth,
            name="/api/bookings/[reference]/confirm/",
        )  # fmt: skip
        events.request.fire(
            request_type="QUEUE", name="hold -> confirmed",
            response_time=(time.perf_counter() - held) * 1000, response_length=0,
            exception=None, context={},
        )  # fmt: skip

    def _token(self) -> str:
        return self.auth["Authorization"].removeprefix("Bearer ")

    def _user_id(self) -> int:
        return int(json.loads(_payload(self._token()))["user_id"])


def _payload(token: str) -> bytes:
    """The claims of a JWT (not checked: it is this user's own)."""
    part = token.split(".")[1]
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


@events.test_start.add_listener
def make_the_onsale(environment: Environment, **_: Any) -> None:
    organizer = account("organizer")
    api(environment, "POST", "/api/auth/register/", organizer)
    token = api(environment, "POST", "/api/auth/login/", organizer)["access"]
    opens = datetime.now(UTC) + timedelta(seconds=ONSALE_AFTER)
    room = {"admit_per_minute": ADMIT_PER_MINUTE, "session_seconds": 300}
    event = api(
        environment, "POST", "/api/events/",
        {"name": "The on-sale", "location": "Stadium", "start_time": later(20),
         "total_capacity": SEATS, "hold_seconds": HOLD_SECONDS, "sales_start": opens.isoformat(),
         "waiting_room": room},
        token,
    )  # fmt: skip
    ticket = api(
        environment, "POST", f"/api/events/{event['id']}/ticket-types/",
        {"name": "GA", "price": "60.00", "quantity_available": SEATS}, token,
    )  # fmt: skip
    onsale.update(id=event["id"], type=ticket["id"])
    created_events.add(event["id"])


@events.test_stop.add_listener
def check_the_admissions(environment: Environment, **_: Any) -> None:
    """Each place admitted once, in order of place; the rate seen against the one set."""
    positions = [position for _, position, _ in sorted(admissions)]
    users = [user for _, _, user in admissions]
    twice = len(set(users)) != len(users) or len(set(positions)) != len(positions)
    # Told in order of place, give or take the places admitted in the same round.
    late = sum(1 for a, b in itertools.pairwise(positions) if b < a - 20)
    if len(admissions) > 1:
        span = max(t for t, _, _ in admissions) - min(t for t, _, _ in admissions)
        rate = (len(admissions) - 1) / span * 60 if span > 0 else float("inf")
        log.warning(
            "on-sale: %d admitted, at %.0f a minute seen (%d set); admitted twice: %s; "
            "out of order: %d",
            len(admissions), rate, ADMIT_PER_MINUTE, "yes" if twice else "no", late,
        )  # fmt: skip
    if twice or late:
        log.error("on-sale: admissions wrong: %s", positions)
        environment.process_exit_code = 1
