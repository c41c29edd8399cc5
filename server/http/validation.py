"""Typed request-body declarations: they validate input (with the reference API's messages) and
describe themselves as JSON Schema, so the OpenAPI document and the handlers share one source.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from server.errors import FieldErrors

__all__ = [
    "MAX_ID",
    "Boolean",
    "Choice",
    "DateTime",
    "DecimalNumber",
    "Email",
    "Field",
    "Integer",
    "Invalid",
    "ListOf",
    "Schema",
    "String",
    "parse_id",
]

MAX_INT = 2147483647
MAX_ID = 2**63 - 1  # ids are bigint: a larger number names nothing
REQUIRED = "This field is required."
NULL = "This field may not be null."


def parse_id(raw: object) -> int | None:
    """A positive bigint id from JSON or a URL, else None. Only ASCII digits count: ``"²"``
    passes ``str.isdigit`` but not ``int()``."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        number = raw
    elif isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 19:
        number = int(raw)
    else:
        return None
    return number if 0 < number <= MAX_ID else None


class Invalid(ValueError):
    """One field's value is unacceptable; the messages are shown to the client."""

    def __init__(self, *messages: Any) -> None:
        super().__init__(messages[0] if messages else "")
        self.messages = list(messages)


@dataclass(frozen=True, kw_only=True)
class Field:
    """One body field: required or optional, nullable or not, writable or read-only."""

    required: bool = True
    nullable: bool = False
    description: str = ""
    schema_type: ClassVar[str] = "string"

    def parse(self, value: Any) -> Any:
        raise NotImplementedError

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {
            "type": [self.schema_type, "null"] if self.nullable else self.schema_type
        }
        if self.description:
            schema["description"] = self.description
        return schema


