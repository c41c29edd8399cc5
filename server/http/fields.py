"""Field types for the API's declarations (pydantic), with the reference API's behaviour: what
Django REST Framework accepts, converts and refuses, with its messages.

Fields are ``Annotated`` pydantic types: a "before" validator from here does what DRF does
before bounds are checked (trim text, accept numeric text, refuse booleans as numbers, read ISO
times as UTC), then pydantic checks the bounds the declaration states once (``Field``,
``StringConstraints``), which also describe them in the OpenAPI document:

    name: Annotated[str, StringConstraints(min_length=1, max_length=255), Text]

``validation.py`` turns pydantic's errors into DRF's messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

__all__ = [
    "DATETIME_FORMAT_MESSAGE",
    "MAX_ID",
    "MAX_INT",
    "PATTERN_MESSAGES",
    "Email",
    "Id",
    "Moment",
    "Money",
    "RawText",
    "Says",
    "Text",
    "WholeNumber",
    "drf_error",
    "matching",
]

MAX_INT = 2147483647
MAX_ID = 2**63 - 1  # ids are bigint: a larger number names nothing
DATETIME_FORMAT_MESSAGE = (
    "Datetime has wrong format. Use one of these formats instead: "
    "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
)
# Messages of the patterns fields are declared with, by pattern (pydantic names the pattern).
PATTERN_MESSAGES: dict[str, str] = {}


@dataclass(frozen=True, slots=True)
class Says:
    """A field's own message for whatever is wrong with its value (missing and null aside);
    ``{input}`` stands for the value sent. Query filters use it, as django-filter words them."""

    message: str


def drf_error(message: str) -> PydanticCustomError:
    """An error whose message is shown to the client as it is."""
    return PydanticCustomError("drf", "{message}", {"message": message})


def _string(trim: bool) -> BeforeValidator:
    def convert(value: Any) -> Any:
        if value is None:
            return None  # "may not be null", unless the field is nullable
        if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
            raise drf_error("Not a valid string.")
        value = str(value).strip() if trim else str(value)
        if "\x00" in value:
            raise drf_error("Null characters are not allowed.")
        return value

    return BeforeValidator(convert)


Text = _string(trim=True)  # DRF's CharField: whitespace trimmed
RawText = _string(trim=False)  # kept as sent (passwords, descriptions)


def matching(pattern: str, message: str, max_length: int | None = None) -> StringConstraints:
    """Text that must match ``pattern`` (anchor it), refused with ``message``."""
    PATTERN_MESSAGES[pattern] = message
    return StringConstraints(min_length=1, max_length=max_length, pattern=pattern)


_EMAIL = re.compile(r"^[^@\s]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")


def _email(value: Any) -> Any:
    if isinstance(value, str) and not _EMAIL.match(value):
        raise drf_error("Enter a valid email address.")
    return value


Email = Annotated[
    str,
    StringConstraints(min_length=1, max_length=254),
    Field(json_schema_extra={"format": "email"}),
    BeforeValidator(_email),
    Text,  # runs first: "before" validators listed later run earlier
]


def _integer(value: Any) -> Any:
    """DRF's IntegerField: numbers and numeric text ("7", " 7 ", "7.0"); never booleans."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise drf_error("A valid integer is required.")
    if isinstance(value, str):
        if len(value) > 1000:
            raise drf_error("String value too large.")
        value = value.strip()
    try:
        number = Decimal(str(value)) if isinstance(value, str | float) else value
        if not isinstance(number, int | Decimal) or number != int(number):
            raise drf_error("A valid integer is required.")
        return int(number)
    except (InvalidOperation, ValueError, OverflowError):
        raise drf_error("A valid integer is required.") from None


WholeNumber = BeforeValidator(_integer)  # bounds: Field(ge=..., le=MAX_INT) before it
Id = Annotated[int, Field(ge=1, le=MAX_ID), WholeNumber]


def _moment(value: Any) -> Any:
    """An ISO 8601 time; one without a zone is taken as UTC, the reference's time zone."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 64:
        raise drf_error(DATETIME_FORMAT_MESSAGE)
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise drf_error(DATETIME_FORMAT_MESSAGE) from None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:59-14:00: past year 9999 once in UTC
        raise drf_error(DATETIME_FORMAT_MESSAGE) from None


Moment = Annotated[datetime, BeforeValidator(_moment)]


def _money(value: Any) -> Any:
    """DRF's DecimalField input: numbers or numeric text, never booleans or other types."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise drf_error("A valid number is required.")
    if isinstance(value, str) and len(value) > 1000:
        raise drf_error("String value too large.")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise drf_error("A valid number is required.") from None
    if not number.is_finite():
        raise drf_error("A valid number is required.")
    return number


Money = Annotated[
    Decimal,
    Field(max_digits=10, decimal_places=2, ge=Decimal(0)),
    BeforeValidator(_money),
]
