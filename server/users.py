"""The user as the rest of the code sees it, and the two roles."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

import asyncpg
from redis.asyncio import Redis
from redis.exceptions import RedisError

from server.coalesce import Coalesced
from server.pubsub import listen

__all__ = [
    "ADMIN",
    "ATTENDEE",
    "OPEN_ROLES",
    "ORGANIZER",
    "ROLES",
    "OpenRole",
    "Role",
    "User",
    "UserCache",
]

log = logging.getLogger("stampede.users")

OpenRole = Literal["attendee", "organizer"]  # those anyone may register for
OPEN_ROLES: tuple[OpenRole, ...] = get_args(OpenRole)
Role = Literal["attendee", "organizer", "admin"]  # admins: python -m server createsuperuser
ROLES: tuple[Role, ...] = get_args(Role)
ATTENDEE, ORGANIZER, ADMIN = ROLES
CHANGED_CHANNEL = "stampede:users:changed"


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    email: str
    role: str
    first_name: str
    last_name: str
    is_active: bool
    tokens_valid_after: datetime | None
    password_hash: str

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> User:
        return cls(**dict(row))

    def issued_before_reset(self, issued_at: int) -> bool:
        """Tokens issued before the last password reset or deactivation are refused (the
        moment is a whole second: the one after the reset)."""
        after = self.tokens_valid_after
        return after is not None and issued_at < after.timestamp()


class UserCache:
    """Users by id for a second or two: a client's every request needs its user, and the
    lookup was a database round trip on the booking hot path.

    ``forget`` drops a changed user (deactivation, password, profile) here at once and, through
    Redis when it is set, on every other instance too; while Redis is away, another instance
    notices within ``ttl`` seconds.
    """

    def __init__(
        self,
        redis: Redis | None = None,
        ttl: float = 2.0,
        max_size: int = 100_000,
        load: Callable[[Sequence[int]], Awaitable[Sequence[User | None]]] | None = None,
    ) -> None:
        self._redis = redis
        self._load = Coalesced(load) if load is not None else None
        self._ttl = ttl
        self._max_size = max_size
        self._users: dict[int, tuple[float, User]] = {}

    def get(self, user_id: int) -> User | None:
        entry = self._users.get(user_id)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    async def user(self, user_id: int) -> User | None:
        """The user from here, else from ``load`` together with every other user asked for
        meanwhile (an on-sale's fans each book once or twice: nearly every booking misses)."""
        user = self.get(user_id)
        if user is None:
            assert self._load is not None, "a cache that loads users needs ``load``"
            user = await self._load(user_id)
            if user is not None:
                self.put(user)
        return user

    def put(self, user: User) -> None:
        if len(self._users) >= self._max_size:
            self._users.clear()
        self._users[user.id] = (time.monotonic() + self._ttl, user)

    async def forget(self, user_id: int) -> None:
        """Call after the change is committed."""
        self._users.pop(user_id, None)
        if self._redis is None:
            return
        try:
            await self._redis.publish(CHANGED_CHANNEL, str(user_id))
        except (RedisError, OSError) as exc:  # the others fall back on the ttl
            log.warning("users: cannot tell other instances about user %s (%r)", user_id, exc)

    async def listen(self) -> None:
        """Drop the users other instances changed, until cancelled (reconnecting as needed)."""
        assert self._redis is not None

        def on_message(channel: bytes, data: bytes) -> None:
            if not data.isdigit() or len(data) > 19:  # bytes.isdigit: ASCII digits only
                raise ValueError("not a user id")
            self._users.pop(int(data), None)

        async def missed_changes() -> None:
            self._users.clear()  # changes may have been missed meanwhile

        await listen(
            self._redis,
            on_message,
            channels=[CHANGED_CHANNEL],
            on_reconnect=missed_changes,
            name="users",
        )
