"""The live page in a real headless Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.async_api import Browser, expect

from server.config import Config
from tests.support.api import Api
from tests.support.crowd import make_users
from tests.support.waitlist import cancel, joined, sold_out


async def test_the_page_updates_without_reload(
    api: Api, config: Config, database_url: str, browser: Browser
) -> None:
    owner = await api.organizer()
    event = await api.event(owner, name="Opening Night", total_capacity=100)
    vip = await api.ticket_type(owner, event["id"], name="VIP", quantity_available=10)
    standard = await api.ticket_type(owner, event["id"], name="Standard", quantity_available=40)
    [member] = await make_users(database_url, config.jwt_secret or "", 1)

    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    response = await page.goto(str(api.client.make_url(f"/events/{event['id']}/live")))
    assert response is not None
    assert response.status == 200
    assert "script-src 'self'" in (await response.all_headers())["content-security-policy"]
    # expect() polls with Playwright's own selectors: the page's CSP forbids eval'd scripts.
    await expect(page.locator("#available-total")).to_have_text("50")
    assert await page.text_content("#event-name") == "Opening Night"
    assert "10" in (await page.text_content(f"[data-ticket-type-id='{vip['id']}']") or "")
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))

    body = {
        "event_id": event["id"],
        "items": [
            {"ticket_type_id": vip["id"], "quantity": 3},
            {"ticket_type_id": standard["id"], "quantity": 2},
        ],
    }
    booked = await api.client.post("/api/bookings/", json=body, headers=member.headers)
    assert booked.status == 201

    await expect(page.locator("#available-total")).to_have_text("45", timeout=3000)
    assert "7 left" in (await page.text_content(f"[data-ticket-type-id='{vip['id']}']") or "")
    assert "38 left" in (await page.text_content(f"[data-ticket-type-id='{standard['id']}']") or "")
    assert await page.text_content("#connection") == "live"
    assert navigations == []  # no reload happened
    assert errors == []


async def test_an_unknown_event_says_so_and_stops(api: Api, browser: Browser) -> None:
    page = await browser.new_page()
    await page.goto(str(api.client.make_url("/events/987654/live")))
    await expect(page.locator("#connection")).to_have_text("no such event")
    assert await page.text_content("#event-name") == "No such event"


async def test_the_page_shows_held_seats_and_counts_down_to_the_sales(
    api: Api, config: Config, database_url: str, browser: Browser
) -> None:
    owner = await api.organizer()
    opens = datetime.now(UTC) + timedelta(hours=2, minutes=3)
    event = await api.event(owner, name="Presale", total_capacity=100)
    now_on = await api.ticket_type(owner, event["id"], name="Now", quantity_available=10)
    later = await api.ticket_type(
        owner, event["id"], name="Later", quantity_available=10, sales_start=opens.isoformat()
    )
    [member] = await make_users(database_url, config.jwt_secret or "", 1)
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(str(api.client.make_url(f"/events/{event['id']}/live")))
    later_row = page.locator(f"[data-ticket-type-id='{later['id']}']")
    await expect(later_row).to_contain_text("sales open in 2 h 2 min")  # counting down
    first = await later_row.locator(".note").text_content()
    await expect(later_row.locator(".note")).not_to_have_text(first or "", timeout=3000)

    body = {
        "event_id": event["id"],
        "items": [{"ticket_type_id": now_on["id"], "quantity": 3}],
        "hold": True,
    }
    assert (
        await api.client.post("/api/bookings/", json=body, headers=member.headers)
    ).status == 201
    now_row = page.locator(f"[data-ticket-type-id='{now_on['id']}']")
    await expect(now_row).to_contain_text("7 left · 3 held", timeout=3000)
    await expect(page.locator("#sold")).to_contain_text("3 held")
    await expect(page.locator("#available-total")).to_have_text("7")
    assert errors == []


async def test_a_sold_out_type_invites_to_its_waiting_list_and_counts_it(
    api: Api, browser: Browser
) -> None:
    shop = await sold_out(api, [2])
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(str(api.client.make_url(f"/events/{shop.event['id']}/live")))
    row = page.locator(f"[data-ticket-type-id='{shop.ticket['id']}']")
    await expect(row).to_contain_text("sold out — join the waiting list")
    await joined(api, await api.attendee(), shop, 1)
    await joined(api, await api.attendee(), shop, 3)
    await expect(row).to_contain_text("0 left · 2 waiting", timeout=3000)
    buyer, booking = shop.bookings[0]
    await cancel(api, buyer, booking["booking_reference"])  # 2 seats: 1 offered, 1 kept back
    await expect(row).to_contain_text("0 left · 2 held · 1 waiting", timeout=3000)
    await expect(row).to_contain_text("sold out — join the waiting list")
    assert errors == []
