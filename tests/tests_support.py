"""Helpers shared by the tests: raw HTTP to an emulator's app, assertions, waiting on background work, plugin
switches, test certificates (importable from every folder: pyproject.toml puts tests/ on ``pythonpath``)."""

from __future__ import annotations

import datetime
import json
import time
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID
from werkzeug.test import Client

VAULT = "https://kv-emulator.vault.azure.net"
HSM = "https://kv-emulator-hsm.managedhsm.azure.net"  # the host of the ``hsm_wire`` fixture
TOKEN = {"Authorization": "Bearer test-token"}


class Wire:
    """Raw HTTP to an emulator's WSGI app, as a client on ``base_url`` would send it."""

    def __init__(self, app: Any, base_url: str = VAULT) -> None:
        self.client = Client(app)
        self.base_url = base_url

    def request(
        self,
        method: str,
        path: str,
        *,
        api_version: str | None = "2026-04-01",
        token: bool = True,
        body: Any = None,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ):
        all_headers = dict(TOKEN if token else {})
        all_headers.update(headers or {})
        if api_version is not None:
            path += ("&" if "?" in path else "?") + f"api-version={api_version}"
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        if data is not None:
            all_headers.setdefault("Content-Type", "application/json")
        return self.client.open(path, method=method, base_url=self.base_url, headers=all_headers, data=data)

    def __getattr__(self, method: str):
        return lambda path, **kw: self.request(method.upper(), path, **kw)


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
