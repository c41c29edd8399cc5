"""Page-number pagination as the reference API answers it, plus ``page_size``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from server.errors import FieldErrors, NotFound
from server.jsonio import json_response

__all__ = ["DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE", "Page", "paginated"]

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100


def _digits(raw: str) -> bool:
    return raw.isascii() and raw.isdigit()  # "²" is a digit to isdigit(), not to int()


@dataclass(frozen=True, slots=True)
class Page:
    number: int
    size: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @classmethod
    def from_request(cls, request: web.Request) -> Page:
        raw_size = request.query.get("page_size", str(DEFAULT_PAGE_SIZE))
        if not _digits(raw_size) or len(raw_size) > 3 or not 1 <= int(raw_size) <= MAX_PAGE_SIZE:
            raise FieldErrors(
                {"page_size": [f"Ensure this value is between 1 and {MAX_PAGE_SIZE}."]}
            )
        raw_page = request.query.get("page", "1")
        if not _digits(raw_page) or len(raw_page) > 9 or int(raw_page) < 1:
            raise NotFound("Invalid page.")
        return cls(int(raw_page), int(raw_size))

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
    has_next = page.offset + len(results) < count
    return json_response(
        {
            "count": count,
            "next": _link(request, page.number + 1) if has_next else None,
            "previous": _link(request, page.number - 1) if page.number > 1 else None,
            "results": results,
        }
    )
