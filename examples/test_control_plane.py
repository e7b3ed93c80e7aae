"""Infrastructure code through Azure Resource Manager: create a vault with azure-mgmt-keyvault, give yourself a
role with azure-mgmt-authorization, write to it with the data plane, delete it, find its name reserved,
recover it, delete and purge it. Unmodified SDKs; nothing leaves the process. See docs/control-plane.md."""

import uuid

import pytest
from azure.core.exceptions import ResourceExistsError
from azure.keyvault.secrets import SecretClient
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient

SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"  # the built-in role's real id


def test_vault_lifecycle_through_arm(keyvault):
    sub = keyvault.settings.subscription_id
    credential = keyvault.credential
    ResourceManagementClient(credential, sub).resource_groups.create_or_update("infra-rg", {"location": "westus"})
    vaults = KeyVaultManagementClient(credential, sub)
    body = {
        "location": "westus",
        "properties": {
            "tenantId": keyvault.settings.tenant_id,
            "sku": {"family": "A", "name": "standard"},
            "enableRbacAuthorization": True,
            "softDeleteRetentionInDays": 7,
        },
    }
    vault = vaults.vaults.begin_create_or_update("infra-rg", "infra-vault", body).result()
    assert vault.properties.vault_uri == "https://infra-vault.vault.azure.net/"

    # RBAC is on: the data plane answers 403 until a role is assigned at the vault's scope.
    role = f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{SECRETS_OFFICER}"
    assignment = {"properties": {"roleDefinitionId": role, "principalId": credential.principal.object_id}}
    AuthorizationManagementClient(credential, sub).role_assignments.create(vault.id, str(uuid.uuid4()), assignment)
    secrets = SecretClient(vault.properties.vault_uri, credential)
    secrets.set_secret("db-password", "hunter2")

    # Deleting the vault keeps it (and its secrets) for its retention, and its name stays taken.
    vaults.vaults.delete("infra-rg", "infra-vault")
    assert [v.name for v in vaults.vaults.list_deleted()] == ["infra-vault"]
    with pytest.raises(ResourceExistsError, match="already exists in deleted state"):
        vaults.vaults.begin_create_or_update("infra-rg", "infra-vault", body).result()

    # createMode "recover" brings the whole vault back.
    recover = {"location": "westus", "properties": {"createMode": "recover"}}
    vaults.vaults.begin_create_or_update("infra-rg", "infra-vault", recover).result()
    assert secrets.get_secret("db-password").value == "hunter2"

    # Delete and purge: the name is free again.
    vaults.vaults.delete("infra-rg", "infra-vault")
    vaults.vaults.begin_purge_deleted("infra-vault", "westus").result()
    check = vaults.vaults.check_name_availability({"name": "infra-vault", "type": "Microsoft.KeyVault/vaults"})
    assert check.name_available
