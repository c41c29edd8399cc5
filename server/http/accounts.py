"""``/api/auth/…``: register, tokens, profile, passwords, deactivation."""

from __future__ import annotations

from aiohttp import web

from server.auth import load_user, require_user
from server.errors import FieldErrors, Unauthorized
from server.http.body import read_json_object
from server.http.throttle import throttle
from server.http.validation import Choice, Email, Integer, Schema, String
from server.jsonio import json_response
from server.keys import accounts_key, jwt_key_key
from server.passwords import MAX_LENGTH as MAX_PASSWORD_LENGTH
from server.ratelimit import (
    LOGIN_PER_ACCOUNT,
    LOGIN_PER_ADDRESS,
    REGISTER_PER_ADDRESS,
    RESET_PER_ACCOUNT,
    RESET_PER_ADDRESS,
)
from server.tokens import decode_token
from server.users import ROLES

__all__ = [
    "CHANGE_PASSWORD",
    "LOGIN",
    "PROFILE",
    "REFRESH",
    "REGISTER",
    "RESET_CONFIRM",
    "RESET_REQUEST",
]

USERNAME = String(
    max_length=150,
    pattern=r"[\w.@+-]+",
    pattern_message=(
        "Enter a valid username. This value may contain only letters, "
        "numbers, and @/./+/-/_ characters."
    ),
)
PASSWORD = String(trim=False, max_length=MAX_PASSWORD_LENGTH)
ROLE = Choice(choices=ROLES)

REGISTER = Schema({"username": USERNAME, "email": Email(), "password": PASSWORD, "role": ROLE})
# At login an over-long password is a wrong one (401), not a rule broken (400).
LOGIN = Schema({"username": String(max_length=150), "password": String(trim=False)})
REFRESH = Schema({"refresh": String(max_length=4096)})
PROFILE = Schema(
    {"username": USERNAME, "email": Email()}, read_only={"id": Integer(), "role": ROLE}
)
CHANGE_PASSWORD = Schema(
    {"old_password": PASSWORD, "new_password1": PASSWORD, "new_password2": PASSWORD}
)
RESET_REQUEST = Schema({"email": Email()})
RESET_CONFIRM = Schema(
    {
        "uid": String(max_length=64),
        "token": String(max_length=64),
        "new_password1": PASSWORD,
        "new_password2": PASSWORD,
    }
)


def _detail(message: str, status: int = 200) -> web.Response:
    return json_response({"detail": message}, status=status)


async def register(request: web.Request) -> web.Response:
    await throttle(request, REGISTER_PER_ADDRESS)
    data = REGISTER.validate(await read_json_object(request))
    user = await request.app[accounts_key].register(data)
    return json_response({k: user[k] for k in ("username", "email", "role")}, status=201)


async def login(request: web.Request) -> web.Response:
    await throttle(request, LOGIN_PER_ADDRESS)
    data = LOGIN.validate(await read_json_object(request))
    await throttle(request, LOGIN_PER_ACCOUNT, data["username"])
    tokens = await request.app[accounts_key].login(data["username"], data["password"])
    return json_response(tokens)


async def refresh(request: web.Request) -> web.Response:
    data = REFRESH.validate(await read_json_object(request))
    try:
        user_id, issued_at = decode_token(request.app[jwt_key_key], data["refresh"], "refresh")
    except ValueError:
        raise Unauthorized("Token is invalid", code="token_not_valid") from None
    user = await load_user(request.app, user_id)
    if user is None or not user.is_active:
        raise Unauthorized("No active account found for the given token.", code="no_active_account")
    if user.issued_before_reset(issued_at):
        raise Unauthorized("Token is invalid", code="token_not_valid")
    return json_response({"access": request.app[accounts_key].token_pair(user.id)["access"]})


async def profile(request: web.Request) -> web.Response:
    user = require_user(request)
    return json_response(
        {"id": user.id, "username": user.username, "email": user.email, "role": user.role}
    )


async def update_profile(request: web.Request) -> web.Response:
    user = require_user(request)
    partial = request.method == "PATCH"
    data = PROFILE.validate(await read_json_object(request), partial=partial)
    return json_response(await request.app[accounts_key].update_profile(user, data))


async def change_password(request: web.Request) -> web.Response:
    user = require_user(request)
    data = CHANGE_PASSWORD.validate(await read_json_object(request))
    await request.app[accounts_key].change_password(user, data)
    return _detail("Password updated successfully.")


async def password_reset_request(request: web.Request) -> web.Response:
    await throttle(request, RESET_PER_ADDRESS)
    data = RESET_REQUEST.validate(await read_json_object(request))
    await throttle(request, RESET_PER_ACCOUNT, data["email"])
    await request.app[accounts_key].request_password_reset(data["email"])
    return _detail("If an account with that email exists, a password reset email has been sent.")


async def password_reset_confirm(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    try:
        data = RESET_CONFIRM.validate(body)
    except FieldErrors as exc:
        # The mailed link asks for the two passwords alone: its own uid and token stand in for
        # those the body leaves out. A body with other faults gets the reference's answer.
        if not set(exc.errors) <= {"uid", "token"} or any(name in body for name in exc.errors):
            raise
        data = RESET_CONFIRM.validate(
            {name: request.match_info[name] for name in exc.errors} | body
        )
    await request.app[accounts_key].confirm_password_reset(data)
    return _detail("Password has been reset successfully.")


async def deactivate(request: web.Request) -> web.Response:
    await request.app[accounts_key].deactivate(require_user(request))
    # The reference sent this text with its 204; a 204 cannot carry a body, so none is sent.
    return web.Response(status=204)
