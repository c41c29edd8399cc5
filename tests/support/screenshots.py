"""Screenshots of the pages for the docs: ``make screenshots`` sets STAMPEDE_SCREENSHOTS to the
folder to write them to; in an ordinary test run nothing is written."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.async_api import Page


async def screenshot(page: Page, name: str) -> None:
    folder = os.environ.get("STAMPEDE_SCREENSHOTS")
    if folder:
        await page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)
