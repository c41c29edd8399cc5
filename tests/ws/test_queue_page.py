"""The waiting room's page in a real headless Chromium (Debian's), driven by Playwright: sign
in, join, watch one's place move live, book once admitted."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from server.config import Config
from tests.support.api import Api
from tests.support.crowd import make_users
from tests.support.queue import join, room_event


async def test_join_watch_the_place_move_then_book(
    api: Api, config: Config, database_url: str, browser: Browser
) -> None:
    owner = await api.organizer()
    event, _ = await room_event(api, owner, name="Big Night", admit_per_minute=60)  # 1 a second
    for member in await make_users(database_url, config.jwt_secret or "", 3):
        await join(api, member, event["id"])  # places 1 to 3, before ours
    fan = await api.attendee()
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    response = await page.goto(str(api.client.make_url(f"/events/{event['id']}/queue")))
    assert response is not None
    assert response.status == 200
    assert "script-src 'self'" in (await response.all_headers())["content-security-policy"]
    await expect(page.locator("#event-name")).to_have_text("Big Night")
    await page.fill("#username", fan.username)
    await page.fill("#password", fan.password)
    await page.click("#signin button")
    await page.click("#join")
    await expect(page.locator("#position")).to_have_text("4")
    await expect(page.locator("#state")).to_have_text("You are in the queue.")
    await expect(page.locator("#ahead")).to_contain_text("ahead of you")
    first = await page.text_content("#ahead")
    await expect(page.locator("#ahead")).not_to_have_text(first or "", timeout=5000)  # moving
    await expect(page.locator("#state")).to_have_text("It's your turn: book now.", timeout=8000)
    await expect(page.locator("#book")).to_be_visible()
    await page.click("#book button")
    await expect(page.locator("#result")).to_contain_text("Booked:")
    assert await page.get_attribute("#result", "data-status") == "201"
    await expect(page.locator("#connection")).to_have_text("live")
    assert errors == []
