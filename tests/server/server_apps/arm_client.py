"""Infrastructure code under test: it reads only environment variables and imports nothing from kv_emulator.

``python arm_client.py sync|async`` creates a resource group and a vault through Azure Resource Manager,
grants itself a data-plane role, writes a secret to the vault's data plane, deletes the vault (its name stays
reserved), purges it (the name is free again), and prints what it saw as JSON.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
import uuid

SUB = os.environ["AZURE_SUBSCRIPTION_ID"]
GROUP = "rg-infra"
NAME = f"infra-{uuid.uuid4().hex[:8]}"
SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"


def _object_id(token: str) -> str:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["oid"]


def _vault_body() -> dict:
    return {
        "location": "westus",
        "properties": {
            "tenantId": os.environ["AZURE_TENANT_ID"],
            "sku": {"family": "A", "name": "standard"},
            "enableRbacAuthorization": True,
            "softDeleteRetentionInDays": 7,
        },
    }


def _assignment(oid: str, scope: str) -> dict:
    definition = f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{SECRETS_OFFICER}"
    return {"properties": {"roleDefinitionId": definition, "principalId": oid}}


def run_sync() -> dict:
    from azure.core.exceptions import ResourceExistsError
    from azure.identity import DefaultAzureCredential
    from azure.keyvault.secrets import SecretClient
    from azure.mgmt.authorization import AuthorizationManagementClient
    from azure.mgmt.keyvault import KeyVaultManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    credential = DefaultAzureCredential()
    ResourceManagementClient(credential, SUB).resource_groups.create_or_update(GROUP, {"location": "westus"})
    vaults = KeyVaultManagementClient(credential, SUB)
    vault = vaults.vaults.begin_create_or_update(GROUP, NAME, _vault_body()).result()
    oid = _object_id(credential.get_token("https://management.azure.com/.default").token)
    AuthorizationManagementClient(credential, SUB).role_assignments.create(
        vault.id, str(uuid.uuid4()), _assignment(oid, vault.id)
    )
    url = vault.properties.vault_uri
    secrets = SecretClient(url, credential)
    secrets.set_secret("db-password", "from-infra")
    read = secrets.get_secret("db-password").value
    vaults.vaults.delete(GROUP, NAME)
    try:
        vaults.vaults.begin_create_or_update(GROUP, NAME, _vault_body()).result()
        reserved = False
    except ResourceExistsError:
        reserved = True
    vaults.vaults.begin_purge_deleted(NAME, "westus").result()
    again = vaults.vaults.begin_create_or_update(GROUP, NAME, _vault_body()).result()
    return {"name": NAME, "url": url, "read": read, "reserved": reserved, "recreated": again.name == NAME}


async def run_async() -> dict:
    from azure.core.exceptions import ResourceExistsError
    from azure.identity.aio import DefaultAzureCredential
    from azure.keyvault.secrets.aio import SecretClient
    from azure.mgmt.authorization.aio import AuthorizationManagementClient
    from azure.mgmt.keyvault.aio import KeyVaultManagementClient
    from azure.mgmt.resource.resources.aio import ResourceManagementClient

    async with DefaultAzureCredential() as credential:
        async with ResourceManagementClient(credential, SUB) as groups:
            await groups.resource_groups.create_or_update(GROUP, {"location": "westus"})
        async with KeyVaultManagementClient(credential, SUB) as vaults:
            poller = await vaults.vaults.begin_create_or_update(GROUP, NAME, _vault_body())
            vault = await poller.result()
            oid = _object_id((await credential.get_token("https://management.azure.com/.default")).token)
            async with AuthorizationManagementClient(credential, SUB) as authorization:
                await authorization.role_assignments.create(vault.id, str(uuid.uuid4()), _assignment(oid, vault.id))
            url = vault.properties.vault_uri
            async with SecretClient(url, credential) as secrets:
                await secrets.set_secret("db-password", "from-infra")
                read = (await secrets.get_secret("db-password")).value
            await vaults.vaults.delete(GROUP, NAME)
            try:
                await (await vaults.vaults.begin_create_or_update(GROUP, NAME, _vault_body())).result()
                reserved = False
            except ResourceExistsError:
                reserved = True
            await (await vaults.vaults.begin_purge_deleted(NAME, "westus")).result()
            again = await (await vaults.vaults.begin_create_or_update(GROUP, NAME, _vault_body())).result()
    return {"name": NAME, "url": url, "read": read, "reserved": reserved, "recreated": again.name == NAME}


if __name__ == "__main__":
    result = run_sync() if sys.argv[1] == "sync" else asyncio.run(run_async())
    print(json.dumps(result))
