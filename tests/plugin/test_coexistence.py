"""The emulator beside other HTTP mocks (requests-mock), and the decorator form with ``current()``."""

from __future__ import annotations

import pytest
import requests
from azure.keyvault.secrets import SecretClient

import kv_emulator

requests_mock = pytest.importorskip("requests_mock")


def test_vault_calls_reach_the_emulator_while_a_requests_mock_mocker_is_active(keyvault):
    with requests_mock.Mocker() as mocker:
        mocker.get("https://api.example.com/orders", json={"orders": 3})
        client = SecretClient(keyvault.vault_url, keyvault.credential)
        client.set_secret("db-password", "hunter2")
        assert client.get_secret("db-password").value == "hunter2"
        assert requests.get("https://api.example.com/orders", timeout=5).json() == {"orders": 3}
        with pytest.raises(requests_mock.NoMockAddress):  # everything else is still the mocker's
            requests.get("https://api.example.com/unregistered", timeout=5)
    assert [entry.operation for entry in keyvault.requests if not entry.challenged] == ["SetSecret", "GetSecret"]


def test_a_mocker_started_before_the_emulator_works_too():
    with requests_mock.Mocker() as mocker, kv_emulator.emulate() as kv:
        mocker.get("https://api.example.com/x", text="mocked")
        SecretClient(kv.vault_url, kv.credential).set_secret("s", "v")
        assert requests.get("https://api.example.com/x", timeout=5).text == "mocked"


def test_after_the_emulator_stops_the_mocker_refuses_vault_urls_again():
    with kv_emulator.emulate():
        pass
    with requests_mock.Mocker(), pytest.raises(requests_mock.NoMockAddress):
        requests.get("https://kv-emulator.vault.azure.net/secrets/s?api-version=7.5", timeout=5)


@kv_emulator.emulate(soft_delete_retention_in_days=7)
def test_the_decorator_form_reaches_its_emulator_with_current():
    kv = kv_emulator.current()
    assert kv is not None and kv.settings.soft_delete_retention_in_days == 7
    client = SecretClient(kv.vault_url, kv.credential)
    assert client.set_secret("s", "v").properties.recoverable_days == 7


def test_current_is_the_innermost_running_emulator():
    assert kv_emulator.current() is None
    with kv_emulator.emulate() as outer:
        assert kv_emulator.current() is outer
        with kv_emulator.emulate() as inner:
            assert kv_emulator.current() is inner
        assert kv_emulator.current() is outer
