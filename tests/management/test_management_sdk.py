"""The control plane through the unmodified sync management SDKs: subscriptions, resource groups, vaults
(every Vaults_* operation the SDK has) and role assignments."""

from __future__ import annotations

import uuid

import pytest
from arm_support import GROUP, SECRETS_OFFICER, SUB, owner_policy, role_definition, vault_body
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.keyvault.secrets import SecretClient
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.mgmt.keyvault.models import (
    AccessPolicyEntry,
    Permissions,
    Sku,
    VaultAccessPolicyParameters,
    VaultAccessPolicyProperties,
    VaultCreateOrUpdateParameters,
    VaultPatchParameters,
    VaultPatchProperties,
    VaultProperties,
)
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.resource.subscriptions import SubscriptionClient


@pytest.fixture
def groups(keyvault):
    client = ResourceManagementClient(keyvault.credential, SUB)
    client.resource_groups.create_or_update(GROUP, {"location": "westus"})
    return client


@pytest.fixture
def vaults(keyvault, groups):
    return KeyVaultManagementClient(keyvault.credential, SUB)


def _create(keyvault, vaults, name, **properties):
    return vaults.vaults.begin_create_or_update(
        GROUP, name, vault_body(keyvault.settings.tenant_id, **properties)
    ).result()


def test_subscriptions_and_tenants(keyvault):
    client = SubscriptionClient(keyvault.credential)
    [subscription] = client.subscriptions.list()
    assert (subscription.subscription_id, subscription.display_name, subscription.state) == (
        SUB,
        "kv-emulator",
        "Enabled",
    )
    assert subscription.tenant_id == keyvault.settings.tenant_id
    assert client.subscriptions.get(SUB).id == f"/subscriptions/{SUB}"
    assert [t.tenant_id for t in client.tenants.list()] == [keyvault.settings.tenant_id]
    with pytest.raises(ResourceNotFoundError, match="SubscriptionNotFound"):
        client.subscriptions.get("11111111-1111-1111-1111-111111111111")
    assert [loc.name for loc in client.subscriptions.list_locations(SUB)] == ["westus"]


def test_client_secret_credential_through_emulated_entra_id(keyvault):
    from azure.identity import ClientSecretCredential

    credential = ClientSecretCredential(keyvault.settings.tenant_id, "my-app", "my-secret")
    [subscription] = SubscriptionClient(credential).subscriptions.list()
    assert subscription.subscription_id == SUB
    assert keyvault.identity.issued[-1]["aud"] == "https://management.azure.com"


def test_subscription_id_and_name_are_settings():
    import kv_emulator

    sub = "22222222-2222-2222-2222-222222222222"
    with kv_emulator.emulate(subscription_id=sub, subscription_name="ci") as kv:
        [subscription] = SubscriptionClient(kv.credential).subscriptions.list()
        assert (subscription.subscription_id, subscription.display_name) == (sub, "ci")
        group = ResourceManagementClient(kv.credential, sub).resource_groups.create_or_update(
            "g", {"location": "eastus"}
        )
        assert group.id == f"/subscriptions/{sub}/resourceGroups/g"


def test_resource_groups(keyvault, groups):
    created = groups.resource_groups.create_or_update("rg-two", {"location": "West US", "tags": {"env": "ci"}})
    assert (created.name, created.location, created.tags, created.properties.provisioning_state) == (
        "rg-two", "westus", {"env": "ci"}, "Succeeded",
    )  # fmt: skip
    assert groups.resource_groups.get("RG-TWO").id == f"/subscriptions/{SUB}/resourceGroups/rg-two"
    assert sorted(g.name for g in groups.resource_groups.list()) == [GROUP, "rg-two"]
    assert groups.resource_groups.check_existence("rg-two") is True
    assert groups.resource_groups.update("rg-two", {"tags": {"env": "prod"}}).tags == {"env": "prod"}
    groups.resource_groups.begin_delete("rg-two").result()
    assert groups.resource_groups.check_existence("rg-two") is False
    assert groups.providers.get("Microsoft.KeyVault").registration_state == "Registered"
    assert groups.providers.register("Microsoft.KeyVault").namespace == "Microsoft.KeyVault"
    assert "Microsoft.KeyVault" in [p.namespace for p in groups.providers.list()]
    with pytest.raises(ResourceNotFoundError, match="ResourceGroupNotFound"):
        groups.resource_groups.get("rg-two")


