"""An admin account for the tests: made as ``createsuperuser`` makes one."""

from __future__ import annotations

import itertools

from server.config import Config
from server.superuser import create_superuser
from tests.support.api import PASSWORD, Account, Api

_n = itertools.count(1)


async def admin(api: Api, config: Config) -> Account:
    n = next(_n)
    username, email = f"root{n}", f"root{n}@example.org"
    user_id = await create_superuser(config, username, email, PASSWORD)
    tokens = await api.login(username, PASSWORD)
    return Account(user_id, username, email, "admin", PASSWORD, tokens["access"], tokens["refresh"])
