"""Vault properties set through ARM drive the data plane: retention, purge protection, sku, RBAC or access
policies, network rules, and strict hosts. Each through the sync and the async SDK."""

from __future__ import annotations

import pytest
from arm_support import GROUP, SUB, owner_policy, vault_body
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.keyvault.keys import KeyClient
from azure.keyvault.keys.aio import KeyClient as AsyncKeyClient
from azure.keyvault.secrets import SecretClient
from azure.keyvault.secrets.aio import SecretClient as AsyncSecretClient
from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.mgmt.keyvault.aio import KeyVaultManagementClient as AsyncKeyVaultManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient

import kv_emulator


def _vaults(kv):
    ResourceManagementClient(kv.credential, SUB).resource_groups.create_or_update(GROUP, {"location": "westus"})
    return KeyVaultManagementClient(kv.credential, SUB)


def _create(kv, name, **properties):
    properties.setdefault("enableRbacAuthorization", False)
    properties.setdefault("accessPolicies", owner_policy(kv))
    return (
        _vaults(kv).vaults.begin_create_or_update(GROUP, name, vault_body(kv.settings.tenant_id, **properties)).result()
    )


async def _create_async(kv, name, **properties):
    ResourceManagementClient(kv.credential, SUB).resource_groups.create_or_update(GROUP, {"location": "westus"})
    properties.setdefault("enableRbacAuthorization", False)
    properties.setdefault("accessPolicies", owner_policy(kv))
    async with AsyncKeyVaultManagementClient(kv.async_credential, SUB) as client:
        poller = await client.vaults.begin_create_or_update(
            GROUP, name, vault_body(kv.settings.tenant_id, **properties)
        )
        return await poller.result()


def test_retention_and_purge_protection_reach_deleted_secrets(keyvault):
    vault = _create(keyvault, "retained", softDeleteRetentionInDays=7, enablePurgeProtection=True)
    client = SecretClient(vault.properties.vault_uri, keyvault.credential)
    client.set_secret("s", "v")
    deleted = client.begin_delete_secret("s").result()
    assert (deleted.scheduled_purge_date - deleted.deleted_date).days == 7
    assert deleted.properties.recovery_level == "CustomizedRecoverable"
    with pytest.raises(HttpResponseError) as refused:
        client.purge_deleted_secret("s")
    assert refused.value.status_code == 403


async def test_retention_reaches_deleted_secrets_async(keyvault):
    vault = await _create_async(keyvault, "retained-async", softDeleteRetentionInDays=14)
    async with AsyncSecretClient(vault.properties.vault_uri, keyvault.async_credential) as client:
        await client.set_secret("s", "v")
        deleted = await client.delete_secret("s")
        assert (deleted.scheduled_purge_date - deleted.deleted_date).days == 14
        assert deleted.properties.recovery_level == "CustomizedRecoverable+Purgeable"


def test_standard_sku_refuses_hsm_keys_and_premium_allows_them(keyvault):
    vault = _create(keyvault, "std-vault")
    keys = KeyClient(vault.properties.vault_uri, keyvault.credential)
    with pytest.raises(HttpResponseError) as refused:
        keys.create_rsa_key("k", hardware_protected=True)
    assert refused.value.status_code == 403
    assert refused.value.error.message == "Hardware key operation not allowed on standard vault"
    _vaults(keyvault).vaults.update(GROUP, "std-vault", {"properties": {"sku": {"family": "A", "name": "premium"}}})
    assert keys.create_rsa_key("k", hardware_protected=True).key_type == "RSA-HSM"


async def test_standard_sku_refuses_hsm_keys_async(keyvault):
    vault = await _create_async(keyvault, "std-async")
    async with AsyncKeyClient(vault.properties.vault_uri, keyvault.async_credential) as keys:
        with pytest.raises(HttpResponseError) as refused:
            await keys.create_ec_key("k", hardware_protected=True)
        assert refused.value.error.message == "Hardware key operation not allowed on standard vault"
        assert (await keys.create_ec_key("soft")).key_type == "EC"


def test_access_policies_set_through_arm_are_the_data_planes(keyvault):
    vault = _create(keyvault, "policies", accessPolicies=[])
    client = SecretClient(vault.properties.vault_uri, keyvault.credential)
    with pytest.raises(HttpResponseError) as denied:
        client.set_secret("s", "v")
    assert denied.value.error.code == "Forbidden" and "does not have secrets set permission" in denied.value.message
    entry = {
        "tenantId": keyvault.settings.tenant_id,
        "objectId": keyvault.credential.principal.object_id,
        "permissions": {"secrets": ["set"]},
    }
    _vaults(keyvault).vaults.update_access_policy(GROUP, "policies", "add", {"properties": {"accessPolicies": [entry]}})
    client.set_secret("s", "v")
    with pytest.raises(HttpResponseError):
        client.get_secret("s")  # only "set" was granted


