"""kv-emulator beside requests-mock, and the decorator form with ``kv_emulator.current()``.

With a ``requests_mock.Mocker`` active, the URLs the emulator answers (vaults, Entra ID, IMDS) still reach
the emulator; every other URL is the mocker's, registered or refused as usual. Nothing to configure.
"""

from __future__ import annotations

import requests
import requests_mock
from azure.keyvault.secrets import SecretClient

import kv_emulator


def test_requests_mock_and_the_emulator_side_by_side(keyvault):
    with requests_mock.Mocker() as mocker:
        mocker.get("https://api.example.com/rates", json={"eur": 1.1})
        client = SecretClient(keyvault.vault_url, keyvault.credential)
        client.set_secret("api-key", "k-123")
        assert client.get_secret("api-key").value == "k-123"  # answered by the emulator
        assert requests.get("https://api.example.com/rates", timeout=5).json() == {"eur": 1.1}  # by the mocker


@kv_emulator.emulate(soft_delete_retention_in_days=7)
def test_the_decorator_form():
    kv = kv_emulator.current()  # the running emulator, with no ``as`` name to bind
    assert kv is not None
    client = SecretClient(kv.vault_url, kv.credential)
    assert client.set_secret("s", "v").properties.recoverable_days == 7
