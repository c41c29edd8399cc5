"""Accounts: registration, login, profile, passwords and their reset by mail, deactivation."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import string
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from server.config import Config
from server.db import Queries
from server.errors import ApiError, FieldErrors, Unauthorized
from server.http.validation import parse_id
from server.mail import Mailer
from server.passwords import dummy_hash, hash_password, password_problems, verify_password
from server.tokens import issue_token
from server.users import User, UserCache

__all__ = ["Accounts", "decode_uid", "encode_uid"]

RESET_TOKEN_TTL = 3 * 24 * 3600
QUERIES = (
    "user_by_id",
    "user_by_username",
    "active_user_by_email",
    "username_taken",
    "email_owner",
    "insert_user",
    "record_login",
    "update_profile",
    "set_password",
    "password_hash_of",
    "reset_password",
    "deactivate_user",
    "insert_reset_token",
    "lock_reset_token",
    "use_reset_tokens",
)
USERNAME_TAKEN = "A user with that username already exists."
EMAIL_TAKEN = "user with this email already exists."
EMAIL_TAKEN_OTHER_CASE = "This email address is already in use by another user."
_ALPHANUMERIC = string.ascii_letters + string.digits


def encode_uid(user_id: int) -> str:
    """The user id as Django's url-safe base64 (``1`` -> ``MQ``)."""
    return base64.urlsafe_b64encode(str(user_id).encode()).decode().rstrip("=")


def decode_uid(uid: str) -> int | None:
    try:
        return parse_id(base64.urlsafe_b64decode(uid + "=" * (-len(uid) % 4)).decode())
    except (ValueError, UnicodeDecodeError):
        return None


def _new_reset_token() -> str:
    """``<time in base 36>-<32 random letters and digits>``, the shape the reset URL accepts."""
    stamp, digits = int(time.time()), ""
    while stamp:
        stamp, rest = divmod(stamp, 36)
        digits = (string.digits + string.ascii_lowercase)[rest] + digits
    return f"{digits}-{''.join(secrets.choice(_ALPHANUMERIC) for _ in range(32))}"


async def _second_of_reset_over(tokens_valid_after: datetime | None) -> None:
    """Token times are whole seconds: a login in the very second of a password reset waits
    for the next one, so that its tokens are not refused with those issued before the reset."""
    if tokens_valid_after is not None:
        wait = tokens_valid_after.timestamp() - time.time()
        if wait > 0:
            await asyncio.sleep(wait)


