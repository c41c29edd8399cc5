"""``/api/schema``, Swagger UI and ReDoc: a valid OpenAPI 3.1 document that covers every route,
served with UIs that work in a real browser from this server's own assets."""

from __future__ import annotations

import re
from typing import Any

import yaml
from openapi_spec_validator import validate
from playwright.async_api import Browser, Page, expect

from server.http.routes import ROUTES
from tests.support.api import Api, Client

PARAM = re.compile(r"{(\w+)(?::(?:[^{}]|{[^{}]*})*)?}")


async def _document(client: Client) -> dict[str, Any]:
    response = await client.get("/api/schema")
    assert response.status == 200
    assert response.content_type == "application/json"
    document: dict[str, Any] = await response.json()
    return document


async def test_the_document_is_valid_openapi_3_1(client: Client) -> None:
    document = await _document(client)
    assert document["openapi"] == "3.1.0"
    validate(document)  # raises on any violation of the OpenAPI 3.1 schema


async def test_yaml_is_the_same_document(client: Client) -> None:
    response = await client.get("/api/schema?format=yaml")
    assert response.status == 200
    assert response.content_type == "application/yaml"
    assert yaml.safe_load(await response.text()) == await _document(client)
    bad = await client.get("/api/schema?format=xml")
    assert (bad.status, await bad.json()) == (400, {"format": ['"xml" is not a valid choice.']})


async def test_every_route_is_documented_once(client: Client) -> None:
    document = await _document(client)
    documented = {
        (method.upper(), path.rstrip("/"))
        for path, operations in document["paths"].items()
        for method in operations
    }
    routed = {(r.method, PARAM.sub(r"{\1}", r.path)) for r in ROUTES}
    assert documented == routed
    operation_ids = [op["operationId"] for ops in document["paths"].values() for op in ops.values()]
    assert sorted(operation_ids) == sorted(r.name for r in ROUTES)


def _resolved(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The schema itself, for a reference to a component."""
    if "$ref" not in schema:
        return schema
    found: dict[str, Any] = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return found


def _body(document: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    return _resolved(document, operation["requestBody"]["content"]["application/json"]["schema"])


async def test_bodies_and_security_are_described(client: Client) -> None:
    document = await _document(client)
    paths = document["paths"]
    booking = paths["/api/bookings/"]["post"]
    body = _body(document, booking)
    assert body["required"] == ["event_id", "items"]
    assert body["properties"]["items"]["minItems"] == 1
    assert booking["security"] == [{"bearer": []}]
    assert {"201", "400", "401", "403", "404", "429", "503"} <= set(booking["responses"])
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    patch = _body(document, paths["/api/events/{event_id}/"]["patch"])
    assert "required" not in patch
    assert "id" not in patch["properties"]
    cancel = paths["/api/bookings/{reference}/cancel/"]
    assert set(cancel) == {"put", "patch"}
    assert "4404" in document["info"]["description"]  # the websocket protocol is described
    assert paths["/ws/events/{event_id}"]["get"]["tags"] == ["Live availability"]


async def test_docs_pages_load_only_their_own_assets(client: Client) -> None:
    for path, assets in {
        "/api/docs/swagger": [
            "/static/swagger-ui-bundle.js",
            "/static/swagger-ui.css",
            "/static/swagger-init.js",
        ],
        "/api/docs/redoc": ["/static/redoc.standalone.js"],
    }.items():
        response = await client.get(path)
        assert response.status == 200
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self';" in policy
        assert "frame-ancestors 'none'" in policy
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        html = await response.text()
        assert "http" not in html.replace("http-equiv", "")  # nothing from another origin
        for asset in assets:
            assert asset in html
            fetched = await client.get(asset)
            assert fetched.status == 200, asset
            assert len(await fetched.read()) > 1000 or asset.endswith("init.js")


async def _watch_errors(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return errors


async def test_swagger_ui_authorizes_with_a_bearer_token(api: Api, browser: Browser) -> None:
    account = await api.attendee()
    page = await browser.new_page()
    errors = await _watch_errors(page)
    await page.goto(str(api.client.make_url("/api/docs/swagger")))
    await expect(page.locator(".info .title")).to_contain_text("Stampede")
    await page.locator("button.authorize").first.click()
    await page.locator(".modal-ux input[type=text]").fill(account.access)
    await page.locator(".modal-ux button.authorize").click()
    await page.locator(".modal-ux button.btn-done").click()

    operation = page.locator("#operations-Accounts-profile")
    await operation.locator(".opblock-summary").click()
    await operation.locator("button.try-out__btn").click()
    await operation.locator("button.execute").click()
    status = operation.locator(".live-responses-table tbody .response-col_status").first
    await expect(status).to_have_text("200")
    await expect(operation.locator(".live-responses-table")).to_contain_text(account.username)
    await expect(operation.locator(".curl-command")).to_contain_text(f"Bearer {account.access}")
    assert errors == []


async def test_redoc_renders_the_document(api: Api, browser: Browser) -> None:
    page = await browser.new_page()
    errors = await _watch_errors(page)
    await page.goto(str(api.client.make_url("/api/docs/redoc")))
    await expect(page.locator("h1").first).to_contain_text("Stampede", timeout=15_000)
    for tag in ("Accounts", "Events", "Ticket types", "Bookings", "Live availability"):
        await expect(page.get_by_text(tag, exact=True).first).to_be_visible()
    summary = page.get_by_role("heading", name="Book tickets of one event (attendees)")
    await expect(summary).to_be_attached()
    # ReDoc always tries its attribution logo from its CDN; the CSP stops it (as it should) and
    # ReDoc hides the image. Nothing else may go wrong.
    assert [e for e in errors if "https://cdn.redoc.ly/" not in e] == []


async def test_every_reference_route_documents_the_401_of_a_bad_token(client: Client) -> None:
    """The reference API answers 401 to a bad token on every route, public ones included;
    the routes outside it ignore tokens and document no 401."""
    document = await (await client.get("/api/schema")).json()
    for path, operations in document["paths"].items():
        reference = path.startswith("/api/") and not path.startswith(
            ("/api/health", "/api/schema", "/api/docs")
        )
        for method, operation in operations.items():
            if path == "/metrics":  # its 401 is METRICS_TOKEN's, not a user's token's
                assert "401" in operation["responses"]
                continue
            assert ("401" in operation["responses"]) == reference, (method, path)
