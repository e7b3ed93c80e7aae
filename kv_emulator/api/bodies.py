"""Reading request bodies: typed fields with the service's 400 for a wrong type.

Each reader returns the value, or ``...`` (Ellipsis) when the field is absent, so handlers can tell
"not given" from an explicit ``null``.
"""

from __future__ import annotations

from typing import Any

from ..errors import BadParameter

__all__ = ["MISSING", "read_attributes", "read_bool", "read_int", "read_str", "read_tags"]

MISSING: Any = ...


def _invalid(name: str) -> BadParameter:
    # The service's pattern for invalid properties ("Property has invalid value"); with a name, unverified.
    return BadParameter(f"Property {name} has invalid value\r\n")


def read_str(body: dict[str, Any], name: str, *, required: bool = False) -> Any:
    if name not in body or (body[name] is None and not required):
        if required:
            # Unverified text.
            raise BadParameter(f"Property {name} is required\r\n")
        return MISSING if name not in body else None
    value = body[name]
    if not isinstance(value, str):
        raise _invalid(name)
    return value


def read_bool(body: dict[str, Any], name: str) -> Any:
    if name not in body:
        return MISSING
    value = body[name]
    if value is not None and not isinstance(value, bool):
        raise _invalid(name)
    return value


def read_int(body: dict[str, Any], name: str) -> Any:
    """Unix-time attributes: integers (a float with no fraction is accepted, as JSON has one number type)."""
    if name not in body:
        return MISSING
    value = body[name]
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**53:
        raise _invalid(name)
    return value


def read_tags(body: dict[str, Any]) -> Any:
    if "tags" not in body:
        return MISSING
    tags = body["tags"]
    if tags is None:
        return {}
    if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
        raise _invalid("tags")
    return tags


def read_attributes(body: dict[str, Any]) -> dict[str, Any]:
    """``attributes`` as a dict of the fields given (``enabled``, ``nbf``, ``exp``); read-only ones ignored."""
    if "attributes" not in body or body["attributes"] is None:
        return {}
    attributes = body["attributes"]
    if not isinstance(attributes, dict):
        raise _invalid("attributes")
    given = {
        "enabled": read_bool(attributes, "enabled"),
        "not_before": read_int(attributes, "nbf"),
        "expires": read_int(attributes, "exp"),
    }
    return {k: v for k, v in given.items() if v is not MISSING}
