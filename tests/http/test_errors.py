"""The one JSON error shape, for every way a request can go wrong."""

from __future__ import annotations

import io
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from server.app import create_app
from server.config import Config
from server.errors import Conflict, FieldErrors
from server.http.body import read_json_object
from server.jsonio import json_response

Client = TestClient[web.Request, web.Application]


async def echo(request: web.Request) -> web.Response:
    return json_response(await read_json_object(request))


async def conflict(request: web.Request) -> web.Response:
    raise Conflict("It clashes.", code="clash")


async def invalid(request: web.Request) -> web.Response:
    raise FieldErrors({"name": ["This field is required."]})


async def crash(request: web.Request) -> web.Response:
    raise RuntimeError("secret internals")


@pytest.fixture
async def client(config: Config, aiohttp_client: AiohttpClient) -> Client:
    app = create_app(config)
    app.router.add_post("/test/echo", echo)
    app.router.add_get("/test/conflict", conflict)
    app.router.add_get("/test/invalid", invalid)
    app.router.add_get("/test/crash", crash)
    return await aiohttp_client(app)


async def _json(response: Any) -> Any:
    assert response.content_type == "application/json"
    return await response.json()


async def test_unknown_route_is_json_404(client: Client) -> None:
    response = await client.get("/api/nowhere")
    assert response.status == 404
    assert await _json(response) == {"detail": "Not found.", "code": "not_found"}


async def test_wrong_method_is_json_405_with_allow(client: Client) -> None:
    response = await client.delete("/api/health")
    assert response.status == 405
    assert await _json(response) == {
        "detail": 'Method "DELETE" not allowed.',
        "code": "method_not_allowed",
    }
    assert "GET" in response.headers["Allow"]


async def test_malformed_json_is_400_invalid_json(client: Client) -> None:
    response = await client.post(
        "/test/echo", data=b'{"name": ', headers={"Content-Type": "application/json"}
    )
    assert response.status == 400
    body = await _json(response)
    assert body["code"] == "invalid_json"
    assert body["detail"].startswith("JSON parse error - ")


async def test_invalid_utf8_is_400_invalid_json(client: Client) -> None:
    response = await client.post("/test/echo", data=b'{"name": "\xff\xfe"}')
    assert response.status == 400
    assert (await _json(response))["code"] == "invalid_json"


async def test_a_json_list_where_an_object_is_expected_is_400(client: Client) -> None:
    response = await client.post("/test/echo", json=[1, 2])
    assert response.status == 400
    assert await _json(response) == {
        "detail": "Invalid data. Expected a dictionary, but got list.",
        "code": "invalid_json",
    }


async def test_valid_json_passes_through(client: Client) -> None:
    response = await client.post("/test/echo", json={"name": "Gala", "seats": 3})
    assert response.status == 200
    assert await _json(response) == {"name": "Gala", "seats": 3}


async def test_body_over_one_mebibyte_is_413(client: Client) -> None:
    big = b'{"x": "' + b"a" * (1024 * 1024) + b'"}'
    response = await client.post("/test/echo", data=io.BytesIO(big))
    assert response.status == 413
    body = await _json(response)
    assert body["code"] == "request_too_large"
    assert "1048576" in body["detail"]


async def test_body_just_under_the_limit_is_accepted(client: Client) -> None:
    filler = "a" * (1024 * 1024 - 100)
    response = await client.post("/test/echo", json={"x": filler})
    assert response.status == 200


async def test_domain_errors_keep_their_status_and_code(client: Client) -> None:
    response = await client.get("/test/conflict")
    assert response.status == 409
    assert await _json(response) == {"detail": "It clashes.", "code": "clash"}


async def test_field_errors_are_keyed_by_field(client: Client) -> None:
    response = await client.get("/test/invalid")
    assert response.status == 400
    assert await _json(response) == {"name": ["This field is required."]}


async def test_unexpected_errors_are_500_json_without_internals(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    response = await client.get("/test/crash")
    assert response.status == 500
    assert await _json(response) == {"detail": "Internal server error.", "code": "internal_error"}
    assert "secret internals" in caplog.text  # logged with its traceback, never sent


@pytest.mark.parametrize("path", ["/api/health", "/api/health/"])
async def test_routes_answer_with_and_without_trailing_slash(client: Client, path: str) -> None:
    response = await client.get(path, allow_redirects=False)
    assert response.status == 200


async def test_request_id_is_generated_and_returned(client: Client) -> None:
    ids = {(await client.get("/api/health")).headers["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3
    assert all(len(i) >= 16 for i in ids)


async def test_a_callers_request_id_is_kept(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="stampede.access")
    response = await client.get("/api/health", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"
    assert "GET /api/health 200" in caplog.text
    assert "rid=abc-123" in caplog.text


async def test_an_unsafe_request_id_is_replaced(client: Client) -> None:
    response = await client.get("/api/health", headers={"X-Request-ID": "x" * 500})
    assert response.headers["X-Request-ID"] != "x" * 500


async def test_every_response_forbids_content_sniffing(client: Client) -> None:
    for path in ("/api/health", "/api/events/", "/api/nowhere", "/events/1/live"):
        response = await client.get(path)
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
