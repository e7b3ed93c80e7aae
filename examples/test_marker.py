"""The ``@pytest.mark.keyvault(...)`` marker: vault properties and emulator switches for one test.

Run with ``python -m pytest examples/test_marker.py``. The marker takes the names of
:class:`kv_emulator.Settings` (the same names ``kv_emulator.emulate(...)`` takes); a marker on a test
overrides one on its class or module.
"""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.keyvault.secrets import SecretClient

# Every test in this module gets a 7-day retention unless its own marker says otherwise.
pytestmark = pytest.mark.keyvault(soft_delete_retention_in_days=7)


@pytest.fixture
def client(keyvault) -> SecretClient:
    return SecretClient(keyvault.vault_url, keyvault.credential)


def test_a_deleted_secret_is_purged_when_its_retention_has_passed(keyvault, client):
    client.set_secret("old-token", "v1")
    deleted = client.begin_delete_secret("old-token").result()
    assert deleted.properties.recovery_level == "CustomizedRecoverable+Purgeable"
    assert deleted.properties.recoverable_days == 7
    assert deleted.deleted_date is not None and deleted.scheduled_purge_date is not None
    assert (deleted.scheduled_purge_date - deleted.deleted_date).days == 7

    keyvault.clock.advance(days=6)
    assert client.get_deleted_secret("old-token").name == "old-token"  # still recoverable

    keyvault.clock.advance(days=2)  # 8 days after the delete: the service has purged it
    with pytest.raises(ResourceNotFoundError):
        client.get_deleted_secret("old-token")
    assert list(client.list_deleted_secrets()) == []
    client.set_secret("old-token", "v2")  # and the name can be used again


@pytest.mark.keyvault(soft_delete_retention_in_days=90)  # the closest marker wins
def test_the_default_retention_is_90_days(client):
    secret = client.set_secret("a", "1")
    assert secret.properties.recovery_level == "Recoverable+Purgeable"
    assert secret.properties.recoverable_days == 90


@pytest.mark.keyvault(enable_soft_delete=False)
def test_without_soft_delete_a_delete_is_final(keyvault, client):
    client.set_secret("temp", "1")
    assert client.get_secret("temp").properties.recovery_level == "Purgeable"

    deleted = client.begin_delete_secret("temp").result()
    assert deleted.recovery_id is None  # nothing to recover, so the poller is done at once
    with pytest.raises(ResourceNotFoundError):
        client.get_deleted_secret("temp")
    assert "temp" not in keyvault.vault().secrets


@pytest.mark.keyvault(enable_purge_protection=True)
def test_purge_protection_refuses_purge_until_retention_passes(keyvault, client):
    client.set_secret("signing-secret", "1")
    client.begin_delete_secret("signing-secret").wait()

    with pytest.raises(HttpResponseError) as refused:
        client.purge_deleted_secret("signing-secret")
    assert refused.value.status_code == 403
    assert refused.value.error is not None and refused.value.error.code == "Forbidden"
    assert "purge protection is enabled" in refused.value.error.message

    recovered = client.begin_recover_deleted_secret("signing-secret").result()  # recovery is allowed
    assert recovered.recovery_level == "CustomizedRecoverable"  # 7 days from the module marker, no purge


@pytest.mark.keyvault(strict_hosts=True, vaults=["orders"])
def test_strict_hosts_answers_only_declared_vaults(keyvault):
    assert SecretClient(keyvault.vault_url, keyvault.credential).set_secret("a", "1").value == "1"
    assert SecretClient("https://orders.vault.azure.net", keyvault.credential).set_secret("a", "1").value == "1"

    with pytest.raises(ResourceNotFoundError) as unknown:
        SecretClient("https://typo-vault.vault.azure.net", keyvault.credential).get_secret("a")
    assert unknown.value.error is not None and unknown.value.error.code == "VaultNotFound"


@pytest.mark.keyvault(vault_name="my-app-vault", location="northeurope")
def test_the_default_vault_name(keyvault):
    assert keyvault.vault_url == "https://my-app-vault.vault.azure.net"
    SecretClient(keyvault.vault_url, keyvault.credential).set_secret("a", "1")
    assert keyvault.vault().name == "my-app-vault"
