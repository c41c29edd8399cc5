"""Password hashing (scrypt, memory-hard, off the event loop) and the four password rules."""

from __future__ import annotations

import asyncio
import base64
import functools
import gzip
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from difflib import SequenceMatcher
from pathlib import Path

__all__ = [
    "MAX_LENGTH",
    "dummy_hash",
    "hash_password",
    "password_problems",
    "verify_password",
]

# 16 MiB and about 40 ms per hash: a login storm is bounded by the executor, not the event loop.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SCRYPT_MAXMEM = 64 * 1024 * 1024
MIN_LENGTH = 8
MAX_LENGTH = 4096  # no password can be longer (register, change and reset refuse them)
MAX_SIMILARITY = 0.7
COMMON_PASSWORDS = Path(__file__).parent / "data" / "common-passwords.txt.gz"

# scrypt releases the GIL, so two threads use both cores; more would only queue on memory.
_executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="scrypt")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, maxmem=SCRYPT_MAXMEM, dklen=32
    )


def _hash_sync(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def _verify_sync(password: str, encoded: str) -> bool:
    try:
        algorithm, n, r, p, salt, digest = encoded.split("$")
        if algorithm != "scrypt":
            return False
        actual = _scrypt(password, _unb64(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, _unb64(digest))


async def hash_password(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_executor, _hash_sync, password)


async def verify_password(password: str, encoded: str) -> bool:
    """Whether ``password`` is the one ``encoded`` was made from. One longer than any password
    can be is simply wrong: it is not hashed (a login body may be a megabyte), but a short
    stand-in is, so the answer takes the usual time."""
    if len(password) > MAX_LENGTH:
        await asyncio.get_running_loop().run_in_executor(_executor, _verify_sync, "", encoded)
        return False
    return await asyncio.get_running_loop().run_in_executor(
        _executor, _verify_sync, password, encoded
    )


@functools.cache
def dummy_hash() -> str:
    """A hash to check against when the account does not exist, so timing does not reveal it."""
    return _hash_sync(secrets.token_urlsafe(16))


@functools.cache
def _common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines)


_SIMILARITY_LABELS = {
    "username": "username",
    "first_name": "first name",
    "last_name": "last name",
    "email": "email address",
}


def _too_similar(password: str, attributes: Mapping[str, str]) -> str | None:
    lowered = password.lower()
    for name, label in _SIMILARITY_LABELS.items():
        value = attributes.get(name)
        if not value:
            continue
        value = value.lower()
        for part in [*re.split(r"\W+", value), value]:
            # Much shorter parts cannot reach the ratio; skip the expensive comparison.
            if len(lowered) >= 10 * len(part) and len(part) < MAX_SIMILARITY / 2 * len(lowered):
                continue
            if SequenceMatcher(a=lowered, b=part).quick_ratio() >= MAX_SIMILARITY:
                return f"The password is too similar to the {label}."
    return None


def password_problems(password: str, attributes: Mapping[str, str] | None = None) -> list[str]:
    """Every rule the password breaks, with the reference API's messages (none: acceptable)."""
    problems = []
    similar = _too_similar(password, attributes or {})
    if similar:
        problems.append(similar)
    if len(password) < MIN_LENGTH:
        problems.append(
            f"This password is too short. It must contain at least {MIN_LENGTH} characters."
        )
    if password.lower().strip() in _common_passwords():
        problems.append("This password is too common.")
    if password.isdigit():
        problems.append("This password is entirely numeric.")
    return problems
