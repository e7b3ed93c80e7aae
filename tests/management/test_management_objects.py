"""Secrets and keys as ARM resources (Secrets_*, Keys_*) through the sync and async management SDKs: they
are the vault's data-plane secrets and keys."""

from __future__ import annotations

import pytest
from arm_support import GROUP, SUB, owner_policy, vault_body
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.keyvault.keys import KeyClient
from azure.keyvault.secrets import SecretClient
from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.mgmt.keyvault.aio import KeyVaultManagementClient as AsyncKeyVaultManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient


@pytest.fixture
def arm(keyvault):
    ResourceManagementClient(keyvault.credential, SUB).resource_groups.create_or_update(GROUP, {"location": "westus"})
    client = KeyVaultManagementClient(keyvault.credential, SUB)
    body = vault_body(keyvault.settings.tenant_id, enableRbacAuthorization=False, accessPolicies=owner_policy(keyvault))
    client.vaults.begin_create_or_update(GROUP, "objects-vault", body).result()
    return client


URL = "https://objects-vault.vault.azure.net"


def test_secrets_through_arm(keyvault, arm):
    created = arm.secrets.create_or_update(
        GROUP,
        "objects-vault",
        "db-password",
        {"tags": {"a": "b"}, "properties": {"value": "hunter2", "contentType": "text/plain"}},
    )
    assert created.id.endswith("/vaults/objects-vault/secrets/db-password")
    assert created.properties.secret_uri == f"{URL}/secrets/db-password"
    assert created.properties.value is None and created.properties.content_type == "text/plain"
    assert created.tags == {"a": "b"} and created.properties.attributes.enabled is True
    data_plane = SecretClient(URL, keyvault.credential)
    assert data_plane.get_secret("db-password").value == "hunter2"
    data_plane.set_secret("db-password", "newer")
    fetched = arm.secrets.get(GROUP, "objects-vault", "db-password")
    assert fetched.properties.secret_uri_with_version == data_plane.get_secret("db-password").id
    updated = arm.secrets.update(GROUP, "objects-vault", "db-password", {"properties": {"contentType": "text/x"}})
    assert updated.properties.content_type == "text/x"
    rotated = arm.secrets.update(GROUP, "objects-vault", "db-password", {"properties": {"value": "third"}})
    assert data_plane.get_secret("db-password").value == "third"
    assert rotated.properties.content_type == "text/x"
    arm.secrets.create_or_update(GROUP, "objects-vault", "other", {"properties": {"value": "x"}})
    assert sorted(s.name for s in arm.secrets.list(GROUP, "objects-vault")) == ["db-password", "other"]
    with pytest.raises(ResourceNotFoundError):
        arm.secrets.get(GROUP, "objects-vault", "missing")
    with pytest.raises(HttpResponseError) as bad:
        arm.secrets.create_or_update(GROUP, "objects-vault", "bad", {"properties": {"contentType": "no value"}})
    assert bad.value.status_code == 400
    assert "bad" not in [p.name for p in data_plane.list_properties_of_secrets()]


def test_keys_through_arm(keyvault, arm):
    key = arm.keys.create_if_not_exist(
        GROUP, "objects-vault", "signing", {"properties": {"kty": "EC", "curveName": "P-256"}}
    )
    assert (key.properties.kty, key.properties.curve_name) == ("EC", "P-256")
    assert key.properties.key_uri == f"{URL}/keys/signing"
    assert key.properties.attributes.recovery_level == "Recoverable+Purgeable"
    again = arm.keys.create_if_not_exist(GROUP, "objects-vault", "signing", {"properties": {"kty": "RSA"}})
    assert again.properties.key_uri_with_version == key.properties.key_uri_with_version  # not created twice
    data_plane = KeyClient(URL, keyvault.credential)
    assert data_plane.get_key("signing").id == key.properties.key_uri_with_version
    newer = data_plane.rotate_key("signing")
    assert arm.keys.get(GROUP, "objects-vault", "signing").properties.key_uri_with_version == newer.id
    version = key.properties.key_uri_with_version.rsplit("/", 1)[-1]
    assert arm.keys.get_version(GROUP, "objects-vault", "signing", version).properties.kty == "EC"
    assert len(list(arm.keys.list_versions(GROUP, "objects-vault", "signing"))) == 2
    rsa = arm.keys.create_if_not_exist(
        GROUP, "objects-vault", "wrapping", {"properties": {"kty": "RSA", "keySize": 2048}}
    )
    assert rsa.properties.key_size == 2048
    assert sorted(k.name for k in arm.keys.list(GROUP, "objects-vault")) == ["signing", "wrapping"]
    with pytest.raises(HttpResponseError) as hsm:
        arm.keys.create_if_not_exist(GROUP, "objects-vault", "hsm", {"properties": {"kty": "RSA-HSM"}})
    assert hsm.value.status_code == 403  # a standard vault


async def test_secrets_and_keys_through_arm_async(keyvault, arm):
    async with AsyncKeyVaultManagementClient(keyvault.async_credential, SUB) as client:
        secret = await client.secrets.create_or_update(GROUP, "objects-vault", "s", {"properties": {"value": "v"}})
        assert secret.properties.secret_uri == f"{URL}/secrets/s"
        assert (await client.secrets.get(GROUP, "objects-vault", "s")).name == "s"
        await client.secrets.update(GROUP, "objects-vault", "s", {"tags": {"t": "1"}})
        assert [s.tags async for s in client.secrets.list(GROUP, "objects-vault")] == [{"t": "1"}]
        key = await client.keys.create_if_not_exist(GROUP, "objects-vault", "k", {"properties": {"kty": "RSA"}})
        assert (await client.keys.get(GROUP, "objects-vault", "k")).properties.kty == "RSA"
        version = key.properties.key_uri_with_version.rsplit("/", 1)[-1]
        assert (await client.keys.get_version(GROUP, "objects-vault", "k", version)).name == "k"
        assert [k.name async for k in client.keys.list(GROUP, "objects-vault")] == ["k"]
        assert len([v async for v in client.keys.list_versions(GROUP, "objects-vault", "k")]) == 1
    assert SecretClient(URL, keyvault.credential).get_secret("s").value == "v"


def test_operations_and_empty_private_endpoint_lists(keyvault, arm):
    names = [op.name for op in arm.operations.list()]
    assert "Microsoft.KeyVault/vaults/write" in names
    assert list(arm.private_endpoint_connections.list_by_resource(GROUP, "objects-vault")) == []
    with pytest.raises(ResourceNotFoundError):
        list(arm.private_endpoint_connections.list_by_resource(GROUP, "no-such-vault"))
    # Managed HSM pools are not ARM resources here: every list is empty (the Azure CLI asks for them).
    assert list(arm.managed_hsms.list_by_subscription()) == []
    assert list(arm.managed_hsms.list_by_resource_group(GROUP)) == []
    assert list(arm.managed_hsms.list_deleted()) == []


async def test_operations_and_empty_private_endpoint_lists_async(keyvault, arm):
    async with AsyncKeyVaultManagementClient(keyvault.async_credential, SUB) as client:
        assert len([op async for op in client.operations.list()]) == 11
        assert [c async for c in client.private_endpoint_connections.list_by_resource(GROUP, "objects-vault")] == []
        assert [h async for h in client.managed_hsms.list_by_subscription()] == []
        assert [h async for h in client.managed_hsms.list_by_resource_group(GROUP)] == []
        assert [h async for h in client.managed_hsms.list_deleted()] == []
