"""Assertion helpers shared by the tests (importable: pytest puts tests/ on sys.path)."""

from __future__ import annotations

import time
from typing import Any


def error_of(response: Any) -> dict[str, Any]:
    """The ``error`` object of a Key Vault error body, asserting the shape."""
    body = response.get_json()
    assert set(body) == {"error"}, body
    return body["error"]


def wait_until(condition: Any, timeout: float = 30.0, what: str = "the condition") -> None:
    """Poll ``condition()`` until it is true, failing after ``timeout`` seconds (for background workers)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout} s"
        time.sleep(0.02)


def switch_on(how: str, pytester: Any, monkeypatch: Any, *, flag: str, env: tuple[str, str], ini: str) -> list[str]:
    """Turn a plugin setting on one of its three ways (``how``: "cli", "env" or "ini"); the pytest arguments."""
    if how == "cli":
        return [flag]
    if how == "env":
        monkeypatch.setenv(*env)
    else:
        pytester.makeini(f"[pytest]\n{ini}\n")
    return []
