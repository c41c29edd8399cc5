"""A thin client over the real HTTP API: accounts, events and ticket types in one line each."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

Client = TestClient[web.Request, web.Application]
PASSWORD = "correct-Horse-battery-9"
_counter = itertools.count(1)


def future(days: float = 30, hours: float = 0) -> str:
    return (datetime.now(UTC) + timedelta(days=days, hours=hours)).isoformat()


@dataclass
class Account:
    id: int
    username: str
    email: str
    role: str
    password: str
    access: str
    refresh: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}


@dataclass
class Api:
    client: Client
    accounts: list[Account] = field(default_factory=list)

    async def register(self, role: str = "attendee", **overrides: Any) -> Account:
        n = next(_counter)
        body = {
            "username": f"user{n}",
            "email": f"user{n}@example.org",
            "password": PASSWORD,
            "role": role,
            **overrides,
        }
        response = await self.client.post("/api/auth/register/", json=body)
        assert response.status == 201, await response.text()
        tokens = await self.login(body["username"], body["password"])
        profile = await self.client.get(
            "/api/auth/profile/", headers={"Authorization": f"Bearer {tokens['access']}"}
        )
        user_id = (await profile.json())["id"]
        account = Account(
            user_id,
            body["username"],
            body["email"],
            role,
            body["password"],
            tokens["access"],
            tokens["refresh"],
        )
        self.accounts.append(account)
        return account

    async def attendee(self) -> Account:
        return await self.register("attendee")

    async def organizer(self) -> Account:
        return await self.register("organizer")

    async def login(self, username: str, password: str) -> dict[str, str]:
        response = await self.client.post(
            "/api/auth/login/", json={"username": username, "password": password}
        )
        assert response.status == 200, await response.text()
        tokens: dict[str, str] = await response.json()
        return tokens

    async def event(self, owner: Account, **overrides: Any) -> dict[str, Any]:
        body = {
            "name": "Hot Gig",
            "description": "A night to remember",
            "location": "Berlin",
            "start_time": future(30),
            "end_time": future(30, hours=3),
            "total_capacity": 100,
            **overrides,
        }
        response = await self.client.post("/api/events/", json=body, headers=owner.headers)
        assert response.status == 201, await response.text()
        event: dict[str, Any] = await response.json()
        return event

    async def ticket_type(self, owner: Account, event_id: int, **overrides: Any) -> dict[str, Any]:
        body = {
            "name": f"Standard {next(_counter)}",
            "price": "25.00",
            "quantity_available": 50,
            **overrides,
        }
        response = await self.client.post(
            f"/api/events/{event_id}/ticket-types/", json=body, headers=owner.headers
        )
        assert response.status == 201, await response.text()
        ticket_type: dict[str, Any] = await response.json()
        return ticket_type
