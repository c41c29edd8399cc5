"""JWT access and refresh tokens, shaped as the reference API's simplejwt issues them.

HS256 with the claims ``user_id`` (string), ``token_type``, ``exp``, ``iat`` and ``jti``.
"""

from __future__ import annotations

import functools
import logging
import secrets
import time
import uuid
from pathlib import Path

import jwt
from jwt.types import Options

from server.config import Config

__all__ = ["decode_token", "issue_token", "resolve_jwt_key"]

log = logging.getLogger("stampede.auth")

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["exp", "iat", "jti", "token_type", "user_id"]


def resolve_jwt_key(config: Config) -> str:
    """JWT_SECRET, or in development a random key kept under the data folder."""
    if config.jwt_secret:
        return config.jwt_secret
    path = Path(config.data_dir) / "jwt-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    log.warning("JWT_SECRET is unset: signing tokens with the development key in %s", path)
    return path.read_text().strip()


def issue_token(key: str, user_id: int, token_type: str, ttl: int) -> str:
    """A token issued now, in whole seconds as simplejwt issues them (``exp - iat`` is its
    lifetime). A reset refuses tokens of earlier seconds; login waits out the second of a
    reset (see ``Accounts.login``), so whole seconds tell them apart."""
    now = int(time.time())
    claims = {
        "token_type": token_type,
        "exp": now + ttl,
        "iat": now,
        "jti": uuid.uuid4().hex,
        "user_id": str(user_id),
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM)


@functools.lru_cache(maxsize=16384)
def _verified_claims(key: str, token: str) -> tuple[str, int, int, int]:
    """(token type, user id, issued at, expires) of a token whose signature is valid.

    Cached: a client sends the same token with every request, and verifying it (base64, JSON,
    HMAC) is a large share of a booking request's CPU. Expiry is checked on every use.
    """
    options: Options = {"require": REQUIRED_CLAIMS, "verify_exp": False}
    try:
        claims = jwt.decode(token, key, algorithms=[ALGORITHM], options=options)
        return (
            str(claims["token_type"]),
            int(claims["user_id"]),
            int(claims["iat"]),
            int(claims["exp"]),
        )
    except jwt.PyJWTError:
        raise ValueError("Token is invalid") from None
    except (TypeError, ValueError):
        raise ValueError("Token contained no recognizable user identification") from None


def decode_token(key: str, token: str, token_type: str) -> tuple[int, int]:
    """The (user id, issued-at) of a valid token of ``token_type``; else ValueError(reason)."""
    kind, user_id, issued_at, expires = _verified_claims(key, token)
    if expires <= time.time():
        raise ValueError("Token is expired")
    if kind != token_type:
        raise ValueError("Token has wrong type")
    return user_id, issued_at
