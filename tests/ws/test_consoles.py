"""The admin console and the organizer's on-sale dashboard in a real headless Chromium: sign
in, act, see the effect without a reload; no console errors, nothing from another origin."""

from __future__ import annotations

from typing import Any

import asyncpg
from playwright.async_api import Browser, Page, expect

from server.config import Config
from tests.support.admins import admin
from tests.support.api import Account, Api
from tests.support.queue import at, join, room_event
from tests.support.screenshots import screenshot


async def _open(browser: Browser, api: Api, path: str) -> tuple[Page, list[str], list[str]]:
    """The page, and what went wrong: console errors, requests to other origins."""
    page = await browser.new_page()
    errors: list[str] = []
    elsewhere: list[str] = []
    origin = str(api.client.make_url("/")).rstrip("/")
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on(
        "request",
        lambda r: (
            elsewhere.append(r.url)
            if not r.url.startswith(origin.replace("http", "ws")) and not r.url.startswith(origin)
            else None
        ),
    )
    response = await page.goto(origin + path)
    assert response is not None
    assert response.status == 200
    assert "script-src 'self'" in (await response.all_headers())["content-security-policy"]
    return page, errors, elsewhere


async def _sign_in(page: Page, who: Account) -> None:
    await page.fill("#username", who.username)
    await page.fill("#password", who.password)
    await page.click("#signin button")


async def _book(
    api: Api, who: Account, event: dict[str, Any], ticket: dict[str, Any], n: int
) -> None:
    body = {"event_id": event["id"], "items": [{"ticket_type_id": ticket["id"], "quantity": n}]}
    assert (await api.client.post("/api/bookings/", json=body, headers=who.headers)).status == 201


async def test_the_admin_console_changes_a_role_deactivates_and_cancels(
    api: Api, config: Config, browser: Browser
) -> None:
    root = await admin(api, config)
    owner = await api.organizer()
    fan = await api.register("attendee", username="fan-to-manage", email="managed@example.org")
    event = await api.event(owner, name="Questionable Gig")
    ticket = await api.ticket_type(owner, event["id"])
    await _book(api, fan, event, ticket, 2)
    page, errors, elsewhere = await _open(browser, api, "/admin")
    await _sign_in(page, root)
    await expect(page.locator("#console")).to_be_visible()
    await page.fill("#user-query", "to-manage")
    await page.click("#user-search button")
    row = page.locator(f"[data-user-id='{fan.id}']")
    await expect(row).to_contain_text("managed@example.org")
    await row.locator("select").select_option("organizer")
    await expect(page.locator("#notice")).to_have_text("fan-to-manage is now organizer.")
    await row.locator("button").click()
    await expect(page.locator("#notice")).to_have_text("fan-to-manage is deactivated.")
    await expect(page.locator(f"[data-user-id='{fan.id}'] button")).to_have_text("Reactivate")
    assert (await api.client.get("/api/auth/profile/", headers=fan.headers)).status == 401

    await page.fill("#event-query", "questionable")
    await page.click("#event-search button")
    line = page.locator(f"[data-event-id='{event['id']}']")
    await line.get_by_role("button", name="Cancel…").click()
    await expect(line).to_contain_text("Cancel Questionable Gig and its 2 sold tickets?")
    await line.get_by_role("button", name="Keep it").click()
    await expect(line).not_to_contain_text("sold tickets?")
    await line.get_by_role("button", name="Cancel…").click()
    await screenshot(page, "admin")
    await line.get_by_role("button", name="Yes, cancel it").click()
    await expect(page.locator(f"[data-event-id='{event['id']}']")).to_contain_text("cancelled")
    stored = await (await api.client.get(f"/api/events/{event['id']}/")).json()
    assert stored["status"] == "cancelled"
    await expect(page.locator("#audit li").first).to_contain_text("event.cancel")
    assert errors == []
    assert elsewhere == []


async def test_the_dashboard_shows_the_on_sale_live(api: Api, browser: Browser) -> None:
    owner, fan = await api.organizer(), await api.attendee()
    event = await api.event(owner, name="Big Launch", total_capacity=100)
    ticket = await api.ticket_type(owner, event["id"], name="GA", quantity_available=100)
    await _book(api, fan, event, ticket, 3)
    await _book(api, fan, event, ticket, 2)
    page, errors, elsewhere = await _open(browser, api, f"/events/{event['id']}/dashboard")
    await _sign_in(page, owner)
    await expect(page.locator("#event-name")).to_have_text("Big Launch")
    await expect(page.locator("#sold")).to_have_text("5")
    await expect(page.locator("#chart-note")).to_have_text(
        "2 bookings and 0 cancellations in the last hour"
    )
    assert await page.locator("#chart rect").count() == 60
    await expect(page.locator("#queue-tile")).to_be_hidden()
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    await _book(api, fan, event, ticket, 4)  # seen live, no reload
    await expect(page.locator("#sold")).to_have_text("9", timeout=3000)
    await expect(page.locator(f"[data-ticket-type-id='{ticket['id']}']")).to_contain_text("91")
    await expect(page.locator("#connection")).to_have_text("live")
    assert navigations == []
    assert errors == []
    assert elsewhere == []


async def test_the_dashboard_is_for_the_organizer(api: Api, browser: Browser) -> None:
    owner, rival = await api.organizer(), await api.attendee()
    event = await api.event(owner)
    page, errors, _ = await _open(browser, api, f"/events/{event['id']}/dashboard")
    await _sign_in(page, rival)
    await expect(page.locator("#notice")).to_contain_text("may not use this page")
    await expect(page.locator("#console")).to_be_hidden()
    assert errors == []


async def test_the_dashboard_shows_the_waiting_room_and_the_last_hour(
    api: Api, database_url: str, browser: Browser
) -> None:
    owner = await api.organizer()
    event, _ = await room_event(
        api, owner, name="Stadium Night", admit_per_minute=120, sales_start=at(minutes=10)
    )  # three in the prequeue, waiting for the draw
    for _ in range(3):
        assert (await join(api, await api.attendee(), event["id"]))[0] == 201
    # An hour of history, as the booking transactions write it: 1 booking a minute ago, 2 two
    # minutes ago, … 59 an hour ago (and one cancellation each minute).
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            "INSERT INTO booking_minutes (event_id, minute, bookings, tickets, cancellations)"
            " SELECT $1, date_trunc('minute', now()) - n * interval '1 minute', n, 2 * n, 1"
            " FROM generate_series(1, 59) AS n",
            event["id"],
        )
    finally:
        await conn.close()
    page, errors, elsewhere = await _open(browser, api, f"/events/{event['id']}/dashboard")
    await _sign_in(page, owner)
    await expect(page.locator("#queued")).to_have_text("3")
    await expect(page.locator("#queue-label")).to_contain_text("0 admitted · 120/min")
    await expect(page.locator("#chart-note")).to_have_text(
        "1770 bookings and 59 cancellations in the last hour"
    )
    heights = [
        float(await bar.get_attribute("height") or "nan")
        for bar in await page.locator("#chart rect").all()
    ]
    assert heights[0] == 150  # the oldest minute the tallest
    assert heights[-1] == 0  # and this minute empty
    assert heights == sorted(heights, reverse=True)
    await screenshot(page, "dashboard")
    assert errors == []
    assert elsewhere == []
