"""Forged, altered, stale or misplaced tokens: every one is 401, on every kind of route."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any

import asyncpg
import jwt
import orjson
import pytest
from pytest_aiohttp import AiohttpClient

from server.config import Config
from server.embedded.redis import RedisServer
from tests.support.api import Account, Api
from tests.support.instances import two_instances

USER_CACHE_SECONDS = 2.1
# One read, one write and the booking route: the middleware guards them all alike.
GUARDED = [
    ("GET", "/api/auth/profile/"),
    ("POST", "/api/events/"),
    ("POST", "/api/bookings/"),
    ("GET", "/api/users/me/bookings/"),
]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(account: Account, **changes: Any) -> dict[str, Any]:
    now = time.time()
    claims = {
        "token_type": "access",
        "exp": int(now) + 300,
        "iat": now,
        "jti": "abc",
        "user_id": str(account.id),
    }
    return {**claims, **changes}


def _unsigned(account: Account, secret: str) -> str:
    header = _b64(orjson.dumps({"alg": "none", "typ": "JWT"}))
    return f"{header}.{_b64(orjson.dumps(_claims(account)))}."


def _hs512(claims: dict[str, Any], secret: str) -> str:
    """Signed by hand: PyJWT warns (rightly) that this secret is short for HS512."""
    signing_input = (
        f"{_b64(orjson.dumps({'alg': 'HS512', 'typ': 'JWT'}))}.{_b64(orjson.dumps(claims))}"
    )
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha512).digest()
    return f"{signing_input}.{_b64(signature)}"


def _other_algorithm(account: Account, secret: str) -> str:
    return _hs512(_claims(account), secret)


def _tampered(account: Account, secret: str) -> str:
    """A real token whose payload now names another user; the signature is the original's."""
    header, _, signature = account.access.split(".")
    forged = _b64(orjson.dumps(_claims(account, user_id=str(account.id + 1))))
    return f"{header}.{forged}.{signature}"


def _other_secret(account: Account, secret: str) -> str:
    return jwt.encode(_claims(account), "not-the-server-secret-" + "y" * 32, algorithm="HS256")


def _expired(account: Account, secret: str) -> str:
    past = time.time() - 100
    return jwt.encode(_claims(account, iat=past, exp=int(past) + 10), secret, algorithm="HS256")


def _refresh(account: Account, secret: str) -> str:
    return account.refresh


def _no_user_claim(account: Account, secret: str) -> str:
    claims = _claims(account)
    del claims["user_id"]
    return jwt.encode(claims, secret, algorithm="HS256")


def _non_numeric_user(account: Account, secret: str) -> str:
    return jwt.encode(_claims(account, user_id="1 OR 1=1"), secret, algorithm="HS256")


FORGERIES: list[Callable[[Account, str], str]] = [
    _unsigned,
    _other_algorithm,
    _tampered,
    _other_secret,
    _expired,
    _refresh,
    _no_user_claim,
    _non_numeric_user,
]


