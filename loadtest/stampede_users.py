"""What every simulated Stampede user shares: accounts, signing in, making events, and plain
requests outside the measured users (setup and the final checks)."""

from __future__ import annotations

import itertools
import json
import random
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from locust import FastHttpUser
from locust.env import Environment

PASSWORD = "Load-testing-2026!"
_names = itertools.count(1)
_run = uuid.uuid4().hex[:6]
created_events: set[int] = set()  # every event this run made, for the final check


def later(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def account(role: str) -> dict[str, str]:
    name = f"lt{_run}-{role[:3]}-{next(_names)}"
    return {"username": name, "email": f"{name}@load.example", "password": PASSWORD, "role": role}


class StampedeUser(FastHttpUser):
    abstract = True
    role = "attendee"

    def on_start(self) -> None:
        self.auth = self.sign_in(self.role)

    def sign_in(self, role: str) -> dict[str, str]:
        """Register a new account with ``role`` and return its Authorization header."""
        made = account(role)
        self.client.post("/api/auth/register/", json=made)
        with self.client.post(
            "/api/auth/login/",
            json={"username": made["username"], "password": PASSWORD},
            catch_response=True,
        ) as response:
            token = response.json().get("access") if response.status_code == 200 else None
            if token is None:
                response.failure(f"login failed: {response.status_code}")
        return {"Authorization": f"Bearer {token or ''}"}

    def create_event(
        self, seats: int, types: int, name: str, auth: dict[str, str] | None = None
    ) -> dict[str, Any] | None:
        auth = auth or self.auth
        body = {
            "name": name,
            "description": "Made by the load test",
            "location": random.choice(["Berlin", "Lisbon", "Osaka", "Austin"]),
            "start_time": later(random.uniform(5, 60)),
            "total_capacity": seats,
        }
        response = self.client.post("/api/events/", json=body, headers=auth)
        if response.status_code != 201:
            return None
        event = response.json()
        created_events.add(event["id"])
        ids = []
        for n in range(types):
            ticket = {
                "name": ["Standard", "VIP", "Balcony"][n % 3],
                "price": f"{random.randint(10, 200)}.00",
                "quantity_available": seats // types + 10,
            }
            made = self.client.post(
                f"/api/events/{event['id']}/ticket-types/",
                json=ticket,
                headers=auth,
                name="/api/events/[id]/ticket-types/",
            )
            if made.status_code == 201:
                ids.append(made.json()["id"])
        return {"id": event["id"], "types": ids}


def api(environment: Environment, method: str, path: str, body: Any = None, token: str = "") -> Any:
    """A plain request outside the measured users (setup and the final check)."""
    headers = {"Content-Type": "application/json"} | (
        {"Authorization": f"Bearer {token}"} if token else {}
    )
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        environment.host + path, data=data, headers=headers, method=method
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")
