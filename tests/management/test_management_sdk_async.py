"""The control plane through the unmodified async management SDKs (aiohttp transport): the same operations
as test_management_sdk.py, each once more through the ``aio`` clients."""

from __future__ import annotations

import uuid

import pytest
from arm_support import GROUP, SECRETS_OFFICER, SUB, owner_policy, role_definition, vault_body
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.keyvault.secrets.aio import SecretClient
from azure.mgmt.authorization.aio import AuthorizationManagementClient
from azure.mgmt.keyvault.aio import KeyVaultManagementClient
from azure.mgmt.resource.resources.aio import ResourceManagementClient
from azure.mgmt.resource.subscriptions.aio import SubscriptionClient

KIND = "Microsoft.KeyVault/vaults"


@pytest.fixture
async def groups(keyvault):
    async with ResourceManagementClient(keyvault.async_credential, SUB) as client:
        await client.resource_groups.create_or_update(GROUP, {"location": "westus"})
        yield client


@pytest.fixture
async def vaults(keyvault, groups):
    async with KeyVaultManagementClient(keyvault.async_credential, SUB) as client:
        yield client


async def _create(keyvault, vaults, name, group=GROUP, **properties):
    poller = await vaults.vaults.begin_create_or_update(
        group, name, vault_body(keyvault.settings.tenant_id, **properties)
    )
    return await poller.result()


async def test_subscriptions_and_tenants(keyvault):
    async with SubscriptionClient(keyvault.async_credential) as client:
        [subscription] = [s async for s in client.subscriptions.list()]
        assert (subscription.subscription_id, subscription.tenant_id) == (SUB, keyvault.settings.tenant_id)
        assert (await client.subscriptions.get(SUB)).display_name == "kv-emulator"
        assert [t.tenant_id async for t in client.tenants.list()] == [keyvault.settings.tenant_id]
        with pytest.raises(HttpResponseError) as malformed:
            await client.subscriptions.get("not-a-guid")
        assert malformed.value.error.code == "InvalidSubscriptionId"
        assert [loc.name async for loc in client.subscriptions.list_locations(SUB)] == ["westus"]


async def test_resource_groups(groups):
    created = await groups.resource_groups.create_or_update("rg-two", {"location": "eastus", "tags": {"a": "b"}})
    assert (created.location, created.tags) == ("eastus", {"a": "b"})
    assert (await groups.resource_groups.get("rg-two")).name == "rg-two"
    assert sorted([g.name async for g in groups.resource_groups.list()]) == [GROUP, "rg-two"]
    assert await groups.resource_groups.check_existence("rg-two") is True
    assert (await groups.resource_groups.update("rg-two", {"tags": {"c": "d"}})).tags == {"c": "d"}
    await (await groups.resource_groups.begin_delete("rg-two")).result()
    assert await groups.resource_groups.check_existence("rg-two") is False
    assert (await groups.providers.get("Microsoft.KeyVault")).registration_state == "Registered"
    assert (await groups.providers.register("Microsoft.KeyVault")).namespace == "Microsoft.KeyVault"
    assert "Microsoft.KeyVault" in [p.namespace async for p in groups.providers.list()]


async def test_create_get_update_and_lists(keyvault, vaults, groups):
    vault = await _create(keyvault, vaults, "async-vault", softDeleteRetentionInDays=30)
    assert vault.properties.vault_uri == "https://async-vault.vault.azure.net/"
    assert keyvault.vault("async-vault").settings.soft_delete_retention_in_days == 30
    assert (await vaults.vaults.get(GROUP, "async-vault")).properties.soft_delete_retention_in_days == 30
    updated = await vaults.vaults.update(
        GROUP, "async-vault", {"tags": {"x": "y"}, "properties": {"sku": {"family": "A", "name": "premium"}}}
    )
    assert (updated.tags, updated.properties.sku.name) == ({"x": "y"}, "premium")
    assert keyvault.vault("async-vault").settings.sku == "premium"
    await groups.resource_groups.create_or_update("rg-other", {"location": "westus"})
    await _create(keyvault, vaults, "async-other", group="rg-other")
    assert [v.name async for v in vaults.vaults.list_by_resource_group(GROUP)] == ["async-vault"]
    assert sorted([v.name async for v in vaults.vaults.list_by_subscription()]) == ["async-other", "async-vault"]
    assert sorted([r.name async for r in vaults.vaults.list()]) == ["async-other", "async-vault"]


async def test_delete_recover_and_purge(keyvault, vaults):
    await _create(keyvault, vaults, "async-kept", enableRbacAuthorization=False, accessPolicies=owner_policy(keyvault))
    async with SecretClient("https://async-kept.vault.azure.net", keyvault.async_credential) as secrets:
        await secrets.set_secret("s", "v")
    await vaults.vaults.delete(GROUP, "async-kept")
    assert [d.name async for d in vaults.vaults.list_deleted()] == ["async-kept"]
    assert (await vaults.vaults.get_deleted("async-kept", "westus")).properties.vault_id.endswith("/async-kept")
    with pytest.raises(ResourceExistsError) as conflict:
        await _create(keyvault, vaults, "async-kept")
    assert conflict.value.error.code == "ConflictError"
    taken = await vaults.vaults.check_name_availability({"name": "async-kept", "type": KIND})
    assert (taken.name_available, taken.reason) == (False, "AlreadyExists")
    await _create(keyvault, vaults, "async-kept", createMode="recover")
    async with SecretClient("https://async-kept.vault.azure.net", keyvault.async_credential) as secrets:
        assert (await secrets.get_secret("s")).value == "v"
    await vaults.vaults.delete(GROUP, "async-kept")
    await (await vaults.vaults.begin_purge_deleted("async-kept", "westus")).result()
    assert [d async for d in vaults.vaults.list_deleted()] == []
    assert (await vaults.vaults.check_name_availability({"name": "async-kept", "type": KIND})).name_available


