"""``/api/schema`` (the OpenAPI document) and the two UIs that read it, Swagger UI and ReDoc."""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import Field

from server.docs_assets import missing
from server.errors import ServiceUnavailable
from server.http.endpoints import endpoint
from server.http.pages import DOCS_SECURITY_HEADERS, STATIC
from server.http.shapes.common import In
from server.keys import openapi_key

__all__ = ["redoc", "schema", "swagger"]

SERVICE = "Service"


class SchemaQuery(In):
    format: Literal["json", "yaml"] = Field("json", description="`json` (default) or `yaml`.")


@endpoint("schema", "This OpenAPI document", SERVICE)
async def schema(request: web.Request, query: SchemaQuery) -> web.Response:
    document = request.app[openapi_key]
    if query.format == "yaml":
        return web.Response(text=document.yaml, content_type="application/yaml")
    return web.Response(body=document.json, content_type="application/json")


def _page(name: str) -> web.FileResponse:
    if missing():
        raise ServiceUnavailable(
            "The API docs assets are not installed; run `python -m server.docs_assets`.",
            code="docs_assets_missing",
        )
    return web.FileResponse(STATIC / name, headers=DOCS_SECURITY_HEADERS)


@endpoint("swagger-ui", "Swagger UI (HTML)", SERVICE, errors=(503,))
async def swagger(request: web.Request) -> web.FileResponse:
    return _page("swagger.html")


@endpoint("redoc", "ReDoc (HTML)", SERVICE, errors=(503,))
async def redoc(request: web.Request) -> web.FileResponse:
    return _page("redoc.html")
