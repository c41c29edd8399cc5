"""The admin API (stampede-api.md §10): superusers find and change users, cancel any event, read
any booking; every write in the audit log. The authorization matrix is in test_permissions."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import asyncpg
from pytest_aiohttp import AiohttpClient

from server.config import Config
from server.embedded.redis import RedisServer
from tests.support.admins import admin
from tests.support.api import Api
from tests.support.instances import two_instances


async def _page(api: Api, who: Any, path: str) -> tuple[int, Any]:
    response = await api.client.get(path, headers=who.headers)
    return response.status, await response.json()


async def test_an_admin_is_made_by_createsuperuser_never_by_register(
    api: Api, config: Config
) -> None:
    root = await admin(api, config)
    profile = await (await api.client.get("/api/auth/profile/", headers=root.headers)).json()
    assert profile["role"] == "admin"
    body = {
        "username": "sneaky",
        "email": "s@example.org",
        "password": "Xq7-long-pass!",
        "role": "admin",
    }
    response = await api.client.post("/api/auth/register/", json=body)
    assert (response.status, list(await response.json())) == (400, ["role"])


async def test_users_are_found_by_part_of_a_name_role_and_activity(
    api: Api, config: Config
) -> None:
    root = await admin(api, config)
    alice = await api.register("organizer", username="alice-smith", email="alice@example.org")
    await api.register("attendee", username="bob", email="bob@Example.org")
    status, found = await _page(api, root, "/api/admin/users/?search=SMITH")
    assert (status, [u["username"] for u in found["results"]]) == (200, ["alice-smith"])
    assert set(found["results"][0]) == {
        "id", "username", "email", "first_name", "last_name", "role", "is_active", "date_joined",
    }  # fmt: skip
    status, found = await _page(api, root, "/api/admin/users/?search=example.ORG&role=organizer")
    assert [u["id"] for u in found["results"]] == [alice.id]
    status, found = await _page(api, root, "/api/admin/users/?is_active=false")
    assert found["count"] == 0
    status, bad = await _page(api, root, "/api/admin/users/?role=king")
    assert (status, list(bad)) == (400, ["role"])
    status, bad = await _page(api, root, "/api/admin/users/?is_active=maybe")
    assert (status, list(bad)) == (400, ["is_active"])


async def test_changing_a_role_and_deactivating_are_audited_and_take_effect(
    api: Api, config: Config
) -> None:
    root = await admin(api, config)
    fan = await api.attendee()
    path = f"/api/admin/users/{fan.id}/"
    response = await api.client.patch(path, json={"role": "organizer"}, headers=root.headers)
    assert (response.status, (await response.json())["role"]) == (200, "organizer")
    profile = await api.client.get("/api/auth/profile/", headers=fan.headers)
    assert (await profile.json())["role"] == "organizer"  # the cached user is forgotten
    response = await api.client.patch(path, json={"is_active": False}, headers=root.headers)
    assert (await response.json())["is_active"] is False
    refused = await api.client.get("/api/auth/profile/", headers=fan.headers)
    assert refused.status == 401
    again = await api.client.patch(path, json={"is_active": True}, headers=root.headers)
    assert (await again.json())["is_active"] is True
    assert (await api.client.get("/api/auth/profile/", headers=fan.headers)).status == 401
    tokens = await api.login(fan.username, fan.password)  # signing in again works
    assert tokens["access"]
    _, log = await _page(api, root, "/api/admin/audit/")
    assert [(e["actor"], e["action"], e["target"]) for e in log["results"]] == [
        (root.username, "user.update", f"user:{fan.id}"),
    ] * 3
    assert log["results"][-1]["detail"] == {"role": ["attendee", "organizer"]}
    assert log["results"][1]["detail"] == {"is_active": [True, False]}


async def test_admins_and_bad_changes_are_refused_and_change_nothing(
    api: Api, config: Config, database_url: str
) -> None:
    root, other = await admin(api, config), await admin(api, config)
    fan = await api.attendee()
    conn = await asyncpg.connect(database_url)
    try:
        before = await conn.fetch("SELECT * FROM users ORDER BY id")
        for path, body, status in [
            (f"/api/admin/users/{other.id}/", {"is_active": False}, 403),
            (f"/api/admin/users/{fan.id}/", {"role": "admin"}, 400),
            (f"/api/admin/users/{fan.id}/", {"is_active": "perhaps"}, 400),
            (f"/api/admin/users/{fan.id}/", ["role"], 400),
            ("/api/admin/users/999999/", {"role": "organizer"}, 404),
            ("/api/admin/users/x/", {"role": "organizer"}, 404),
        ]:
            response = await api.client.patch(path, json=body, headers=root.headers)
            assert response.status == status, (path, body, await response.text())
        assert await conn.fetch("SELECT * FROM users ORDER BY id") == before
        assert await conn.fetchval("SELECT count(*) FROM audit_log") == 0
    finally:
        await conn.close()


async def test_an_admin_cancels_any_event_as_its_organizer_would(
    api: Api, config: Config, database_url: str
) -> None:
    root = await admin(api, config)
    owner, fan = await api.organizer(), await api.attendee()
    event = await api.event(owner, name="Moderated")
    ticket = await api.ticket_type(owner, event["id"])
    body = {"event_id": event["id"], "items": [{"ticket_type_id": ticket["id"], "quantity": 2}]}
    booked = await (await api.client.post("/api/bookings/", json=body, headers=fan.headers)).json()
    status, found = await _page(api, root, "/api/admin/events/?search=moderated")
    assert [e["id"] for e in found["results"]] == [event["id"]]
    path = f"/api/admin/events/{event['id']}/cancel/"
    response = await api.client.post(path, headers=root.headers)
    assert (response.status, (await response.json())["status"]) == (200, "cancelled")
    again = await api.client.post(path, headers=root.headers)
    assert (again.status, (await again.json())["code"]) == (409, "already_cancelled")
    status, booking = await _page(api, root, f"/api/admin/bookings/{booked['booking_reference']}/")
    assert (status, booking["status"], booking["username"]) == (200, "cancelled", fan.username)
    unknown = "/api/admin/bookings/6f9c1f3e-0000-4000-8000-000000000000/"
    assert (await _page(api, root, unknown))[0] == 404
    conn = await asyncpg.connect(database_url)
    try:
        mails = await conn.fetch("SELECT subject FROM outbox WHERE recipient = $1", fan.email)
    finally:
        await conn.close()
    assert "Booking cancelled: Moderated" in [m["subject"] for m in mails]
    _, log = await _page(api, root, "/api/admin/audit/")
    assert log["results"][0]["action"] == "event.cancel"
    assert log["results"][0]["target"] == f"event:{event['id']}"


async def test_a_deactivation_holds_on_every_instance_at_once(
    config: Config, redis_server: RedisServer, aiohttp_client: AiohttpClient
) -> None:
    settings = dataclasses.replace(config, redis_url=redis_server.url)
    first, second = await two_instances(aiohttp_client, settings)
    here, there = Api(first), Api(second)
    root = await admin(here, settings)
    fan = await here.attendee()
    assert (await there.client.get("/api/auth/profile/", headers=fan.headers)).status == 200
    path = f"/api/admin/users/{fan.id}/"
    done = await here.client.patch(path, json={"is_active": False}, headers=root.headers)
    assert done.status == 200
    for _ in range(20):  # well inside the user cache's 2 s: told through Redis
        refused = await there.client.get("/api/auth/profile/", headers=fan.headers)
        if refused.status == 401:
            break
        await asyncio.sleep(0.025)
    assert refused.status == 401