async def test_purge_protection(keyvault, vaults):
    await _create(keyvault, vaults, "async-guarded", enablePurgeProtection=True)
    with pytest.raises(HttpResponseError) as off:
        await vaults.vaults.update(GROUP, "async-guarded", {"properties": {"enablePurgeProtection": False}})
    assert off.value.status_code == 400
    await vaults.vaults.delete(GROUP, "async-guarded")
    with pytest.raises(HttpResponseError) as refused:
        await (await vaults.vaults.begin_purge_deleted("async-guarded", "westus")).result()
    assert refused.value.error.code == "InvalidOperation"


async def test_name_rules_and_uniqueness(keyvault, vaults, groups):
    result = await vaults.vaults.check_name_availability({"name": "no--double", "type": KIND})
    assert (result.name_available, result.reason) == (False, "AccountNameInvalid")
    await groups.resource_groups.create_or_update("rg-other", {"location": "westus"})
    await _create(keyvault, vaults, "async-unique")
    with pytest.raises(ResourceExistsError) as taken:
        await _create(keyvault, vaults, "async-unique", group="rg-other")
    assert taken.value.error.code == "VaultAlreadyExists"


async def test_update_access_policy(keyvault, vaults):
    await _create(keyvault, vaults, "async-policy", enableRbacAuthorization=False)
    oid = str(uuid.uuid4())

    def body(*secrets):
        entry = {"tenantId": keyvault.settings.tenant_id, "objectId": oid, "permissions": {"secrets": list(secrets)}}
        return {"properties": {"accessPolicies": [entry]}}

    async def current():
        vault = await vaults.vaults.get(GROUP, "async-policy")
        return [sorted(p.permissions.secrets) for p in vault.properties.access_policies]

    await vaults.vaults.update_access_policy(GROUP, "async-policy", "add", body("get"))
    await vaults.vaults.update_access_policy(GROUP, "async-policy", "add", body("list"))
    assert await current() == [["get", "list"]]
    await vaults.vaults.update_access_policy(GROUP, "async-policy", "replace", body("set"))
    assert await current() == [["set"]]
    await vaults.vaults.update_access_policy(GROUP, "async-policy", "remove", body("set"))
    assert await current() == []


async def test_role_assignments(keyvault, vaults):
    vault = await _create(keyvault, vaults, "async-rbac", enableRbacAuthorization=True)
    principal = keyvault.credential.principal.object_id
    name = str(uuid.uuid4())
    async with (
        AuthorizationManagementClient(keyvault.async_credential, SUB) as auth,
        SecretClient(vault.properties.vault_uri, keyvault.async_credential) as secrets,
    ):
        with pytest.raises(HttpResponseError):
            await secrets.set_secret("s", "v")
        props = {"roleDefinitionId": role_definition(SECRETS_OFFICER), "principalId": principal}
        created = await auth.role_assignments.create(vault.id, name, {"properties": props})
        assert created.scope == vault.id
        assert (await secrets.set_secret("s", "v")).value == "v"
        assert (await auth.role_assignments.get(vault.id, name)).principal_id == principal
        assert [a.name async for a in auth.role_assignments.list_for_scope(vault.id)] == [name]
        assert (await auth.role_definitions.get(vault.id, SECRETS_OFFICER)).role_name == "Key Vault Secrets Officer"
        assert len([d async for d in auth.role_definitions.list(vault.id)]) == 9
        await auth.role_assignments.delete(vault.id, name)
        with pytest.raises(HttpResponseError) as revoked:
            await secrets.set_secret("s", "v2")
        assert revoked.value.status_code == 403
        with pytest.raises(ResourceNotFoundError):
            await auth.role_assignments.get(vault.id, name)


async def test_pollers_wait_through_pending_polls_async():
    import kv_emulator

    with kv_emulator.emulate(arm_pending_polls=1, virtual_time=True) as kv:
        async with ResourceManagementClient(kv.async_credential, SUB) as groups:
            await groups.resource_groups.create_or_update(GROUP, {"location": "westus"})
            async with KeyVaultManagementClient(kv.async_credential, SUB) as client:
                vault = await _create(kv, client, "slow-async")
                assert vault.name == "slow-async"
            await (await groups.resource_groups.begin_delete(GROUP)).result()
        polls = [e.status for e in kv.requests if e.operation == "OperationResults_Get"]
        assert polls[:2] == [200, 200] and polls[2:4] == [202, 200]


async def test_role_assignment_at_resource_group_scope_async(keyvault, vaults):
    scope = f"/subscriptions/{SUB}/resourceGroups/{GROUP}"
    name = str(uuid.uuid4())
    props = {
        "roleDefinitionId": role_definition(SECRETS_OFFICER),
        "principalId": keyvault.credential.principal.object_id,
    }
    async with AuthorizationManagementClient(keyvault.async_credential, SUB) as auth:
        await auth.role_assignments.create(scope, name, {"properties": props})
        vault = await _create(keyvault, vaults, "async-inherits", enableRbacAuthorization=True)
        async with SecretClient(vault.properties.vault_uri, keyvault.async_credential) as secrets:
            assert (await secrets.set_secret("s", "v")).value == "v"
            await auth.role_assignments.delete(scope, name)
            with pytest.raises(HttpResponseError):
                await secrets.set_secret("s", "v2")
