"""``/api/schema`` (the OpenAPI document) and the two UIs that read it, Swagger UI and ReDoc."""

from __future__ import annotations

import functools

import orjson
import yaml
from aiohttp import web

from server.docs_assets import missing
from server.errors import ApiError, ServiceUnavailable
from server.http.pages import DOCS_SECURITY_HEADERS, STATIC

__all__ = ["redoc", "schema", "swagger"]


@functools.cache
def _document() -> dict[str, object]:
    from server.http.openapi import build_document
    from server.http.routes import ROUTES

    return build_document(ROUTES)


@functools.cache
def _json() -> bytes:
    return orjson.dumps(_document())


@functools.cache
def _yaml() -> str:
    return yaml.safe_dump(_document(), sort_keys=False, allow_unicode=True)


async def schema(request: web.Request) -> web.Response:
    kind = request.query.get("format", "json")
    if kind == "json":
        return web.Response(body=_json(), content_type="application/json")
    if kind == "yaml":
        return web.Response(text=_yaml(), content_type="application/yaml")
    raise ApiError('format must be "json" or "yaml".', code="invalid_format")


def _page(name: str) -> web.FileResponse:
    if missing():
        raise ServiceUnavailable(
            "The API docs assets are not installed; run `python -m server.docs_assets`.",
            code="docs_assets_missing",
        )
    return web.FileResponse(STATIC / name, headers=DOCS_SECURITY_HEADERS)


async def swagger(request: web.Request) -> web.FileResponse:
    return _page("swagger.html")


async def redoc(request: web.Request) -> web.FileResponse:
    return _page("redoc.html")
