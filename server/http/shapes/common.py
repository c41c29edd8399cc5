"""Shapes every part of the API shares: input and output bases, pages, errors, health."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AnyUrl, BaseModel, ConfigDict, Field, RootModel

from server.http.fields import WholeNumber

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "Detail",
    "Error",
    "FieldErrorsOut",
    "Health",
    "In",
    "Out",
    "PageOut",
    "PageQuery",
    "money_text",
]

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100


class In(BaseModel):
    """Input: fields it does not know (read-only ones, say) are ignored, as DRF does."""

    model_config = ConfigDict(extra="ignore")


class Out(BaseModel):
    """Output: exactly these fields, every one always present."""

    model_config = ConfigDict(extra="forbid", json_schema_serialization_defaults_required=True)


# An amount as the API writes it: a decimal string with two places.
money_text = Field(pattern=r"^-?\d+\.\d{2}$")


class PageQuery(In):
    page: Annotated[int, Field(ge=1, le=10**9, description="Page number, from 1."), WholeNumber] = 1
    page_size: Annotated[
        int,
        Field(
            ge=1, le=MAX_PAGE_SIZE, description=f"Results per page (default {DEFAULT_PAGE_SIZE})."
        ),
        WholeNumber,
    ] = DEFAULT_PAGE_SIZE


class PageOut(Out):
    count: Annotated[int, Field(ge=0)]
    next: AnyUrl | None
    previous: AnyUrl | None


class Detail(Out):
    detail: str


class Error(BaseModel):
    """Every error but a field error. 401s for tokens add `messages`; booking refusals may add
    `non_field_errors`."""

    model_config = ConfigDict(extra="allow")
    detail: str
    code: str


class FieldErrorsOut(RootModel[dict[str, list[Any] | dict[str, list[str]]]]):
    """Messages per field, as the reference API gives them (a nested object's: per field of
    it)."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})


Status = Literal["ok", "error"]


class Health(BaseModel):
    status: Status
    database: Status
    redis: Literal["ok", "error", "disabled"]
    detail: str | None = None
    code: str | None = None
