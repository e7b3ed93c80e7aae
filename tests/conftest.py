"""Shared test helpers: raw HTTP against the emulator's WSGI app (each emulator start clears the SDK's
challenge cache itself: kv_emulator/sdk_cache.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from azure.keyvault.certificates import CertificateClient
from azure.keyvault.keys import KeyClient
from azure.keyvault.secrets import SecretClient
from werkzeug.test import Client

# Imported here, in the outer process, because the plugin imports kv_emulator lazily: pytester's in-process
# runs forget the modules first imported inside them, and cryptography does not survive a second import.
import kv_emulator  # noqa: F401

pytest_plugins = ["pytester"]

VAULT = "https://kv-emulator.vault.azure.net"
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


@pytest.fixture
def wire(keyvault) -> Wire:
    return Wire(keyvault.app)


@pytest.fixture
def wire_for():
    """Build a :class:`Wire` for any emulator's app (``wire_for(emulator.app, base_url=...)``)."""
    return Wire


@pytest.fixture
def no_real_sleep(monkeypatch):
    """Fail the test if anything sleeps for real (sync or async): virtual time must not wait."""
    import asyncio
    import time

    def refuse(seconds, *args, **kwargs):
        raise AssertionError(f"slept {seconds}s of wall time")

    async def refuse_async(seconds, *args, **kwargs):
        if seconds:  # asyncio.sleep(0) is a plain yield to the event loop
            raise AssertionError(f"slept {seconds}s of wall time")

    monkeypatch.setattr(time, "sleep", refuse)
    monkeypatch.setattr(asyncio, "sleep", refuse_async)


@pytest.fixture
def secrets(keyvault):
    """A sync ``SecretClient`` on the test's vault."""
    return SecretClient(keyvault.vault_url, keyvault.credential)


@pytest.fixture
def keys(keyvault):
    """A sync ``KeyClient`` on the test's vault."""
    return KeyClient(keyvault.vault_url, keyvault.credential)


@pytest.fixture
def certificates(keyvault):
    """A sync ``CertificateClient`` on the test's vault."""
    return CertificateClient(keyvault.vault_url, keyvault.credential)
