"""``/api/auth/…`` shapes."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from server.http.fields import Email, RawText, Text, matching
from server.http.shapes.common import In, Out
from server.passwords import MAX_LENGTH as MAX_PASSWORD_LENGTH
from server.users import OpenRole, Role

__all__ = [
    "Access",
    "ChangePasswordIn",
    "LoginIn",
    "OpenRole",
    "ProfileIn",
    "ProfileOut",
    "RefreshIn",
    "RegisterIn",
    "Registered",
    "ResetConfirmIn",
    "ResetRequestIn",
    "Role",
    "Tokens",
]

Username = Annotated[
    str,
    matching(
        r"^[\w.@+-]+$",
        "Enter a valid username. This value may contain only letters, numbers, and "
        "@/./+/-/_ characters.",
        max_length=150,
    ),
    Text,
]
Password = Annotated[str, StringConstraints(min_length=1, max_length=MAX_PASSWORD_LENGTH), RawText]


def _text(max_length: int) -> StringConstraints:
    return StringConstraints(min_length=1, max_length=max_length)


class RegisterIn(In):
    username: Username
    email: Email
    password: Password
    role: OpenRole


class Registered(Out):
    username: str
    email: Email
    role: OpenRole


class LoginIn(In):
    username: Annotated[str, _text(150), Text]
    # At login an over-long password is a wrong one (401), not a rule broken (400).
    password: Annotated[str, StringConstraints(min_length=1), RawText]


class Tokens(Out):
    refresh: str
    access: str


class RefreshIn(In):
    refresh: Annotated[str, _text(4096), Text]


class Access(Out):
    access: str


class ProfileIn(In):
    username: Username
    email: Email


class ProfileOut(Out, ProfileIn):
    id: int
    role: Role


class ChangePasswordIn(In):
    old_password: Password
    new_password1: Password
    new_password2: Password


class ResetRequestIn(In):
    email: Email


class ResetConfirmIn(In):
    uid: Annotated[str, _text(64), Text]
    token: Annotated[str, _text(64), Text]
    new_password1: Password
    new_password2: Password