def test_create_get_update_and_data_plane(keyvault, vaults):
    vault = _create(keyvault, vaults, "arm-vault", softDeleteRetentionInDays=7, enableRbacAuthorization=False)
    assert vault.id == f"/subscriptions/{SUB}/resourceGroups/{GROUP}/providers/Microsoft.KeyVault/vaults/arm-vault"
    assert vault.properties.vault_uri == "https://arm-vault.vault.azure.net/"
    assert (vault.properties.soft_delete_retention_in_days, vault.properties.enable_soft_delete) == (7, True)
    assert vault.properties.provisioning_state == "Succeeded"
    assert keyvault.vault("arm-vault").settings.soft_delete_retention_in_days == 7
    fetched = vaults.vaults.get(GROUP, "arm-vault")
    assert fetched.properties.sku.name == "standard" and fetched.location == "westus"
    patched = vaults.vaults.update(
        GROUP,
        "arm-vault",
        VaultPatchParameters(tags={"team": "a"}, properties=VaultPatchProperties(enable_purge_protection=True)),
    )
    assert patched.tags == {"team": "a"} and patched.properties.enable_purge_protection is True
    assert keyvault.vault("arm-vault").settings.recovery_level == "CustomizedRecoverable"


def test_create_with_models_and_every_api_version(keyvault, groups):
    for version in ("2026-05-15", "2026-02-01", "2024-11-01", "2023-07-01", "2022-07-01", "2019-09-01"):
        client = KeyVaultManagementClient(keyvault.credential, SUB, api_version=version)
        name = f"v{version.replace('-', '')}"
        params = VaultCreateOrUpdateParameters(
            location="westus",
            properties=VaultProperties(tenant_id=keyvault.settings.tenant_id, sku=Sku(family="A", name="premium")),
        )
        vault = client.vaults.begin_create_or_update(GROUP, name, params).result()
        assert vault.properties.sku.name == "premium"
        # RBAC became the default at 2026-02-01; before it, access policies were.
        assert vault.properties.enable_rbac_authorization is (version >= "2026-02-01")
        assert client.vaults.get(GROUP, name).name == name


def test_lists(keyvault, vaults, groups):
    groups.resource_groups.create_or_update("rg-other", {"location": "westus"})
    _create(keyvault, vaults, "vault-a")
    _create(keyvault, vaults, "vault-b")
    vaults.vaults.begin_create_or_update("rg-other", "vault-c", vault_body(keyvault.settings.tenant_id)).result()
    assert sorted(v.name for v in vaults.vaults.list_by_resource_group(GROUP)) == ["vault-a", "vault-b"]
    assert sorted(v.name for v in vaults.vaults.list_by_subscription()) == ["vault-a", "vault-b", "vault-c"]
    assert sorted(v.name for v in vaults.vaults.list_by_subscription(top=1)) == ["vault-a", "vault-b", "vault-c"]
    listed = list(vaults.vaults.list())
    assert sorted(r.name for r in listed) == ["vault-a", "vault-b", "vault-c"]
    assert {r.type for r in listed} == {"Microsoft.KeyVault/vaults"}


def test_delete_reserves_name_then_recover(keyvault, vaults):
    _create(keyvault, vaults, "kept-vault", enableRbacAuthorization=False, accessPolicies=owner_policy(keyvault))
    SecretClient("https://kept-vault.vault.azure.net", keyvault.credential).set_secret("s", "v")
    vaults.vaults.delete(GROUP, "kept-vault")
    with pytest.raises(ResourceNotFoundError, match="ResourceNotFound"):
        vaults.vaults.get(GROUP, "kept-vault")
    [deleted] = vaults.vaults.list_deleted()
    assert deleted.name == "kept-vault" and deleted.properties.location == "westus"
    got = vaults.vaults.get_deleted("kept-vault", "westus")
    assert got.properties.vault_id.endswith("/vaults/kept-vault")
    assert (got.properties.scheduled_purge_date - got.properties.deletion_date).days == 90
    with pytest.raises(ResourceExistsError) as conflict:
        _create(keyvault, vaults, "kept-vault")
    assert conflict.value.error.code == "ConflictError"
    assert "already exists in deleted state" in conflict.value.error.message
    result = vaults.vaults.check_name_availability({"name": "kept-vault", "type": "Microsoft.KeyVault/vaults"})
    assert (result.name_available, result.reason) == (False, "AlreadyExists")
    recovered = _create(keyvault, vaults, "kept-vault", createMode="recover")
    assert recovered.name == "kept-vault"
    assert SecretClient("https://kept-vault.vault.azure.net", keyvault.credential).get_secret("s").value == "v"
    assert list(vaults.vaults.list_deleted()) == []


def test_purge_frees_the_name(keyvault, vaults):
    _create(keyvault, vaults, "purged-vault")
    vaults.vaults.delete(GROUP, "purged-vault")
    vaults.vaults.begin_purge_deleted("purged-vault", "westus").result()
    assert list(vaults.vaults.list_deleted()) == []
    assert vaults.vaults.check_name_availability(
        {"name": "purged-vault", "type": "Microsoft.KeyVault/vaults"}
    ).name_available
    assert _create(keyvault, vaults, "purged-vault").name == "purged-vault"


