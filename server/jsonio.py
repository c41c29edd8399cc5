"""JSON out: orjson encoding and JSON responses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from aiohttp import web

__all__ = ["json_response"]

JSON_CONTENT_TYPE = "application/json"


def json_response(
    body: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=orjson.dumps(body),
        status=status,
        content_type=JSON_CONTENT_TYPE,
        headers=headers,
    )