def _token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True, slots=True)
class Accounts:
    pool: asyncpg.Pool
    queries: Queries
    config: Config
    jwt_key: str
    mailer: Mailer
    users: UserCache  # this instance's cache of users: forgotten on every change here

    async def _check_unique(
        self, username: str | None, email: str | None, own_id: int | None
    ) -> None:
        errors: dict[str, list[str]] = {}
        if username is not None and await self.pool.fetchval(
            self.queries["username_taken"], username, own_id
        ):
            errors["username"] = [USERNAME_TAKEN]
        if email is not None:
            owner = await self.pool.fetchrow(self.queries["email_owner"], email, own_id)
            if owner["any_case"]:
                errors["email"] = [EMAIL_TAKEN if owner["exact"] else EMAIL_TAKEN_OTHER_CASE]
        if errors:
            raise FieldErrors(errors)

    async def register(self, data: dict[str, Any]) -> dict[str, Any]:
        await self._check_unique(data["username"], data["email"], None)
        attributes = {"username": data["username"], "email": data["email"]}
        problems = password_problems(data["password"], attributes)
        if problems:
            raise FieldErrors({"password": problems})
        password_hash = await hash_password(data["password"])
        try:
            row = await self.pool.fetchrow(
                self.queries["insert_user"],
                data["username"],
                data["email"],
                password_hash,
                data["role"],
            )
        except asyncpg.UniqueViolationError as exc:  # a racing registration took the name
            field = "email" if "email" in (exc.constraint_name or "") else "username"
            raise FieldErrors(
                {field: [EMAIL_TAKEN if field == "email" else USERNAME_TAKEN]}
            ) from None
        return dict(row)

    async def login(self, username: str, password: str) -> dict[str, str]:
        row = await self.pool.fetchrow(self.queries["user_by_username"], username)
        encoded = row["password_hash"] if row else dummy_hash()
        if not await verify_password(password, encoded) or row is None or not row["is_active"]:
            raise Unauthorized(
                "No active account found with the given credentials", code="no_active_account"
            )
        await self.pool.execute(self.queries["record_login"], row["id"])
        await _second_of_reset_over(row["tokens_valid_after"])
        return self.token_pair(row["id"])

    def token_pair(self, user_id: int) -> dict[str, str]:
        ttl_refresh, ttl_access = self.config.refresh_token_ttl, self.config.access_token_ttl
        return {
            "refresh": issue_token(self.jwt_key, user_id, "refresh", ttl_refresh),
            "access": issue_token(self.jwt_key, user_id, "access", ttl_access),
        }

    async def update_profile(self, user: User, data: dict[str, Any]) -> dict[str, Any]:
        username = data.get("username", user.username)
        email = data.get("email", user.email)
        await self._check_unique(
            username if username != user.username else None,
            email if email != user.email else None,
            user.id,
        )
        try:
            row = await self.pool.fetchrow(self.queries["update_profile"], user.id, username, email)
        except asyncpg.UniqueViolationError:
            raise FieldErrors({"username": [USERNAME_TAKEN]}) from None
        await self.users.forget(user.id)
        return dict(row)

    async def change_password(self, user: User, data: dict[str, Any]) -> None:
        stored = await self.pool.fetchval(self.queries["password_hash_of"], user.id)
        if not await verify_password(data["old_password"], stored):
            raise FieldErrors(
                {"old_password": ["Your old password was entered incorrectly. Please try again."]}
            )
        new = self._new_password(data, user.username, user.email)
        await self.pool.execute(self.queries["set_password"], user.id, await hash_password(new))
        await self.users.forget(user.id)

    @staticmethod
    def _new_password(data: dict[str, Any], username: str, email: str) -> str:
        if data["new_password1"] != data["new_password2"]:
            raise FieldErrors({"new_password2": ["New passwords do not match."]})
        problems = password_problems(data["new_password1"], {"username": username, "email": email})
        if problems:
            raise FieldErrors({"new_password1": problems})
        return str(data["new_password1"])

    async def request_password_reset(self, email: str) -> None:
        """Mail a single-use reset link to the active account with this address, if any."""
        row = await self.pool.fetchrow(self.queries["active_user_by_email"], email)
        if row is None:
            return
        token = _new_reset_token()
        link = (
            f"{self.config.base_url}/api/auth/password-reset-confirm/"
            f"{encode_uid(row['id'])}/{token}/"
        )
        body = (
            f"Hello {row['username']},\n\n"
            "You asked to reset your Stampede password. Use this link within 3 days:\n\n"
            f"{link}\n\n"
            "Send a POST to it with your new password as new_password1 and new_password2.\n"
            "If you did not ask for this, ignore this mail: your password stays as it is.\n"
        )
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                self.queries["insert_reset_token"], row["id"], _token_hash(token), RESET_TOKEN_TTL
            )
            await self.mailer.enqueue(conn, row["email"], "Password Reset Request", body)
        self.mailer.wake()

    async def confirm_password_reset(self, data: dict[str, Any]) -> None:
        if data["new_password1"] != data["new_password2"]:
            raise FieldErrors({"new_password2": ["New passwords do not match."]})
        user_id = decode_uid(data["uid"])
        user = await self.pool.fetchrow(self.queries["user_by_id"], user_id) if user_id else None
        if user is None or not user["is_active"]:
            raise FieldErrors({"uid": ["Invalid user ID or user does not exist."]})
        async with self.pool.acquire() as conn, conn.transaction():
            token = await conn.fetchrow(
                self.queries["lock_reset_token"], _token_hash(data["token"])
            )
            if (
                token is None
                or token["user_id"] != user["id"]
                or not (token["fresh"] and token["unused"])
            ):
                raise FieldErrors({"token": ["The reset link is invalid or has expired."]})
            new = self._new_password(data, user["username"], user["email"])
            await conn.execute(self.queries["reset_password"], user["id"], await hash_password(new))
            await conn.execute(self.queries["use_reset_tokens"], user["id"])
        await self.users.forget(user["id"])

    async def deactivate(self, user: User) -> None:
        if await self.pool.fetchval(self.queries["deactivate_user"], user.id) is None:
            raise ApiError("Account is already inactive.", code="already_inactive")
        await self.users.forget(user.id)