def test_purge_protection_refuses_purge_and_cannot_be_switched_off(keyvault, vaults):
    _create(keyvault, vaults, "guarded", enablePurgeProtection=True)
    with pytest.raises(HttpResponseError) as off:
        vaults.vaults.update(GROUP, "guarded", {"properties": {"enablePurgeProtection": False}})
    assert off.value.status_code == 400 and "irreversible" in off.value.error.message
    vaults.vaults.delete(GROUP, "guarded")
    with pytest.raises(HttpResponseError) as refused:
        vaults.vaults.begin_purge_deleted("guarded", "westus").result()
    assert refused.value.error.code == "InvalidOperation"
    assert vaults.vaults.get_deleted("guarded", "westus").properties.purge_protection_enabled is True


def test_deleted_vault_expires_after_its_retention(keyvault, vaults):
    _create(keyvault, vaults, "short-lived", softDeleteRetentionInDays=7)
    vaults.vaults.delete(GROUP, "short-lived")
    keyvault.clock.advance(days=7, seconds=1)
    assert list(vaults.vaults.list_deleted()) == []
    assert _create(keyvault, vaults, "short-lived").name == "short-lived"


def test_global_uniqueness_and_name_rules(keyvault, vaults, groups):
    groups.resource_groups.create_or_update("rg-other", {"location": "westus"})
    _create(keyvault, vaults, "unique-name")
    with pytest.raises(ResourceExistsError) as taken:
        vaults.vaults.begin_create_or_update(
            "rg-other", "unique-name", vault_body(keyvault.settings.tenant_id)
        ).result()
    assert taken.value.error.code == "VaultAlreadyExists"
    for bad in ("ab", "1vault", "vault--x", "vault-", "a" * 25, "vault_x"):
        result = vaults.vaults.check_name_availability({"name": bad, "type": "Microsoft.KeyVault/vaults"})
        assert (result.name_available, result.reason) == (False, "AccountNameInvalid"), bad
    with pytest.raises(HttpResponseError) as invalid:
        _create(keyvault, vaults, "vault--x")
    assert invalid.value.error.code == "VaultNameNotValid"
    assert vaults.vaults.check_name_availability(
        {"name": "free-name", "type": "Microsoft.KeyVault/vaults"}
    ).name_available


def test_update_access_policy_add_replace_remove(keyvault, vaults):
    tenant = keyvault.settings.tenant_id
    _create(keyvault, vaults, "policy-vault", enableRbacAuthorization=False)
    oid = str(uuid.uuid4())

    def change(kind, **permissions):
        entry = AccessPolicyEntry(tenant_id=tenant, object_id=oid, permissions=Permissions(**permissions))
        params = VaultAccessPolicyParameters(properties=VaultAccessPolicyProperties(access_policies=[entry]))
        return vaults.vaults.update_access_policy(GROUP, "policy-vault", kind, params)

    def current():
        policies = vaults.vaults.get(GROUP, "policy-vault").properties.access_policies
        return [(p.object_id, sorted(p.permissions.secrets or [])) for p in policies]

    assert change("add", secrets=["get"]).properties.access_policies[0].object_id == oid
    change("add", secrets=["list"])
    assert current() == [(oid, ["get", "list"])]
    change("replace", secrets=["set"])
    assert current() == [(oid, ["set"])]
    change("remove", secrets=["set"])
    assert current() == []


def test_role_assignments_at_vault_scope(keyvault, vaults):
    vault = _create(keyvault, vaults, "rbac-vault", enableRbacAuthorization=True)
    auth = AuthorizationManagementClient(keyvault.credential, SUB)
    secrets = SecretClient(vault.properties.vault_uri, keyvault.credential)
    with pytest.raises(HttpResponseError) as refused:
        secrets.set_secret("s", "v")
    assert refused.value.status_code == 403
    name = str(uuid.uuid4())
    principal = keyvault.credential.principal.object_id
    created = auth.role_assignments.create(
        vault.id, name, {"properties": {"roleDefinitionId": role_definition(SECRETS_OFFICER), "principalId": principal}}
    )
    assert (created.name, created.scope, created.principal_id) == (name, vault.id, principal)
    assert secrets.set_secret("s", "v").value == "v"
    assert auth.role_assignments.get(vault.id, name).role_definition_id.endswith(SECRETS_OFFICER)
    assert [a.name for a in auth.role_assignments.list_for_scope(vault.id)] == [name]
    definition = auth.role_definitions.get(vault.id, SECRETS_OFFICER)
    assert definition.role_name == "Key Vault Secrets Officer" and definition.role_type == "BuiltInRole"
    assert [d.name for d in auth.role_definitions.list(vault.id, filter="roleName eq 'Key Vault Secrets User'")] == [
        "4633458b-17de-408a-b874-0445c86b69e6"
    ]
    auth.role_assignments.delete(vault.id, name)
    with pytest.raises(HttpResponseError) as revoked:
        secrets.set_secret("s", "v2")
    assert revoked.value.status_code == 403
    with pytest.raises(ResourceNotFoundError):
        auth.role_assignments.get(vault.id, name)


