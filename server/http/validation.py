"""Validating input against its declaration (a pydantic model), answering as the reference API
does: every faulty field at once, in DRF's words (``{"field": ["message", ...]}``, lists of
items as lists of per-item errors)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError, create_model
from pydantic.fields import FieldInfo

from server.errors import FieldErrors, NotFound
from server.http.fields import DATETIME_FORMAT_MESSAGE, MAX_ID, PATTERN_MESSAGES, Says

__all__ = ["MAX_ID", "parse_body", "parse_id", "parse_query", "partial"]

Model = TypeVar("Model", bound=BaseModel)

# pydantic's error type -> DRF's message ({name}s from the error's context and input).
MESSAGES = {
    "greater_than_equal": "Ensure this value is greater than or equal to {ge}.",
    "less_than_equal": "Ensure this value is less than or equal to {le}.",
    "string_too_short": "This field may not be blank.",
    "string_too_long": "Ensure this field has no more than {max_length} characters.",
    "string_type": "Not a valid string.",
    "too_short": "This list may not be empty.",  # of a list (text: string_too_short)
    "too_long": "Ensure this field has no more than {max_length} elements.",
    "list_type": 'Expected a list of items but got type "{kind}".',
    "literal_error": '"{input}" is not a valid choice.',
    "bool_type": "Must be a valid boolean.",
    "bool_parsing": "Must be a valid boolean.",
    "model_type": "Invalid data. Expected a dictionary, but got {kind}.",
    "model_attributes_type": "Invalid data. Expected a dictionary, but got {kind}.",
    "decimal_max_digits": "Ensure that there are no more than {max_digits} digits in total.",
    "decimal_max_places": "Ensure that there are no more than {decimal_places} decimal places.",
    "decimal_whole_digits": (
        "Ensure that there are no more than {whole_digits} digits before the decimal point."
    ),
}
# Families of errors that have one message each.
BY_PREFIX = {
    "int_": "A valid integer is required.",
    "decimal_": "A valid number is required.",
    "datetime_": DATETIME_FORMAT_MESSAGE,
}
_JSON_TYPES = {dict: "dict", str: "str", int: "int", float: "float", bool: "bool"}


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


def parse_body(model: type[Model], data: dict[str, Any]) -> Model:
    """``data`` as ``model``; else FieldErrors in DRF's shape."""
    try:
        return model.__pydantic_validator__.validate_python(data)  # type: ignore[no-any-return]
    except ValidationError as exc:
        raise FieldErrors(_field_errors(model, exc, data)) from None


def parse_query(model: type[Model], query: Mapping[str, str]) -> Model:
    """A query string as ``model`` (an empty value counts as absent). A bad ``page`` is 404
    "Invalid page.", as the reference answers; other faults are FieldErrors."""
    values = {name: value for name, value in query.items() if value != ""}
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        if any(error["loc"][:1] == ("page",) for error in exc.errors()):
            raise NotFound("Invalid page.") from None
        raise FieldErrors(_field_errors(model, exc, values)) from None


@functools.cache
def partial(model: type[Model]) -> type[Model]:
    """``model`` with every field optional (PATCH): only those sent are set and validated."""
    fields: dict[str, Any] = {
        name: (info.annotation, FieldInfo.merge_field_infos(info, default=None))
        for name, info in model.model_fields.items()
    }
    patch: type[Model] = create_model(
        model.__name__.removesuffix("In") + "Patch",
        __base__=model,
        __module__=model.__module__,
        __config__=None,
        **fields,
    )
    patch.model_config["json_schema_extra"] = _without_defaults
    patch.model_rebuild(force=True)
    return patch


def _without_defaults(schema: dict[str, Any]) -> None:
    """A field left out of a PATCH keeps its value: it has no default to show."""
    for field_schema in schema.get("properties", {}).values():
        field_schema.pop("default", None)


def _field_errors(model: type[BaseModel], exc: ValidationError, data: Any) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    for error in exc.errors(include_url=False):
        loc = error["loc"]
        message = _message(model, error)
        name = str(loc[0])
        if len(loc) == 1:
            errors.setdefault(name, []).append(message)
            continue
        if isinstance(loc[1], str):  # a field of a nested object: its errors by field
            nested = errors.setdefault(name, {})
            nested.setdefault(str(loc[1]), []).append(message)
            continue
        # An item of a list: the list's errors are one dict per item ({} when it is fine).
        sent = data.get(name) if isinstance(data, dict) else None
        items = errors.setdefault(name, [{} for _ in sent or ()])
        index = int(loc[1])
        key = str(loc[2]) if len(loc) > 2 else "non_field_errors"
        items[index].setdefault(key, []).append(message)
    return errors


def _message(model: type[BaseModel], error: Any) -> str:
    kind, context, sent = error["type"], error.get("ctx") or {}, error.get("input")
    if kind == "missing":
        return "This field is required."
    if sent is None:
        return "This field may not be null."
    says = _says(model, error["loc"])
    if says is not None:
        return says.message.format(input=sent)
    if kind == "drf":
        return str(error["msg"])
    if kind == "string_pattern_mismatch":
        return PATTERN_MESSAGES.get(context.get("pattern", ""), "Enter a valid value.")
    template = MESSAGES.get(kind) or next(
        (text for prefix, text in BY_PREFIX.items() if kind.startswith(prefix)), None
    )
    if template is None:
        return str(error["msg"])
    shown = sent if isinstance(sent, str | int | float) else str(sent)
    kind_of = _JSON_TYPES.get(type(sent), type(sent).__name__)
    return template.format(**context, input=shown, kind=kind_of)


def _says(model: type[BaseModel], loc: tuple[int | str, ...]) -> Says | None:
    """The field's own message, for a field of ``model`` itself (query filters)."""
    if len(loc) != 1 or loc[0] not in model.model_fields:
        return None
    metadata = model.model_fields[str(loc[0])].metadata
    return next((item for item in metadata if isinstance(item, Says)), None)
