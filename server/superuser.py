"""``python -m server createsuperuser``: an account with the ``admin`` role, which no
registration can ask for; made as a registration is, with the same checks on its name, address
and password."""

from __future__ import annotations

import getpass
import os
import sys

from server.accounts import Accounts
from server.config import Config
from server.db import Queries, apply_migrations, connect_pool
from server.errors import FieldErrors
from server.http.shapes.accounts import RegisterIn
from server.http.validation import parse_body
from server.mail import Mailer
from server.users import ADMIN, UserCache

__all__ = ["PASSWORD_VARIABLE", "ask", "create_superuser"]

PASSWORD_VARIABLE = "STAMPEDE_SUPERUSER_PASSWORD"


def ask(username: str | None, email: str | None) -> tuple[str, str, str]:
    """The username, email and password: those given, the password from the environment, the
    rest asked at the terminal (and a missing one refused when there is none)."""
    interactive = sys.stdin.isatty()
    password = os.environ.get(PASSWORD_VARIABLE)
    if not interactive and (username is None or email is None or password is None):
        raise FieldErrors(
            {"non_field_errors": [f"give --username, --email and {PASSWORD_VARIABLE}"]}
        )
    username = username or input("Username: ").strip()
    email = email or input("Email address: ").strip()
    if password is None:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password (again): ") != password:
            raise FieldErrors({"password": ["The two passwords do not match."]})
    return username, email, password


async def create_superuser(config: Config, username: str, email: str, password: str) -> int:
    """The new admin's id; FieldErrors naming what is wrong otherwise."""
    assert config.database_url is not None
    sent = {"username": username, "email": email, "password": password, "role": "attendee"}
    data = parse_body(RegisterIn, sent).model_dump()  # the registration's own checks
    pool = await connect_pool(config.database_url, min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn:
            await apply_migrations(conn)
        queries = Queries.load()
        mailer = Mailer(pool, queries, config.mail_from, None)
        accounts = Accounts(pool, queries, config, "", mailer, UserCache())
        row = await accounts.register({**data, "role": ADMIN})
    finally:
        await pool.close()
    user_id: int = row["id"]
    return user_id
