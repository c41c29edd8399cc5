"""``/api/auth/…``: register, tokens, profile, passwords, deactivation."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel

from server.auth import load_user
from server.errors import FieldErrors, Unauthorized
from server.http.body import read_json_object
from server.http.endpoints import SIGNED_IN, endpoint
from server.http.shapes.accounts import (
    Access,
    ChangePasswordIn,
    LoginIn,
    ProfileIn,
    ProfileOut,
    RefreshIn,
    Registered,
    RegisterIn,
    ResetConfirmIn,
    ResetRequestIn,
    Tokens,
)
from server.http.shapes.common import Detail
from server.http.throttle import throttle
from server.http.validation import parse_body
from server.jsonio import json_response
from server.keys import accounts_key, jwt_key_key
from server.ratelimit import (
    LOGIN_PER_ACCOUNT,
    LOGIN_PER_ADDRESS,
    REGISTER_PER_ADDRESS,
    RESET_PER_ACCOUNT,
    RESET_PER_ADDRESS,
)
from server.tokens import decode_token
from server.users import User

ACCOUNTS = "Accounts"


def _detail(message: str) -> web.Response:
    return json_response({"detail": message})


@endpoint("register", "Create an account", ACCOUNTS, status=201, returns=Registered, errors=(429,))
async def register(request: web.Request, body: RegisterIn) -> web.Response:
    await throttle(request, REGISTER_PER_ADDRESS)
    user = await request.app[accounts_key].register(body.model_dump())
    return json_response({k: user[k] for k in Registered.model_fields}, status=201)


@endpoint("login", "Get an access and a refresh token", ACCOUNTS, returns=Tokens, errors=(401, 429))
async def login(request: web.Request, body: LoginIn) -> web.Response:
    await throttle(request, LOGIN_PER_ADDRESS)
    await throttle(request, LOGIN_PER_ACCOUNT, body.username)
    return json_response(await request.app[accounts_key].login(body.username, body.password))


@endpoint(
    "token-refresh",
    "Trade a refresh token for a new access token",
    ACCOUNTS,
    returns=Access,
    errors=(401,),
)
async def refresh(request: web.Request, body: RefreshIn) -> web.Response:
    try:
        user_id, issued_at = decode_token(request.app[jwt_key_key], body.refresh, "refresh")
    except ValueError:
        raise Unauthorized("Token is invalid", code="token_not_valid") from None
    user = await load_user(request.app, user_id)
    if user is None or not user.is_active:
        raise Unauthorized("No active account found for the given token.", code="no_active_account")
    if user.issued_before_reset(issued_at):
        raise Unauthorized("Token is invalid", code="token_not_valid")
    return json_response({"access": request.app[accounts_key].token_pair(user.id)["access"]})


@endpoint("profile", "Your profile", ACCOUNTS, returns=ProfileOut, access=SIGNED_IN)
async def profile(request: web.Request, user: User) -> web.Response:
    return json_response({name: getattr(user, name) for name in ProfileOut.model_fields})


async def _update_profile(request: web.Request, user: User, body: ProfileIn) -> web.Response:
    changes = body.model_dump(exclude_unset=True)
    return json_response(await request.app[accounts_key].update_profile(user, changes))


update_profile = endpoint(
    "profile-update",
    "Change your username and email",
    ACCOUNTS,
    returns=ProfileOut,
    access=SIGNED_IN,
)(_update_profile)
partial_update_profile = endpoint(
    "profile-partial-update",
    "Change your username or email",
    ACCOUNTS,
    returns=ProfileOut,
    access=SIGNED_IN,
    partial_body=True,
)(_update_profile)


@endpoint("change-password", "Change your password", ACCOUNTS, returns=Detail, access=SIGNED_IN)
async def change_password(request: web.Request, user: User, body: ChangePasswordIn) -> web.Response:
    await request.app[accounts_key].change_password(user, body.model_dump())
    return _detail("Password updated successfully.")


@endpoint(
    "password-reset-request",
    "Mail a password-reset link",
    ACCOUNTS,
    returns=Detail,
    errors=(429,),
)
async def password_reset_request(request: web.Request, body: ResetRequestIn) -> web.Response:
    await throttle(request, RESET_PER_ADDRESS)
    await throttle(request, RESET_PER_ACCOUNT, body.email)
    await request.app[accounts_key].request_password_reset(body.email)
    return _detail("If an account with that email exists, a password reset email has been sent.")


async def _reset_confirm_body(request: web.Request, model: type[BaseModel]) -> BaseModel:
    """The body as the reference validates it; the mailed link asks for the two passwords
    alone, so its own uid and token stand in for those an otherwise whole body leaves out."""
    sent = await read_json_object(request)
    try:
        return parse_body(model, sent)
    except FieldErrors as exc:
        if not set(exc.errors) <= {"uid", "token"} or any(name in sent for name in exc.errors):
            raise
        from_link = {name: request.match_info[name] for name in exc.errors}
        return parse_body(model, from_link | sent)


@endpoint(
    "password-reset-confirm",
    "Set a new password with the mailed link",
    ACCOUNTS,
    returns=Detail,
    body_reader=_reset_confirm_body,
    description="`uid` and `token` default to the link's own when the body leaves them out.",
)
async def password_reset_confirm(request: web.Request, body: ResetConfirmIn) -> web.Response:
    await request.app[accounts_key].confirm_password_reset(body.model_dump())
    return _detail("Password has been reset successfully.")


@endpoint("deactivate-account", "Deactivate your account", ACCOUNTS, status=204, access=SIGNED_IN)
async def deactivate(request: web.Request, user: User) -> web.Response:
    await request.app[accounts_key].deactivate(user)
    # The reference sent a detail with its 204; a 204 cannot carry a body, so none is sent.
    return web.Response(status=204)


__all__ = [
    "change_password",
    "deactivate",
    "login",
    "partial_update_profile",
    "password_reset_confirm",
    "password_reset_request",
    "profile",
    "refresh",
    "register",
    "update_profile",
]
