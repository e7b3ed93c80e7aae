"""Helpers shared by the tests: assertions, waiting on background work, plugin switches, test certificates
(importable: pytest puts tests/ on sys.path)."""

from __future__ import annotations

import datetime
import time
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID


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


def self_signed(key: Any, common_name: str, *, days: int = 30) -> Any:
    """A self-signed certificate for ``key`` (valid from a day ago for ``days`` days), as a user would import."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
