"""Helpers for the control-plane tests: vault bodies in wire form and the ARM ids the emulator uses."""

from __future__ import annotations

from typing import Any

MANAGEMENT = "https://management.azure.com"
SUB = "00000000-0000-0000-0000-00000000c0de"
GROUP = "rg-test"
SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"
SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"


def vault_body(tenant_id: str, **properties: Any) -> dict[str, Any]:
    """A Vaults_CreateOrUpdate body (the new SDK sends dicts as they are, so wire names)."""
    props: dict[str, Any] = {"tenantId": tenant_id, "sku": {"family": "A", "name": "standard"}}
    props.update(properties)
    return {"location": "westus", "properties": props}


def vault_path(name: str, group: str = GROUP) -> str:
    return f"/subscriptions/{SUB}/resourceGroups/{group}/providers/Microsoft.KeyVault/vaults/{name}"


def role_definition(guid: str) -> str:
    return f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{guid}"


def owner_policy(keyvault: Any) -> list[dict[str, Any]]:
    """An access policy giving the emulator's own credential every permission."""
    every = ["all"]
    return [
        {
            "tenantId": keyvault.settings.tenant_id,
            "objectId": keyvault.credential.principal.object_id,
            "permissions": {"secrets": every, "keys": every, "certificates": every},
        }
    ]