def test_pollers_wait_through_pending_polls_in_virtual_time():
    import kv_emulator

    with kv_emulator.emulate(arm_pending_polls=2, virtual_time=True) as kv:
        ResourceManagementClient(kv.credential, SUB).resource_groups.create_or_update(GROUP, {"location": "westus"})
        client = KeyVaultManagementClient(kv.credential, SUB)
        started = kv.clock.now()
        vault = client.vaults.begin_create_or_update(GROUP, "slow-vault", vault_body(kv.settings.tenant_id)).result()
        assert vault.name == "slow-vault"
        polls = [e for e in kv.requests if e.operation == "OperationResults_Get"]
        assert [e.status for e in polls] == [200, 200, 200]
        assert (kv.clock.now() - started).total_seconds() >= 20  # two Retry-After: 10 waits, on the emulator's clock
        client.vaults.delete(GROUP, "slow-vault")
        client.vaults.begin_purge_deleted("slow-vault", "westus").result()
        purge_polls = [e.status for e in kv.requests if e.operation == "OperationResults_Get"][3:]
        assert purge_polls[:3] == [202, 202, 200]


def test_an_emulator_used_through_arm_is_freed_by_reference_counting():
    import gc
    import weakref

    import kv_emulator

    gc.collect()
    gc.disable()
    try:
        with kv_emulator.emulate() as emulator:
            ResourceManagementClient(emulator.credential, SUB).resource_groups.create_or_update(
                GROUP, {"location": "westus"}
            )
            client = KeyVaultManagementClient(emulator.credential, SUB)
            client.vaults.begin_create_or_update(GROUP, "freed", vault_body(emulator.settings.tenant_id)).result()
            client.vaults.delete(GROUP, "freed")
            emulator_ref, arm_ref = weakref.ref(emulator), weakref.ref(emulator.management)
        del emulator, client
        assert emulator_ref() is None and arm_ref() is None
    finally:
        gc.enable()


@pytest.mark.parametrize("level", ["subscription", "resource group"])
def test_role_assignments_above_vaults_are_inherited(keyvault, vaults, level):
    scope = f"/subscriptions/{SUB}" + (f"/resourceGroups/{GROUP}" if level == "resource group" else "")
    before = _create(keyvault, vaults, "inherits-a", enableRbacAuthorization=True)
    auth = AuthorizationManagementClient(keyvault.credential, SUB)
    principal = keyvault.credential.principal.object_id
    name = str(uuid.uuid4())
    props = {"roleDefinitionId": role_definition(SECRETS_OFFICER), "principalId": principal}
    assert auth.role_assignments.create(scope, name, {"properties": props}).scope == scope
    after = _create(keyvault, vaults, "inherits-b", enableRbacAuthorization=True)  # created later: inherits too
    for vault in (before, after):
        assert SecretClient(vault.properties.vault_uri, keyvault.credential).set_secret("s", "v").value == "v"
    assert name in [a.name for a in auth.role_assignments.list_for_scope(after.id)]
    auth.role_assignments.delete(scope, name)
    for vault in (before, after):
        with pytest.raises(HttpResponseError) as revoked:
            SecretClient(vault.properties.vault_uri, keyvault.credential).set_secret("s", "v2")
        assert revoked.value.status_code == 403


@pytest.mark.parametrize("host", ["management.chinacloudapi.cn", "management.usgovcloudapi.net"])
def test_sovereign_cloud_hosts(keyvault, host):
    scope = [f"https://{host}/.default"]
    groups = ResourceManagementClient(keyvault.credential, SUB, base_url=f"https://{host}", credential_scopes=scope)
    groups.resource_groups.create_or_update(GROUP, {"location": "chinanorth"})
    client = KeyVaultManagementClient(keyvault.credential, SUB, base_url=f"https://{host}", credential_scopes=scope)
    vault = client.vaults.begin_create_or_update(GROUP, "sovereign", vault_body(keyvault.settings.tenant_id)).result()
    assert vault.name == "sovereign"
    assert all(e.url.startswith(f"https://{host}/") for e in keyvault.requests)
