"""Fixtures every area uses: raw HTTP to the test's vault and Managed HSM, the sync SDK clients, and the shared
invariants (no real sleeping; no 500 from the emulator). Each folder's own conftest.py holds what only that area
uses; helpers to import live in the *_support.py modules beside this file (tests/README.md)."""

from __future__ import annotations

import pytest
from azure.keyvault.certificates import CertificateClient
from azure.keyvault.keys import KeyClient
from azure.keyvault.secrets import SecretClient
from tests_support import HSM, Wire

# Imported here, in the outer process, because the plugin imports kv_emulator lazily: pytester's in-process
# runs forget the modules first imported inside them, and cryptography does not survive a second import.
import kv_emulator  # noqa: F401

pytest_plugins = ["pytester"]


@pytest.fixture
def wire(keyvault) -> Wire:
    return Wire(keyvault.app)


@pytest.fixture
def hsm_wire(keyvault) -> Wire:
    """Raw HTTP to the Managed HSM ``HSM`` of the test's emulator."""
    return Wire(keyvault.app, base_url=HSM)


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
def never_a_500(keyvault):
    """Fail the test if the emulator answered any request with a 500 (a bug: bad input must get a 4xx).

    Modules whose every test must hold it say ``pytestmark = pytest.mark.usefixtures("never_a_500")``."""
    yield
    assert keyvault.requests.internal_errors() == []
    assert not keyvault.requests.filter(status=500)


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
