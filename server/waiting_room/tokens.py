"""Queue tokens: proof that a user was admitted to an event's waiting room, until when.

``<event>.<user>.<until>.<signature>``: an HMAC-SHA256 of the rest under a key derived from
the JWT signing key, so every instance checks a token on its own, with no database round trip
on the booking path; bound to the user and the event, and void after ``until`` (unix seconds).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

__all__ = ["QueueTokens"]


class QueueTokens:
    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"stampede queue token\0" + secret.encode()).digest()

    def _sign(self, claims: str) -> str:
        digest = hmac.new(self._key, claims.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def issue(self, event_id: int, user_id: int, until: datetime) -> str:
        claims = f"{event_id}.{user_id}.{int(until.timestamp())}"
        return f"{claims}.{self._sign(claims)}"

    def admits(self, token: str, event_id: int, user_id: int, now: float) -> bool:
        """Whether ``token`` admits this user to this event at ``now`` (unix seconds)."""
        claims, _, signature = token.rpartition(".")
        if not hmac.compare_digest(signature.encode(), self._sign(claims).encode()):
            return False
        event, user, until = claims.split(".")
        return int(event) == event_id and int(user) == user_id and now < int(until)
