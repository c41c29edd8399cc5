"""Domain errors. ``server.http.middleware`` renders them in the one JSON error shape.

Two shapes leave this server, as in the reference API:
- field errors: ``{"<field>": ["message", ...]}`` (status 400);
- everything else: ``{"detail": "message", "code": "machine_code"}``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "ApiError",
    "Conflict",
    "FieldErrors",
    "NotFound",
    "PermissionDenied",
    "ServiceUnavailable",
    "StartupError",
    "Unauthorized",
]


class StartupError(RuntimeError):
    """The server cannot start; the message is the one line shown to the operator."""


class ApiError(Exception):
    """An error answered as ``{"detail", "code"}`` with an HTTP status."""

    status = 400
    code = "bad_request"
    detail = "Bad request."

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.detail = detail or self.detail
        self.code = code or self.code
        self.status = status or self.status
        self.headers = dict(headers or {})
        super().__init__(self.detail)

    def body(self) -> dict[str, Any]:
        return {"detail": self.detail, "code": self.code}


class FieldErrors(ApiError):
    """Validation errors keyed by field, answered as ``{"field": ["message", ...]}``."""

    code = "invalid"

    def __init__(self, errors: Mapping[str, Sequence[Any] | Mapping[str, Any]]) -> None:
        self.errors = dict(errors)
        super().__init__("Invalid input.", status=400)

    def body(self) -> dict[str, Any]:
        return self.errors


class Unauthorized(ApiError):
    status = 401
    code = "not_authenticated"
    detail = "Authentication credentials were not provided."

    def __init__(self, detail: str | None = None, *, code: str | None = None) -> None:
        super().__init__(detail, code=code, headers={"WWW-Authenticate": 'Bearer realm="api"'})


class PermissionDenied(ApiError):
    status = 403
    code = "permission_denied"
    detail = "You do not have permission to perform this action."


class NotFound(ApiError):
    status = 404
    code = "not_found"
    detail = "Not found."


class Conflict(ApiError):
    status = 409
    code = "conflict"
    detail = "The request conflicts with the current state."


class ServiceUnavailable(ApiError):
    status = 503
    code = "service_unavailable"
    detail = "The service is temporarily unavailable."
