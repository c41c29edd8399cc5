"""``/api/auth/…``: each route's success shape and each validation message of the reference."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import jwt
import pytest

from tests.support.api import PASSWORD, Account, Api, Client


async def _post(
    client: Client, path: str, body: Any, account: Account | None = None
) -> tuple[int, Any]:
    headers = account.headers if account else {}
    response = await client.post(path, json=body, headers=headers)
    return response.status, await response.json() if response.status != 204 else None


# Register


async def test_register_answers_username_email_role(api: Api) -> None:
    body = {
        "username": "ada",
        "email": "ada@example.org",
        "password": PASSWORD,
        "role": "organizer",
    }
    status, answer = await _post(api.client, "/api/auth/register/", body)
    assert status == 201
    assert answer == {"username": "ada", "email": "ada@example.org", "role": "organizer"}


async def test_register_requires_every_field(api: Api) -> None:
    status, answer = await _post(api.client, "/api/auth/register/", {})
    assert status == 400
    required = ["This field is required."]
    assert answer == {
        "username": required,
        "email": required,
        "password": required,
        "role": required,
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("username", "bad name!", "Enter a valid username. This value may contain only letters, "
                                  "numbers, and @/./+/-/_ characters."),
        ("username", "x" * 151, "Ensure this field has no more than 150 characters."),
        ("username", "", "This field may not be blank."),
        ("username", None, "This field may not be null."),
        ("email", "not-an-email", "Enter a valid email address."),
        ("role", "admin", '"admin" is not a valid choice.'),
        ("password", "short1!", "This password is too short. It must contain at least 8 characters."),
        ("password", "password123", "This password is too common."),
        ("password", "80456712093", "This password is entirely numeric."),
        ("password", "grace.hopper", "The password is too similar to the username."),
    ],
)  # fmt: skip
async def test_register_validation_messages(api: Api, field: str, value: Any, message: str) -> None:
    body = {
        "username": "grace.hopper",
        "email": "gh@example.org",
        "password": PASSWORD,
        "role": "attendee",
    }
    body[field] = value
    status, answer = await _post(api.client, "/api/auth/register/", body)
    assert status == 400
    assert message in answer[field]


async def test_register_refuses_a_taken_username_and_email(api: Api) -> None:
    first = await api.attendee()
    body = {
        "username": first.username,
        "email": first.email.upper(),
        "password": PASSWORD,
        "role": "attendee",
    }
    status, answer = await _post(api.client, "/api/auth/register/", body)
    assert status == 400
    assert answer == {
        "username": ["A user with that username already exists."],
        "email": ["This email address is already in use by another user."],
    }
    body = {
        "username": "someone-else",
        "email": first.email,
        "password": PASSWORD,
        "role": "attendee",
    }
    status, answer = await _post(api.client, "/api/auth/register/", body)
    assert answer == {"email": ["user with this email already exists."]}


async def test_concurrent_registrations_of_one_name_create_one_account(api: Api) -> None:
    body = {
        "username": "racer",
        "email": "racer@example.org",
        "password": PASSWORD,
        "role": "attendee",
    }
    results = await asyncio.gather(
        *(_post(api.client, "/api/auth/register/", body) for _ in range(5))
    )
    statuses = sorted(status for status, _ in results)
    assert statuses == [201, 400, 400, 400, 400]


# Login and refresh


async def test_login_gives_an_access_and_a_refresh_token(api: Api, config: Any) -> None:
    account = await api.attendee()
    tokens = await api.login(account.username, account.password)
    assert set(tokens) == {"access", "refresh"}
    claims = jwt.decode(tokens["access"], config.jwt_secret, algorithms=["HS256"])
    assert set(claims) == {"user_id", "token_type", "exp", "iat", "jti"}
    assert claims["user_id"] == str(account.id)
    assert claims["token_type"] == "access"
    # Whole seconds, as simplejwt issues them: exp - iat is the lifetime.
    assert isinstance(claims["iat"], int)
    assert isinstance(claims["exp"], int)
    assert claims["exp"] - claims["iat"] == 1800
    refresh = jwt.decode(tokens["refresh"], config.jwt_secret, algorithms=["HS256"])
    assert refresh["token_type"] == "refresh"
    assert (type(refresh["iat"]), refresh["exp"] - refresh["iat"]) == (int, 604800)


@pytest.mark.parametrize("case", ["wrong password", "unknown user"])
async def test_login_with_bad_credentials_is_401(api: Api, case: str) -> None:
    account = await api.attendee()
    username = account.username if case == "wrong password" else "nobody"
    status, answer = await _post(
        api.client, "/api/auth/login/", {"username": username, "password": "nope-nope-9"}
    )
    assert status == 401
    assert answer == {
        "detail": "No active account found with the given credentials",
        "code": "no_active_account",
    }


async def test_an_over_long_password_is_just_a_wrong_password(api: Api) -> None:
    """Length rules belong to choosing a password; at login it is simply not the one."""
    account = await api.attendee()
    for password in ("x" * 5000, "y" * 900_000):
        status, answer = await _post(
            api.client, "/api/auth/login/", {"username": account.username, "password": password}
        )
        assert (status, answer["code"]) == (401, "no_active_account")


async def test_login_requires_both_fields(api: Api) -> None:
    status, answer = await _post(api.client, "/api/auth/login/", {})
    assert status == 400
    assert answer == {
        "username": ["This field is required."],
        "password": ["This field is required."],
    }


async def test_refresh_gives_a_new_access_token(api: Api) -> None:
    account = await api.attendee()
    status, answer = await _post(
        api.client, "/api/auth/token/refresh/", {"refresh": account.refresh}
    )
    assert status == 200
    assert set(answer) == {"access"}
    profile = await api.client.get(
        "/api/auth/profile/", headers={"Authorization": f"Bearer {answer['access']}"}
    )
    assert profile.status == 200


async def test_refresh_refuses_an_access_token_and_garbage(api: Api) -> None:
    account = await api.attendee()
    for token in (account.access, "garbage"):
        status, answer = await _post(api.client, "/api/auth/token/refresh/", {"refresh": token})
        assert status == 401
        assert answer == {"detail": "Token is invalid", "code": "token_not_valid"}
    status, answer = await _post(api.client, "/api/auth/token/refresh/", {})
    assert (status, answer) == (400, {"refresh": ["This field is required."]})


async def test_a_refresh_token_is_not_an_access_token(api: Api) -> None:
    account = await api.attendee()
    response = await api.client.get(
        "/api/auth/profile/", headers={"Authorization": f"Bearer {account.refresh}"}
    )
    assert response.status == 401
    answer = await response.json()
    assert answer["code"] == "token_not_valid"
    assert answer["detail"] == "Given token not valid for any token type"
    assert answer["messages"][0]["message"] == "Token has wrong type"


async def test_an_expired_token_is_401(api: Api, config: Any) -> None:
    account = await api.attendee()
    now = int(time.time())
    claims = {
        "user_id": str(account.id),
        "token_type": "access",
        "iat": now - 100,
        "exp": now - 10,
        "jti": "x",
    }
    token = jwt.encode(claims, config.jwt_secret, algorithm="HS256")
    response = await api.client.get(
        "/api/auth/profile/", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status == 401
    assert (await response.json())["messages"][0]["message"] == "Token is expired"


# Profile


async def test_profile_shows_id_username_email_role(api: Api) -> None:
    account = await api.organizer()
    response = await api.client.get("/api/auth/profile/", headers=account.headers)
    assert await response.json() == {
        "id": account.id,
        "username": account.username,
        "email": account.email,
        "role": "organizer",
    }


async def test_profile_put_changes_username_and_email_and_ignores_read_only(api: Api) -> None:
    account = await api.attendee()
    body = {"username": "renamed", "email": "new@example.org", "id": 999, "role": "organizer"}
    response = await api.client.put("/api/auth/profile/", json=body, headers=account.headers)
    assert response.status == 200
    assert await response.json() == {
        "id": account.id,
        "username": "renamed",
        "email": "new@example.org",
        "role": "attendee",
    }


async def test_profile_put_needs_username_and_email_patch_does_not(api: Api) -> None:
    account = await api.attendee()
    response = await api.client.put(
        "/api/auth/profile/", json={"email": "x@example.org"}, headers=account.headers
    )
    assert (response.status, await response.json()) == (
        400,
        {"username": ["This field is required."]},
    )
    response = await api.client.patch(
        "/api/auth/profile/", json={"email": "x@example.org"}, headers=account.headers
    )
    assert response.status == 200
    assert (await response.json())["email"] == "x@example.org"


async def test_profile_email_must_stay_unique(api: Api) -> None:
    first, second = await api.attendee(), await api.attendee()
    response = await api.client.patch(
        "/api/auth/profile/", json={"email": first.email}, headers=second.headers
    )
    assert (response.status, await response.json()) == (
        400,
        {"email": ["user with this email already exists."]},
    )
    response = await api.client.patch(
        "/api/auth/profile/", json={"username": first.username}, headers=second.headers
    )
    assert (await response.json()) == {"username": ["A user with that username already exists."]}


# Change password


async def test_change_password_checks_in_the_reference_order(api: Api) -> None:
    account = await api.attendee()
    path = "/api/auth/change-password/"
    wrong_old = {"old_password": "wrong-one-123", "new_password1": "a", "new_password2": "b"}
    assert await _post(api.client, path, wrong_old, account) == (
        400,
        {"old_password": ["Your old password was entered incorrectly. Please try again."]},
    )
    mismatch = {
        "old_password": account.password,
        "new_password1": "Brand-new-pass-1",
        "new_password2": "other",
    }
    assert await _post(api.client, path, mismatch, account) == (
        400,
        {"new_password2": ["New passwords do not match."]},
    )
    weak = {
        "old_password": account.password,
        "new_password1": "1234567",
        "new_password2": "1234567",
    }
    status, answer = await _post(api.client, path, weak, account)
    assert status == 400
    assert answer["new_password1"] == [
        "This password is too short. It must contain at least 8 characters.",
        "This password is too common.",
        "This password is entirely numeric.",
    ]
    status, answer = await _post(api.client, path, {}, account)
    assert status == 400
    assert set(answer) == {"old_password", "new_password1", "new_password2"}


async def test_change_password_then_login_with_the_new_one(api: Api) -> None:
    account = await api.attendee()
    body = {
        "old_password": account.password,
        "new_password1": "Brand-new-pass-1",
        "new_password2": "Brand-new-pass-1",
    }
    assert await _post(api.client, "/api/auth/change-password/", body, account) == (
        200,
        {"detail": "Password updated successfully."},
    )
    await api.login(account.username, "Brand-new-pass-1")
    status, _ = await _post(
        api.client, "/api/auth/login/", {"username": account.username, "password": account.password}
    )
    assert status == 401
    # As in the reference, a password change keeps the caller's current tokens working.
    assert (await api.client.get("/api/auth/profile/", headers=account.headers)).status == 200


# Deactivation


async def test_deactivation_ends_login_refresh_and_old_tokens(api: Api) -> None:
    account = await api.attendee()
    response = await api.client.delete("/api/auth/deactivate-account/", headers=account.headers)
    assert response.status == 204
    assert await response.read() == b""
    status, answer = await _post(
        api.client, "/api/auth/login/", {"username": account.username, "password": account.password}
    )
    assert (status, answer["code"]) == (401, "no_active_account")
    status, answer = await _post(
        api.client, "/api/auth/token/refresh/", {"refresh": account.refresh}
    )
    assert (status, answer) == (
        401,
        {"detail": "No active account found for the given token.", "code": "no_active_account"},
    )
    response = await api.client.get("/api/auth/profile/", headers=account.headers)
    assert response.status == 401
    assert await response.json() == {"detail": "User is inactive", "code": "user_inactive"}


async def test_a_login_storm_does_not_stall_other_requests(api: Api) -> None:
    account = await api.attendee()
    body = {"username": account.username, "password": account.password}
    loop = asyncio.get_running_loop()
    started = loop.time()
    storm = asyncio.gather(*(api.client.post("/api/auth/login/", json=body) for _ in range(30)))
    await asyncio.sleep(0.05)
    probe_started = loop.time()
    health = await api.client.get("/api/health")
    probe = loop.time() - probe_started
    responses = await storm
    storm_time = loop.time() - started
    assert health.status == 200
    assert all(r.status == 200 for r in responses)
    # Hashing runs in worker threads: the event loop answers while the storm is still hashing.
    assert probe < storm_time / 3, (probe, storm_time)
