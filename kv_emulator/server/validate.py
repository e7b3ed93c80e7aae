"""Check a ``/_kv/`` request body against its schema in the OpenAPI document, in plain words.

The same schemas describe the API (``/_kv/openapi.json``) and guard it, so the two cannot drift. Only the
part of JSON Schema the document uses is understood: ``type`` (with ``nullable``), ``enum``, ``minimum``,
``maximum``, ``minLength``, ``pattern``, ``properties``, ``required``, ``additionalProperties``, ``minProperties``,
``items``, ``anyOf`` and the ``date-time`` format. A problem is a :class:`BodyError` naming the field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

__all__ = ["BodyError", "check", "parse_time"]

_TYPE_WORDS = {
    "object": "a JSON object",
    "array": "a list",
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
}
_RFC3339 = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?$")


class BodyError(ValueError):
    """A request body that does not fit its route: the message names the field and what it should be."""


def _shown(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _name(path: str) -> str:
    return f"{path!r}" if path else "the body"


def _is(value: Any, kind: str) -> bool:
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return False


def parse_time(text: str) -> datetime:
    """An RFC 3339 date-time (``2030-01-01T00:00:00Z``); no offset means UTC."""
    match = _RFC3339.match(text)
    if not match:
        raise BodyError(f"{text!r} is not a date and time such as 2030-01-01T00:00:00Z")
    try:
        value = datetime.fromisoformat(text[:10] + "T" + text[11:].upper().replace("Z", "+00:00"))
    except ValueError:
        raise BodyError(f"{text!r} is not a date and time such as 2030-01-01T00:00:00Z") from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def check(value: Any, schema: Mapping[str, Any], path: str = "") -> None:
    """Raise :class:`BodyError` for the first way ``value`` does not fit ``schema``."""
    if value is None and schema.get("nullable"):
        return
    if "anyOf" in schema:
        _check_any(value, schema, path)
        return
    kind = schema.get("type")
    if kind is not None and not _is(value, kind):
        words = _TYPE_WORDS[kind] + (" or null" if schema.get("nullable") else "")
        raise BodyError(f"{_name(path)} must be {words}, got {_shown(value)}")
    if "enum" in schema and value not in schema["enum"]:
        choices = ", ".join(_shown(choice) for choice in schema["enum"])
        raise BodyError(f"{_name(path)} must be one of {choices}, got {_shown(value)}")
    if kind in ("integer", "number"):
        _check_range(value, schema, path)
    elif kind == "string":
        _check_string(value, schema, path)
    elif kind == "array":
        for index, item in enumerate(value):
            check(item, schema.get("items", {}), f"{path}[{index}]")
    elif kind == "object":
        _check_object(value, schema, path)


def _check_any(value: Any, schema: Mapping[str, Any], path: str) -> None:
    for option in schema["anyOf"]:
        try:
            check(value, option, path)
        except BodyError:
            continue
        return
    raise BodyError(f"{_name(path)} must be {schema.get('description', 'something else')}, got {_shown(value)}")


def _check_range(value: float, schema: Mapping[str, Any], path: str) -> None:
    low, high = schema.get("minimum"), schema.get("maximum")
    if value != value or value in (float("inf"), float("-inf")):
        raise BodyError(f"{_name(path)} must be a finite number")
    if (low is None or value >= low) and (high is None or value <= high):
        return
    if low is not None and high is not None and high <= 1_000_000:
        bounds = f"between {low} and {high}"
    else:
        bounds = f"at least {low}" if low is not None and value < low else f"at most {high}"
    raise BodyError(f"{_name(path)} must be {bounds}, got {_shown(value)}")


def _check_string(value: str, schema: Mapping[str, Any], path: str) -> None:
    if len(value) < schema.get("minLength", 0):
        raise BodyError(f"{_name(path)} must not be empty")
    if len(value) > schema.get("maxLength", 10_000):
        raise BodyError(f"{_name(path)} is longer than {schema.get('maxLength', 10_000)} characters")
    if "pattern" in schema and not re.search(schema["pattern"], value):
        raise BodyError(f"{_name(path)} must be {schema.get('description', 'of another form')}, got {_shown(value)}")
    if schema.get("format") == "date-time":
        try:
            parse_time(value)
        except BodyError as exc:
            raise BodyError(f"{_name(path)}: {exc}") from None


def _check_object(value: dict[str, Any], schema: Mapping[str, Any], path: str) -> None:
    properties: Mapping[str, Any] = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    prefix = f"{path}." if path else ""
    if extra is False:
        unknown = sorted(set(value) - set(properties))
        if unknown:
            names = ", ".join(repr(name) for name in unknown)
            known = ", ".join(properties) or "no fields"
            where = f" in {path!r}" if path else ""
            raise BodyError(f"unknown field{'s' if len(unknown) > 1 else ''} {names}{where}; known: {known}")
    missing = [name for name in schema.get("required", ()) if name not in value]
    if missing:
        raise BodyError(f"missing field {prefix}{missing[0]!r}".replace(f"{prefix}'", f"'{prefix}"))
    if len(value) < schema.get("minProperties", 0):
        raise BodyError(f"{_name(path)} needs at least one of: {', '.join(properties)}")
    for name, item in value.items():
        if name in properties:
            check(item, properties[name], f"{prefix}{name}")
        elif isinstance(extra, Mapping):
            check(item, extra, f"{prefix}{name}")
