"""Requests authenticated by their Bearer token (``authenticate``), and the role checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg
from aiohttp import web

from server.db import Queries
from server.errors import PermissionDenied, Unauthorized
from server.keys import jwt_key_key, pool_key, queries_key, user_cache_key
from server.tokens import decode_token
from server.users import User

__all__ = [
    "QUERIES",
    "TokenInvalid",
    "authenticate",
    "current_user",
    "load_user",
    "reads_tokens",
    "require_role",
    "require_user",
    "user_for_token",
    "users_loader",
]

QUERIES = ("user_by_id", "users_by_ids")
# Stampede's own routes that need no token: they ignore an Authorization header (a browser
# may send a stale one to a page or a websocket).
TOKENLESS = ("/api/health", "/api/schema", "/api/docs")


def reads_tokens(path: str) -> bool:
    """Whether a route reads the Bearer token: the reference API's routes do wherever one is
    sent, so a bad one is 401 even where no login is needed (as DRF answers); the health
    check, the pages, their assets, the docs and the websockets do not."""
    return path.startswith("/api/") and not path.startswith(TOKENLESS)


user_key = web.RequestKey("user", User)


class TokenInvalid(Unauthorized):
    """An access token that fails any check, in simplejwt's words."""

    code = "token_not_valid"
    detail = "Given token not valid for any token type"

    def __init__(self, reason: str = "Token is invalid") -> None:
        super().__init__()
        self.reason = reason

    def body(self) -> dict[str, Any]:
        message = {"token_class": "AccessToken", "token_type": "access", "message": self.reason}
        return {**super().body(), "messages": [message]}


async def load_user(app: web.Application, user_id: int) -> User | None:
    """The user, fresh from the database."""
    row = await app[pool_key].fetchrow(app[queries_key]["user_by_id"], user_id)
    return User.from_row(row) if row else None


def users_loader(
    pool: asyncpg.Pool, queries: Queries
) -> Callable[[Sequence[int]], Awaitable[list[User | None]]]:
    """Users by id, fresh from the database, in one query (``None`` for one that is gone)."""

    async def load(user_ids: Sequence[int]) -> list[User | None]:
        rows = await pool.fetch(queries["users_by_ids"], list(set(user_ids)))
        found = {row["id"]: User.from_row(row) for row in rows}
        return [found.get(user_id) for user_id in user_ids]

    return load


async def _authenticate(request: web.Request, header: str) -> User | None:
    scheme, _, token = header.partition(" ")
    if scheme != "Bearer":
        return None  # another scheme is not ours to judge, as in the reference
    token = token.strip()
    if not token or " " in token:
        raise Unauthorized(
            "Authorization header must contain two space-delimited values",
            code="bad_authorization_header",
        )
    return await user_for_token(request.app, token)


async def user_for_token(app: web.Application, token: str) -> User:
    """The active user an access token names; Unauthorized, saying why, for any other."""
    try:
        user_id, issued_at = decode_token(app[jwt_key_key], token, "access")
    except ValueError as exc:
        raise TokenInvalid(str(exc)) from None
    user = await app[user_cache_key].user(user_id)
    if user is None:
        raise Unauthorized("User not found", code="user_not_found")
    if not user.is_active:
        raise Unauthorized("User is inactive", code="user_inactive")
    if user.issued_before_reset(issued_at):
        raise TokenInvalid("Token was issued before the password was reset")
    return user


async def authenticate(request: web.Request) -> None:
    """Authenticate a Bearer token when one is sent to a route that reads it: a bad one is 401
    (Unauthorized, raised); unknown routes stay 404/405."""
    header = request.headers.get("Authorization")
    if header and reads_tokens(request.path) and request.match_info.http_exception is None:
        user = await _authenticate(request, header)
        if user is not None:
            request[user_key] = user


def current_user(request: web.Request) -> User | None:
    return request.get(user_key)


def require_user(request: web.Request) -> User:
    user = current_user(request)
    if user is None:
        raise Unauthorized()
    return user


def require_role(request: web.Request, role: str, detail: str | None = None) -> User:
    """The authenticated user (else 401) with ``role`` (else 403)."""
    user = require_user(request)
    if user.role != role:
        raise PermissionDenied(detail)
    return user
