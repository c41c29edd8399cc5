"""JSON out with orjson, through aiohttp's own bytes-encoder entry points."""

from __future__ import annotations

import functools

import orjson
from aiohttp import web

__all__ = ["json_response"]

# web.json_bytes_response with orjson (which encodes straight to bytes).
json_response = functools.partial(web.json_bytes_response, dumps=orjson.dumps)
