"""The guard: nothing reaches a real Azure host by accident (docs/in-your-project.md, "The guard").

In a project, turn it on for the whole run with ``kv_guard = true`` in the ini file (this repository does),
``--kv-guard`` or ``PYTEST_KV_GUARD=1``. Here ``Guard()`` turns it on for one block, so the example shows
the same thing however it is run.
"""

from __future__ import annotations

import pytest
import requests
from azure.core.credentials import AccessToken
from azure.keyvault.secrets import SecretClient

import kv_emulator
from kv_emulator.guard import EmulatorNotActive, Guard


class AppCredential:
    def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        return AccessToken("app-token", 4102444800)


def test_without_an_emulator_a_vault_call_fails_at_once():
    client = SecretClient("https://orders-prod.vault.azure.net", AppCredential())
    with Guard(), pytest.raises(EmulatorNotActive) as caught:
        client.get_secret("db-password")
    assert str(caught.value).startswith("kv-emulator is not active for https://orders-prod.vault.azure.net/")
    assert str(caught.value).endswith(": use the keyvault fixture or --kv-intercept=session")


def test_a_near_miss_fails_even_while_an_emulator_runs():
    with Guard(), kv_emulator.emulate(), pytest.raises(EmulatorNotActive, match="not a Key Vault URL"):
        requests.get("https://orders-prod.vault.azure.com/secrets/db-password", timeout=5)  # .com, not .net


def test_with_the_fixture_everything_works(keyvault):
    with Guard():
        client = SecretClient("https://orders-prod.vault.azure.net", keyvault.credential)
        client.set_secret("db-password", "hunter2")
        assert client.get_secret("db-password").value == "hunter2"
