"""Event Grid and the control plane: access-policy changes made through Azure Resource Manager are announced
once per request (none when nothing changes), the permission-model switch too, and a vault created through
ARM publishes with its ARM resource id as the topic."""

from __future__ import annotations

from arm_support import GROUP, SUB, owner_policy, vault_body, vault_path
from azure.eventgrid import EventGridEvent, SystemEventNames
from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient

POLICY_CHANGED = SystemEventNames.KeyVaultVaultAccessPolicyChangedEventName
SECRET_NEW = SystemEventNames.KeyVaultSecretNewVersionCreatedEventName


def test_control_plane_changes_are_announced_once_each(keyvault):
    ResourceManagementClient(keyvault.credential, SUB).resource_groups.create_or_update(GROUP, {"location": "westus"})
    arm = KeyVaultManagementClient(keyvault.credential, SUB)
    body = vault_body(keyvault.settings.tenant_id, enableRbacAuthorization=False, accessPolicies=owner_policy(keyvault))
    vault = arm.vaults.begin_create_or_update(GROUP, "evented", body).result()
    subscription = keyvault.events.subscribe(vault="evented")

    arm.vaults.begin_create_or_update(GROUP, "evented", body).result()  # the same properties again: no change
    assert subscription.received == []
    reader = {
        "tenantId": keyvault.settings.tenant_id,
        "objectId": "00000000-0000-0000-0000-0000000000c1",
        "permissions": {"secrets": ["get"]},
    }
    arm.vaults.update_access_policy(GROUP, "evented", "add", {"properties": {"accessPolicies": [reader]}})
    arm.vaults.update(GROUP, "evented", {"properties": {"enableRbacAuthorization": True}})
    keyvault.vault(vault.properties.vault_uri).secrets.set("after", "x")  # (RBAC now: seeded directly)

    received = [EventGridEvent.from_dict(e) for e in subscription.received]
    assert [e.event_type for e in received] == [POLICY_CHANGED, POLICY_CHANGED, SECRET_NEW]
    assert {e.topic for e in received} == {vault_path("evented")}  # the vault's id as ARM made it
