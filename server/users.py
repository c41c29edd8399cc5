"""The user as the rest of the code sees it, and the two roles."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

import asyncpg

__all__ = ["ATTENDEE", "ORGANIZER", "ROLES", "User", "UserCache"]

ATTENDEE, ORGANIZER = "attendee", "organizer"
ROLES = (ATTENDEE, ORGANIZER)


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

    def issued_before_reset(self, issued_at: float) -> bool:
        """Tokens issued before the last password reset or deactivation are refused."""
        after = self.tokens_valid_after
        return after is not None and issued_at < after.timestamp()


class UserCache:
    """Users by id for a second or two: a client's every request needs its user, and the
    lookup was a database round trip on the booking hot path.

    This instance forgets a user the moment it changes one (deactivation, password, profile);
    another instance notices within ``ttl`` seconds.
    """

    def __init__(self, ttl: float = 2.0, max_size: int = 100_000) -> None:
        self._ttl = ttl
        self._max_size = max_size
        self._users: dict[int, tuple[float, User]] = {}

    def get(self, user_id: int) -> User | None:
        entry = self._users.get(user_id)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, user: User) -> None:
        if len(self._users) >= self._max_size:
            self._users.clear()
        self._users[user.id] = (time.monotonic() + self._ttl, user)

    def forget(self, user_id: int) -> None:
        self._users.pop(user_id, None)
