"""The whole password-reset flow through a real SMTP server, and the outbox's retries."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import asyncpg
import pytest
from pytest_aiohttp import AiohttpClient

from server.app import create_app
from server.config import Config
from tests.support.api import Api
from tests.support.smtp import SmtpSink

NEW_PASSWORD = "Fresh-start-2026"
LINK = re.compile(
    r"http://public\.example/api/auth/password-reset-confirm/([\w-]+)/([0-9A-Za-z]+-[0-9A-Za-z]+)/"
)


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
async def api(config: Config, smtp: SmtpSink, aiohttp_client: AiohttpClient) -> Api:
    mailing = dataclasses.replace(
        config, smtp_url=smtp.url, public_base_url="http://public.example"
    )
    return Api(await aiohttp_client(create_app(mailing)))


async def _request_reset(api: Api, email: str) -> None:
    response = await api.client.post("/api/auth/password-reset-request/", json={"email": email})
    assert response.status == 200
    assert await response.json() == {
        "detail": "If an account with that email exists, a password reset email has been sent."
    }


def _link(message: object) -> str:
    body = message.get_payload(decode=True).decode()  # type: ignore[attr-defined]
    match = LINK.search(body)
    assert match, body
    return urlsplit(match[0]).path


async def test_reset_by_the_mailed_link_then_login(api: Api, smtp: SmtpSink) -> None:
    account = await api.attendee()
    await _request_reset(api, account.email.upper())  # the lookup ignores case

    [mail] = await smtp.wait_for(1)
    assert mail["To"] == account.email
    assert mail["Subject"] == "Password Reset Request"
    path = _link(mail)

    body = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    response = await api.client.post(path, json=body)
    assert (response.status, await response.json()) == (
        200,
        {"detail": "Password has been reset successfully."},
    )

    await api.login(account.username, NEW_PASSWORD)
    old = await api.client.get("/api/auth/profile/", headers=account.headers)
    assert old.status == 401, "a token issued before the reset still works"
    refresh = await api.client.post("/api/auth/token/refresh/", json={"refresh": account.refresh})
    assert refresh.status == 401

    again = await api.client.post(
        path, json={"new_password1": "Other-pass-77", "new_password2": "Other-pass-77"}
    )
    assert (again.status, await again.json()) == (
        400,
        {"token": ["The reset link is invalid or has expired."]},
    )


async def test_confirm_takes_uid_and_token_from_the_body_as_the_reference(
    api: Api, smtp: SmtpSink
) -> None:
    account = await api.attendee()
    await _request_reset(api, account.email)
    [mail] = await smtp.wait_for(1)
    _, uid, token = _link(mail).rstrip("/").rsplit("/", 2)
    body = {
        "uid": uid,
        "token": token,
        "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD,
    }
    response = await api.client.post("/api/auth/password-reset-confirm/MQ/abc-def/", json=body)
    assert response.status == 200
    await api.login(account.username, NEW_PASSWORD)


async def test_confirm_reports_errors_in_the_reference_order(api: Api, smtp: SmtpSink) -> None:
    account = await api.attendee()
    await _request_reset(api, account.email)
    path = _link((await smtp.wait_for(1))[0])
    uid = path.split("/")[-3]

    mismatch = await api.client.post(
        path, json={"new_password1": NEW_PASSWORD, "new_password2": "x"}
    )
    assert await mismatch.json() == {"new_password2": ["New passwords do not match."]}
    huge = "OTk5OTk5OTk5OTk5OTk5OTk5OTk5"  # "9999999999999999999999": past any bigint id
    body = {"uid": huge, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    assert await (await api.client.post(path, json=body)).json() == {
        "uid": ["Invalid user ID or user does not exist."]
    }
    body = {"uid": "bm9ib2R5", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    assert await (await api.client.post(path, json=body)).json() == {
        "uid": ["Invalid user ID or user does not exist."]
    }
    body = {
        "uid": uid,
        "token": "1-wrong",
        "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD,
    }
    assert await (await api.client.post(path, json=body)).json() == {
        "token": ["The reset link is invalid or has expired."]
    }
    weak = await api.client.post(
        path, json={"new_password1": "12345678", "new_password2": "12345678"}
    )
    assert (await weak.json())["new_password1"] == [
        "This password is too common.",
        "This password is entirely numeric.",
    ]
    assert (await api.client.get(path)).status == 405


async def test_an_empty_body_names_all_four_fields(api: Api) -> None:
    """As the reference: the link's uid and token stand in only for a body that is otherwise
    whole (the mailed link asks for the two passwords alone)."""
    response = await api.client.post("/api/auth/password-reset-confirm/MQ/abc-def/", json={})
    required = ["This field is required."]
    assert (response.status, await response.json()) == (
        400,
        {"uid": required, "token": required, "new_password1": required, "new_password2": required},
    )
    half = await api.client.post(
        "/api/auth/password-reset-confirm/MQ/abc-def/", json={"new_password1": NEW_PASSWORD}
    )
    assert await half.json() == {"uid": required, "token": required, "new_password2": required}


async def test_no_mail_for_unknown_or_inactive_accounts(api: Api, smtp: SmtpSink) -> None:
    inactive = await api.attendee()
    await api.client.delete("/api/auth/deactivate-account/", headers=inactive.headers)
    await _request_reset(api, inactive.email)
    await _request_reset(api, "nobody@example.org")
    bad = await api.client.post("/api/auth/password-reset-request/", json={"email": "nope"})
    assert (bad.status, await bad.json()) == (400, {"email": ["Enter a valid email address."]})
    await asyncio.sleep(1.5)  # the sender polls every second: give it the chance to misbehave
    assert smtp.messages == []


async def test_mail_waits_while_smtp_is_down_and_is_delivered_once(
    api: Api, smtp: SmtpSink, database_url: str
) -> None:
    account = await api.attendee()
    smtp.stop()
    await _request_reset(api, account.email)
    conn = await asyncpg.connect(database_url)
    try:
        for _ in range(100):
            row = await conn.fetchrow("SELECT attempts, sent_at, last_error FROM outbox")
            if row and row["attempts"] >= 1:
                break
            await asyncio.sleep(0.05)
        assert row["sent_at"] is None
        assert row["last_error"]
        await conn.execute("UPDATE outbox SET next_attempt_at = now()")  # skip the back-off wait
        smtp.start()
        await smtp.wait_for(1)
        await asyncio.sleep(1.5)
        assert len(smtp.messages) == 1
        sent = await conn.fetchrow("SELECT sent_at, delivered_via FROM outbox")
        assert sent["sent_at"] is not None
        assert sent["delivered_via"] == "smtp"
    finally:
        await conn.close()
