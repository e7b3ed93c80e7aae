"""Assertion helpers shared by the tests (importable: pytest puts tests/ on sys.path)."""

from __future__ import annotations

from typing import Any


def error_of(response: Any) -> dict[str, Any]:
    """The ``error`` object of a Key Vault error body, asserting the shape."""
    body = response.get_json()
    assert set(body) == {"error"}, body
    return body["error"]
