"""The user as the rest of the code sees it, and the two roles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

__all__ = ["ATTENDEE", "ORGANIZER", "ROLES", "User"]

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
