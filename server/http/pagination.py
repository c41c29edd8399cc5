"""Page-number pagination as the reference API answers it, plus ``page_size``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from server.errors import NotFound
from server.jsonio import json_response

__all__ = ["Page", "paginated"]


@dataclass(frozen=True, slots=True)
class Page:
    number: int
    size: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    def check(self, count: int) -> None:
        """A page past the last one (the first always exists) is 404, as in the reference."""
        if self.number > 1 and self.offset >= count:
            raise NotFound("Invalid page.")


def _link(request: web.Request, number: int) -> str:
    query = dict(request.query)
    if number == 1:
        query.pop("page", None)
    else:
        query["page"] = str(number)
    return str(request.url.with_query(query))


def paginated(request: web.Request, page: Page, count: int, results: list[Any]) -> web.Response:
    """The page's answer: ``count`` and links to the pages either side; a page past the last is
    404 (``Page.check``)."""
    page.check(count)
    has_next = page.offset + len(results) < count
    return json_response(
        {
            "count": count,
            "next": _link(request, page.number + 1) if has_next else None,
            "previous": _link(request, page.number - 1) if page.number > 1 else None,
            "results": results,
        }
    )
