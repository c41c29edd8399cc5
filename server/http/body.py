"""Request bodies parsed into JSON, with malformed input answered as a clear 400."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from aiohttp import web

from server.errors import ApiError
from server.keys import config_key

__all__ = ["read_json", "read_json_object"]


async def read_json(request: web.Request) -> Any:
    """The request body as JSON; an empty body is ``{}``; malformed JSON is 400 ``invalid_json``.

    A body over the configured limit makes aiohttp raise 413, which the error middleware renders;
    a body that does not arrive within IDLE_TIMEOUT is 408 (a client trickling it is cut off).
    """
    if request.content.is_eof():  # the usual small body came with the headers: no clock needed
        return _parse(await request.read())
    try:
        async with asyncio.timeout(request.app[config_key].idle_timeout):
            raw = await request.read()
    except TimeoutError:
        raise ApiError(
            "The request body did not arrive in time.", code="request_timeout", status=408
        ) from None
    return _parse(raw)


def _parse(raw: bytes) -> Any:
    if not raw.strip():
        return {}
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(f"JSON parse error - {exc}", code="invalid_json") from None


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object; any other JSON value is 400 ``invalid_json``."""
    body = await read_json(request)
    if not isinstance(body, dict):
        kind = type(body).__name__
        raise ApiError(f"Invalid data. Expected a dictionary, but got {kind}.", code="invalid_json")
    return body
