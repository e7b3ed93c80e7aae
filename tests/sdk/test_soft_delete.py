"""Vault settings and the soft-delete lifecycle, on the emulator's clock."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.keyvault.secrets import SecretClient


@pytest.fixture
def client(keyvault):
    return SecretClient(keyvault.vault_url, keyvault.credential)


@pytest.mark.parametrize(
    ("options", "level", "days"),
    [
        ({}, "Recoverable+Purgeable", 90),
        ({"soft_delete_retention_in_days": 7}, "CustomizedRecoverable+Purgeable", 7),
        ({"soft_delete_retention_in_days": 89}, "CustomizedRecoverable+Purgeable", 89),
        ({"enable_purge_protection": True}, "Recoverable", 90),
        ({"enable_purge_protection": True, "soft_delete_retention_in_days": 30}, "CustomizedRecoverable", 30),
        ({"enable_soft_delete": False}, "Purgeable", 0),
    ],
)
def test_recovery_level_and_days_follow_the_vault_settings(wire_for, options, level, days):
    import kv_emulator

    emulator = kv_emulator.Emulator(**options)
    wire = wire_for(emulator.app)
    attributes = wire.put("/secrets/s", body={"value": "v"}).get_json()["attributes"]
    assert (attributes["recoveryLevel"], attributes["recoverableDays"]) == (level, days)


@pytest.mark.keyvault(soft_delete_retention_in_days=7)
def test_deleted_secret_is_purged_when_its_date_passes(client, keyvault):
    client.set_secret("s", "v")
    deleted = client.begin_delete_secret("s").result()
    assert deleted.scheduled_purge_date - deleted.deleted_date == timedelta(days=7)
    keyvault.clock.advance(days=6, hours=23)
    assert client.get_deleted_secret("s").name == "s"
    keyvault.clock.advance(hours=1)
    with pytest.raises(ResourceNotFoundError):
        client.get_deleted_secret("s")
    assert list(client.list_deleted_secrets()) == []
    assert client.set_secret("s", "new name, same secret").value == "new name, same secret"


@pytest.mark.keyvault(enable_purge_protection=True)
def test_purge_protection_refuses_purge_like_the_service(client, keyvault):
    client.set_secret("s", "v")
    client.begin_delete_secret("s").wait()
    with pytest.raises(HttpResponseError) as refused:
        client.purge_deleted_secret("s")
    assert refused.value.status_code == 403
    assert refused.value.error.code == "Forbidden"
    assert refused.value.error.message == (
        'Operation "purge" is not allowed because purge protection is enabled for this vault. Key Vault service '
        "will automatically purge it after the retention period has passed.\r\nVault: kv-emulator;location=westus"
    )
    assert client.get_deleted_secret("s").name == "s"
    keyvault.clock.advance(days=90)
    with pytest.raises(ResourceNotFoundError):
        client.get_deleted_secret("s")


@pytest.mark.keyvault(enable_soft_delete=False)
def test_without_soft_delete_delete_is_final(client, keyvault, monkeypatch):
    monkeypatch.setattr(time, "sleep", lambda s: pytest.fail("the poller slept"))
    client.set_secret("s", "v")
    deleted = client.begin_delete_secret("s").result()
    assert deleted.recovery_id is None and deleted.scheduled_purge_date is None
    assert keyvault.requests.operations()[-1] == "DeleteSecret"  # no recoveryId: the SDK does not poll
    with pytest.raises(ResourceNotFoundError):
        client.get_deleted_secret("s")
    client.set_secret("s", "reused at once")


def test_invalid_settings_are_refused_clearly():
    import kv_emulator

    with pytest.raises(ValueError, match="between 7 and 90"):
        kv_emulator.Emulator(soft_delete_retention_in_days=6)
    with pytest.raises(ValueError, match="requires enable_soft_delete"):
        kv_emulator.Emulator(enable_soft_delete=False, enable_purge_protection=True)
    with pytest.raises(TypeError, match="unknown kv-emulator option"):
        kv_emulator.Emulator(soft_delete=True)
    with pytest.raises(TypeError, match="expects true or false"):
        kv_emulator.Emulator(enable_soft_delete="maybe")