@pytest.mark.parametrize("forge", FORGERIES, ids=lambda f: f.__name__.strip("_"))
async def test_a_bad_access_token_is_401_everywhere(
    api: Api, config: Config, forge: Callable[[Account, str], str]
) -> None:
    account = await api.organizer()
    assert config.jwt_secret
    token = forge(account, config.jwt_secret)
    for method, path in GUARDED:
        response = await api.client.request(
            method, path, json={}, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status == 401, (method, path, await response.text())
        assert (await response.json())["code"] in ("token_not_valid", "authentication_failed")
    # The genuine token still works: the refusals were about the forgery, not the account.
    response = await api.client.get("/api/auth/profile/", headers=account.headers)
    assert response.status == 200


@pytest.mark.parametrize("forge", [_unsigned, _other_algorithm, _other_secret, _expired])
async def test_a_bad_refresh_token_gets_no_access_token(
    api: Api, config: Config, forge: Callable[[Account, str], str]
) -> None:
    account = await api.attendee()
    assert config.jwt_secret
    token = forge(account, config.jwt_secret)
    header, payload, signature = token.split(".")
    claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["token_type"] = "refresh"
    refresh = f"{header}.{_b64(orjson.dumps(claims))}.{signature}"  # signature no longer fits
    if forge is _other_algorithm:
        refresh = _hs512(claims, config.jwt_secret)
    elif forge is not _unsigned:
        refresh = jwt.encode(claims, *_signing(forge, config.jwt_secret))
    response = await api.client.post("/api/auth/token/refresh/", json={"refresh": refresh})
    assert response.status == 401, await response.text()


def _signing(forge: Callable[[Account, str], str], secret: str) -> tuple[str, str]:
    """The key and algorithm ``forge`` signs with: the same fault, now on a refresh token."""
    if forge is _other_secret:
        return "not-the-server-secret-" + "y" * 32, "HS256"
    return secret, "HS256"  # _expired: right key, past exp


async def test_tokens_of_a_deleted_user_are_401(api: Api, database_url: str) -> None:
    account = await api.attendee()
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("DELETE FROM users WHERE id = $1", account.id)
    finally:
        await conn.close()
    await asyncio.sleep(USER_CACHE_SECONDS)  # the server may remember the user this long
    response = await api.client.get("/api/auth/profile/", headers=account.headers)
    assert response.status == 401
    refreshed = await api.client.post("/api/auth/token/refresh/", json={"refresh": account.refresh})
    assert refreshed.status == 401


async def test_a_deactivated_users_tokens_are_401_on_every_guarded_route(api: Api) -> None:
    account = await api.organizer()
    response = await api.client.delete("/api/auth/deactivate-account/", headers=account.headers)
    assert response.status == 204
    for method, path in GUARDED:
        response = await api.client.request(method, path, json={}, headers=account.headers)
        assert response.status == 401, (method, path)


async def test_deactivation_on_one_instance_ends_the_tokens_on_the_other_at_once(
    config: Config, redis_server: RedisServer, aiohttp_client: AiohttpClient
) -> None:
    settings = dataclasses.replace(config, redis_url=redis_server.url)
    first_client, second = await two_instances(aiohttp_client, settings)
    first = Api(first_client)
    account = await first.attendee()
    profile = await second.get("/api/auth/profile/", headers=account.headers)
    assert profile.status == 200  # the second instance now holds the user in its cache
    gone = await first.client.delete("/api/auth/deactivate-account/", headers=account.headers)
    assert gone.status == 204
    for _ in range(20):  # well inside the cache's 2 s: told through Redis, not by expiry
        refused = await second.get("/api/auth/profile/", headers=account.headers)
        if refused.status == 401:
            break
        await asyncio.sleep(0.025)
    assert refused.status == 401


async def test_routes_outside_the_reference_api_ignore_a_stale_token(api: Api) -> None:
    """Health, pages, their assets, the docs and the websockets need no token: a stale one is
    ignored there (a browser may well send one), while the reference API's routes keep its
    401 for a bad token, even where no login is needed, as DRF does."""
    owner = await api.organizer()
    event = await api.event(owner)
    gone = await api.attendee()
    response = await api.client.delete("/api/auth/deactivate-account/", headers=gone.headers)
    assert response.status == 204
    for headers in (gone.headers, {"Authorization": "Bearer not-a-token"}):
        for path in (
            "/api/health",
            "/static/live.js",
            f"/events/{event['id']}/live",
            "/api/schema",
        ):
            response = await api.client.get(path, headers=headers)
            assert response.status == 200, (path, await response.text())
        for path in ("/ws", f"/ws/events/{event['id']}"):
            async with api.client.ws_connect(path, headers=headers) as ws:
                if path == "/ws":
                    await ws.send_json({"op": "subscribe", "event_id": event["id"]})
                assert (await ws.receive_json(timeout=5))["type"] == "availability"
        for path in ("/api/events/", f"/api/events/{event['id']}/", "/api/auth/login/"):
            method = "POST" if path.endswith("login/") else "GET"
            response = await api.client.request(method, path, json={}, headers=headers)
            assert response.status == 401, path
