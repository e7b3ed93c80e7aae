"""Session mode: Key Vault is emulated for the whole run, with no fixture in the tests.

Run with any of::

    python -m pytest --kv-intercept=session examples/test_session_mode.py
    PYTEST_KV_INTERCEPT=session python -m pytest examples/test_session_mode.py
    python -m pytest -o kv_intercept=session examples/test_session_mode.py   # or kv_intercept in pytest.ini

For suites whose code under test builds its own ``SecretClient`` with its own credential, deep inside. In
session mode the emulator accepts any bearer token, so that credential only has to hand the SDK one.
One emulator serves the whole run: tests share its vaults, so give each test its own secret names.
"""

from __future__ import annotations

import time

import pytest
from azure.core.credentials import AccessToken
from azure.keyvault.secrets import SecretClient

# -- the code under test (in a real project: your application package) ------------------------------


class StaticTokenCredential:
    """A tiny ``TokenCredential``: any bearer token will do for the emulator."""

    def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        return AccessToken("any-token", int(time.time()) + 3600)


VAULT_URL = "https://orders-app.vault.azure.net"


def database_url() -> str:
    client = SecretClient(VAULT_URL, StaticTokenCredential())
    password = client.get_secret("db-password").value
    return f"postgresql://orders:{password}@db.internal/orders"


def rotate_api_key(new_key: str) -> str:
    client = SecretClient(VAULT_URL, StaticTokenCredential())
    return client.set_secret("api-key", new_key).properties.version or ""


# -- the tests ----------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _session_mode_only(keyvault_session):
    """Skip (instead of calling the real Azure) when session mode is off."""


def test_the_application_reads_its_password():
    # Seed through the SDK like any other code would; no fixture needed for that.
    SecretClient(VAULT_URL, StaticTokenCredential()).set_secret("db-password", "hunter2")
    assert database_url() == "postgresql://orders:hunter2@db.internal/orders"


def test_the_application_writes_and_the_test_inspects(keyvault_session):
    version = rotate_api_key("k-2")
    # keyvault_session is the session's emulator: seed, inspect or read its journal directly.
    stored = keyvault_session.vault(VAULT_URL).secrets.get("api-key")
    assert (stored.payload.value, stored.version) == ("k-2", version)
    assert keyvault_session.requests.last is not None
    assert keyvault_session.requests.last.operation == "SetSecret"


def test_a_test_can_still_have_its_own_emulator(keyvault, keyvault_session):
    # The keyvault fixture's emulator, started last, answers this test's requests; the session's sees none.
    before = len(keyvault_session.requests)
    SecretClient(VAULT_URL, StaticTokenCredential()).set_secret("db-password", "only-in-this-test")
    assert keyvault.vault(VAULT_URL).secrets.get("db-password").payload.value == "only-in-this-test"
    assert len(keyvault_session.requests) == before