def _firewalled(kv, name, ip):
    acls = {"defaultAction": "Deny", "bypass": "None", "ipRules": [{"value": ip}]}
    return _create(kv, name, networkAcls=acls)


def test_firewall_refuses_callers_outside_its_rules():
    with kv_emulator.emulate(client_ip="203.0.113.9") as kv:
        vault = _firewalled(kv, "walled", "198.51.100.0/24")
        client = SecretClient(vault.properties.vault_uri, kv.credential)
        with pytest.raises(HttpResponseError) as refused:
            client.set_secret("s", "v")
        assert refused.value.status_code == 403
        assert "Client address: 203.0.113.9" in refused.value.message
        assert kv.requests[-1].error_code == "Forbidden"
        _vaults(kv).vaults.update(
            GROUP,
            "walled",
            {"properties": {"networkAcls": {"defaultAction": "Deny", "ipRules": [{"value": "203.0.113.9"}]}}},
        )
        assert client.set_secret("s", "v").value == "v"


async def test_firewall_and_public_access_async():
    with kv_emulator.emulate(client_ip="203.0.113.9") as kv:
        vault = await _create_async(kv, "walled-async", publicNetworkAccess="Disabled")
        async with AsyncSecretClient(vault.properties.vault_uri, kv.async_credential) as client:
            with pytest.raises(HttpResponseError) as refused:
                await client.set_secret("s", "v")
            assert refused.value.status_code == 403 and "Public network access is disabled" in refused.value.message
            async with AsyncKeyVaultManagementClient(kv.async_credential, SUB) as arm:
                await arm.vaults.update(GROUP, "walled-async", {"properties": {"publicNetworkAccess": "Enabled"}})
            assert (await client.set_secret("s", "v")).value == "v"


def test_strict_hosts_serves_arm_vaults_and_not_deleted_ones():
    with kv_emulator.emulate(strict_hosts=True) as kv:
        vault = _create(kv, "strict-arm")
        client = SecretClient(vault.properties.vault_uri, kv.credential)
        client.set_secret("s", "v")
        with pytest.raises(ResourceNotFoundError):
            SecretClient("https://never-declared.vault.azure.net", kv.credential).set_secret("s", "v")
        _vaults(kv).vaults.delete(GROUP, "strict-arm")
        with pytest.raises(ResourceNotFoundError):
            client.get_secret("s")


async def test_strict_hosts_async():
    with kv_emulator.emulate(strict_hosts=True) as kv:
        vault = await _create_async(kv, "strict-async")
        async with AsyncSecretClient(vault.properties.vault_uri, kv.async_credential) as client:
            assert (await client.set_secret("s", "v")).value == "v"


def test_implicit_vault_is_adopted_by_arm(keyvault):
    keyvault.vault("adopted").secrets.set("seeded", "v")
    vault = _create(keyvault, "adopted", softDeleteRetentionInDays=10)
    assert keyvault.vault("adopted").settings.soft_delete_retention_in_days == 10
    assert SecretClient(vault.properties.vault_uri, keyvault.credential).get_secret("seeded").value == "v"


def test_deleted_vault_is_unreachable_until_recovered_or_its_retention_ends(keyvault):
    vault = _create(keyvault, "gone-vault", softDeleteRetentionInDays=7)
    client = SecretClient(vault.properties.vault_uri, keyvault.credential)
    client.set_secret("s", "v")
    _vaults(keyvault).vaults.delete(GROUP, "gone-vault")
    with pytest.raises(ResourceNotFoundError) as gone:
        client.get_secret("s")
    assert "deleted through Azure Resource Manager" in gone.value.message
    _create(keyvault, "gone-vault", createMode="recover")
    assert client.get_secret("s").value == "v"
    _vaults(keyvault).vaults.delete(GROUP, "gone-vault")
    keyvault.clock.advance(days=7, seconds=1)
    with pytest.raises(ResourceNotFoundError):  # purged by the service: a fresh, empty (implicit) vault
        client.get_secret("s")
    assert list(_vaults(keyvault).vaults.list_deleted()) == []


async def test_deleted_vault_is_unreachable_async(keyvault):
    vault = await _create_async(keyvault, "gone-async")
    async with AsyncKeyVaultManagementClient(keyvault.async_credential, SUB) as arm:
        await arm.vaults.delete(GROUP, "gone-async")
        async with AsyncSecretClient(vault.properties.vault_uri, keyvault.async_credential) as client:
            with pytest.raises(ResourceNotFoundError):
                await client.set_secret("s", "v")
            await (await arm.vaults.begin_purge_deleted("gone-async", "westus")).result()
            assert (await client.set_secret("s", "v")).value == "v"  # purged: the host is free again