@dataclass(frozen=True, kw_only=True)
class String(Field):
    max_length: int | None = None
    allow_blank: bool = False
    pattern: str | None = None
    pattern_message: str = "Enter a valid value."
    trim: bool = True

    def parse(self, value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
            raise Invalid("Not a valid string.")
        text = str(value).strip() if self.trim else str(value)
        if "\x00" in text:
            raise Invalid("Null characters are not allowed.")
        if not text and not self.allow_blank:
            raise Invalid("This field may not be blank.")
        if self.max_length is not None and len(text) > self.max_length:
            raise Invalid(f"Ensure this field has no more than {self.max_length} characters.")
        if text and self.pattern is not None and not re.fullmatch(self.pattern, text):
            raise Invalid(self.pattern_message)
        return text

    def json_schema(self) -> dict[str, Any]:
        schema = super().json_schema()
        if self.max_length is not None:
            schema["maxLength"] = self.max_length
        if not self.allow_blank:
            schema["minLength"] = 1
        return schema


_EMAIL = re.compile(r"^[^@\s]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")


@dataclass(frozen=True, kw_only=True)
class Email(String):
    max_length: int | None = 254

    def parse(self, value: Any) -> str:
        text = super().parse(value)
        if not _EMAIL.match(text):
            raise Invalid("Enter a valid email address.")
        return text

    def json_schema(self) -> dict[str, Any]:
        return {**super().json_schema(), "format": "email"}


@dataclass(frozen=True, kw_only=True)
class Integer(Field):
    minimum: int | None = None
    maximum: int | None = MAX_INT
    schema_type: ClassVar[str] = "integer"

    def parse(self, value: Any) -> int:
        if isinstance(value, bool):
            raise Invalid("A valid integer is required.")
        if isinstance(value, str):
            if len(value) > 1000:
                raise Invalid("String value too large.")
            value = value.strip()
        try:
            number = Decimal(str(value)) if isinstance(value, str | float) else value
            if not isinstance(number, int | Decimal) or number != int(number):
                raise Invalid("A valid integer is required.")
            result = int(number)
        except (InvalidOperation, ValueError, OverflowError):
            raise Invalid("A valid integer is required.") from None
        if self.maximum is not None and result > self.maximum:
            raise Invalid(f"Ensure this value is less than or equal to {self.maximum}.")
        if self.minimum is not None and result < self.minimum:
            raise Invalid(f"Ensure this value is greater than or equal to {self.minimum}.")
        return result

    def json_schema(self) -> dict[str, Any]:
        schema = super().json_schema()
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        return schema


@dataclass(frozen=True, kw_only=True)
class DecimalNumber(Field):
    max_digits: int = 10
    decimal_places: int = 2
    minimum: Decimal | None = None

    def parse(self, value: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise Invalid("A valid number is required.")
        if isinstance(value, str) and len(value) > 1000:
            raise Invalid("String value too large.")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise Invalid("A valid number is required.") from None
        if not number.is_finite():
            raise Invalid("A valid number is required.")
        _, digits, exponent = number.as_tuple()
        assert isinstance(exponent, int)
        if exponent >= 0:
            whole, decimals = len(digits) + exponent, 0
        else:
            decimals = -exponent
            whole = max(len(digits) - decimals, 0)
        if whole + decimals > self.max_digits:
            raise Invalid(f"Ensure that there are no more than {self.max_digits} digits in total.")
        if decimals > self.decimal_places:
            raise Invalid(
                f"Ensure that there are no more than {self.decimal_places} decimal places."
            )
        if whole > self.max_digits - self.decimal_places:
            raise Invalid(
                f"Ensure that there are no more than {self.max_digits - self.decimal_places} "
                "digits before the decimal point."
            )
        if self.minimum is not None and number < self.minimum:
            raise Invalid(f"Ensure this value is greater than or equal to {self.minimum}.")
        return number.quantize(Decimal(1).scaleb(-self.decimal_places))

    def json_schema(self) -> dict[str, Any]:
        schema = super().json_schema()
        schema["type"] = ["string", "null"] if self.nullable else "string"
        schema["format"] = "decimal"
        whole, places = self.max_digits - self.decimal_places, self.decimal_places
        schema["pattern"] = rf"^-?\d{{0,{whole}}}(?:\.\d{{0,{places}}})?$"
        return schema


DATETIME_FORMAT_MESSAGE = (
    "Datetime has wrong format. Use one of these formats instead: "
    "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
)


@dataclass(frozen=True, kw_only=True)
class DateTime(Field):
    def parse(self, value: Any) -> datetime:
        if not isinstance(value, str) or len(value) > 64:
            raise Invalid(DATETIME_FORMAT_MESSAGE)
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise Invalid(DATETIME_FORMAT_MESSAGE) from None
        # A naive time is taken as UTC, the reference's time zone.
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
        try:
            return moment.astimezone(UTC)
        except OverflowError:  # e.g. 9999-12-31T23:59-14:00: past year 9999 once in UTC
            raise Invalid(DATETIME_FORMAT_MESSAGE) from None

    def json_schema(self) -> dict[str, Any]:
        return {**super().json_schema(), "format": "date-time"}


@dataclass(frozen=True, kw_only=True)
class Choice(Field):
    choices: tuple[str, ...] = ()

    def parse(self, value: Any) -> str:
        if not isinstance(value, str) or value not in self.choices:
            shown = value if isinstance(value, str | int | float) else str(value)
            raise Invalid(f'"{shown}" is not a valid choice.')
        return value

    def json_schema(self) -> dict[str, Any]:
        schema = super().json_schema()
        schema["enum"] = [*self.choices, None] if self.nullable else list(self.choices)
        return schema


_TRUE = {True, "true", "True", "TRUE", "1", "yes", "on"}
_FALSE = {False, "false", "False", "FALSE", "0", "no", "off"}


@dataclass(frozen=True, kw_only=True)
class Boolean(Field):
    schema_type: ClassVar[str] = "boolean"

    def parse(self, value: Any) -> bool:
        if isinstance(value, str | int | bool) and value in _TRUE:
            return True
        if isinstance(value, str | int | bool) and value in _FALSE:
            return False
        raise Invalid("Must be a valid boolean.")


@dataclass(frozen=True, kw_only=True)
class ListOf(Field):
    item: Schema
    allow_empty: bool = True
    max_items: int | None = None
    schema_type: ClassVar[str] = "array"

    def parse(self, value: Any) -> list[dict[str, Any]]:
        if not isinstance(value, list):
            raise Invalid(f'Expected a list of items but got type "{_json_type(value)}".')
        if not value and not self.allow_empty:
            raise Invalid("This list may not be empty.")
        if self.max_items is not None and len(value) > self.max_items:
            raise Invalid(f"Ensure this field has no more than {self.max_items} elements.")
        parsed: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        failed = False
        for entry in value:
            try:
                parsed.append(self.item.validate(entry))
                errors.append({})
            except FieldErrors as exc:
                errors.append(exc.errors)
                failed = True
        if failed:
            raise Invalid(*errors)
        return parsed

    def json_schema(self) -> dict[str, Any]:
        schema = super().json_schema()
        schema["items"] = self.item.json_schema()
        if not self.allow_empty:
            schema["minItems"] = 1
        if self.max_items is not None:
            schema["maxItems"] = self.max_items
        return schema


def _json_type(value: Any) -> str:
    names = {
        dict: "dict",
        str: "str",
        int: "int",
        float: "float",
        bool: "bool",
        type(None): "NoneType",
    }
    return names.get(type(value), type(value).__name__)


ObjectCheck = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Schema:
    """A JSON object's writable fields, read-only fields (ignored on input) and its checks."""

    fields: Mapping[str, Field]
    read_only: Mapping[str, Field] = field(default_factory=dict)
    name: str = ""

    def validate(self, data: Any, *, partial: bool = False) -> dict[str, Any]:
        """The accepted values (only those present when ``partial``); else FieldErrors."""
        if not isinstance(data, dict):
            raise FieldErrors(
                {
                    "non_field_errors": [
                        f"Invalid data. Expected a dictionary, but got {_json_type(data)}."
                    ]
                }
            )
        values: dict[str, Any] = {}
        errors: dict[str, list[Any]] = {}
        for name, spec in self.fields.items():
            if name not in data:
                if spec.required and not partial:
                    errors[name] = [REQUIRED]
                continue
            raw = data[name]
            if raw is None:
                if spec.nullable:
                    values[name] = None
                else:
                    errors[name] = [NULL]
                continue
            try:
                values[name] = spec.parse(raw)
            except Invalid as exc:
                errors[name] = exc.messages
        if errors:
            raise FieldErrors(errors)
        return values

    def json_schema(self) -> dict[str, Any]:
        properties = {name: spec.json_schema() for name, spec in self.fields.items()}
        for name, spec in self.read_only.items():
            properties[name] = {**spec.json_schema(), "readOnly": True}
        required = [name for name, spec in self.fields.items() if spec.required]
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            schema["required"] = required
        return schema
