"""Vault properties from the wire: checked field by field, as the Key Vault resource provider checks them.

``create_body`` / ``patch_body`` turn a request body into a normalized ``properties`` dict (wire names) or
raise ARM's 400; nothing is stored until a body has passed. Texts marked unverified follow the service's
pattern (docs/errors.md lists them).
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from typing import Any

from .errors import ArmError, bad_request

__all__ = ["VAULT_NAME", "create_body", "invalid_vault_name", "patch_body", "permissions_for_data_plane"]

VAULT_NAME = re.compile(r"^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$")

_BOOLEANS = (
    "enabledForDeployment",
    "enabledForDiskEncryption",
    "enabledForTemplateDeployment",
    "enableSoftDelete",
    "enableRbacAuthorization",
    "enablePurgeProtection",
)
_READ_ONLY = ("vaultUri", "hsmPoolResourceId", "provisioningState", "privateEndpointConnections")
_WRITABLE = (
    "tenantId",
    "sku",
    "accessPolicies",
    *_BOOLEANS,
    "softDeleteRetentionInDays",
    "createMode",
    "networkAcls",
    "publicNetworkAccess",
)
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "keys": tuple(
        [
            "all",
            "encrypt",
            "decrypt",
            "wrapkey",
            "unwrapkey",
            "sign",
            "verify",
            "get",
            "list",
            "create",
            "update",
            "import",
            "delete",
            "backup",
            "restore",
            "recover",
            "purge",
            "release",
            "rotate",
            "getrotationpolicy",
            "setrotationpolicy",
        ]
    ),
    "secrets": tuple(["all", "get", "list", "set", "delete", "backup", "restore", "recover", "purge"]),
    "certificates": tuple(
        [
            "all",
            "get",
            "list",
            "delete",
            "create",
            "import",
            "update",
            "managecontacts",
            "getissuers",
            "listissuers",
            "setissuers",
            "deleteissuers",
            "manageissuers",
            "recover",
            "purge",
            "backup",
            "restore",
        ]
    ),
    "storage": tuple(
        [
            "all",
            "get",
            "list",
            "delete",
            "set",
            "update",
            "regeneratekey",
            "recover",
            "purge",
            "backup",
            "restore",
            "setsas",
            "listsas",
            "getsas",
            "deletesas",
        ]
    ),
}


def invalid_vault_name(name: str) -> ArmError:
    return ArmError(
        400,
        "VaultNameNotValid",
        f"The vault name '{name}' is invalid. A vault's name must be between 3-24 alphanumeric characters. The "
        "name must begin with a letter, end with a letter or digit, and not contain consecutive hyphens. Follow "
        "this link for more information: https://go.microsoft.com/fwlink/?linkid=2147742",
        verified=True,
    )


def _content(path: str, expected: str, value: Any) -> ArmError:
    # unverified text: ARM's deserializer names the path and the type it could not convert to
    return ArmError(
        400,
        "InvalidRequestContent",
        f"The request content was invalid and could not be deserialized: 'Error converting value "
        f"{_show(value)} to type '{expected}'. Path '{path}'.'",
    )


def _unknown(path: str, member: str, owner: str) -> ArmError:
    return ArmError(
        400,
        "InvalidRequestContent",
        f"The request content was invalid and could not be deserialized: 'Could not find member '{member}' on "
        f"object of type '{owner}'. Path '{path}'.'",
    )


def _show(value: Any) -> str:
    return "null" if value is None else repr(value) if isinstance(value, str) else str(value)


def _object(value: Any, path: str, owner: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _content(path, owner, value)
    for member in value:
        if member not in allowed:
            raise _unknown(f"{path}.{member}".lstrip("."), member, owner)
    return value


def _uuid(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise _content(path, "System.Guid", value)
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise _content(path, "System.Guid", value) from None


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise _content(path, "System.Boolean", value)
    return value


def _string_list(value: Any, path: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _content(path, "System.String[]", value)
    return list(value)


def _tags(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise _content("tags", "System.Collections.Generic.Dictionary[System.String,System.String]", value)
    return dict(value)


def _sku(value: Any) -> dict[str, str]:
    sku = _object(value, "properties.sku", "Sku", ("family", "name"))
    family, name = sku.get("family", "A"), sku.get("name")
    if family != "A":
        raise bad_request(f"The sku family '{family}' is invalid. The only supported family is 'A'.")  # unverified
    if not isinstance(name, str) or name.lower() not in ("standard", "premium"):
        raise bad_request(
            f"The sku name '{name}' is invalid. Supported names are 'standard' and 'premium'."
        )  # unverified
    return {"family": "A", "name": name.lower()}


def _access_policies(value: Any, path: str = "properties.accessPolicies") -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise _content(path, "AccessPolicyEntry[]", value)
    if len(value) > 1024:
        raise bad_request("The number of access policies exceeds the maximum of 1024.")  # unverified
    entries = []
    for index, raw in enumerate(value):
        where = f"{path}[{index}]"
        entry = _object(raw, where, "AccessPolicyEntry", ("tenantId", "objectId", "applicationId", "permissions"))
        for required in ("tenantId", "objectId", "permissions"):
            if required not in entry:
                raise bad_request(f"The property '{required}' is required in '{where}'.")  # unverified
        if not isinstance(entry["objectId"], str) or not entry["objectId"]:
            raise _content(f"{where}.objectId", "System.String", entry["objectId"])
        permissions = _object(entry["permissions"], f"{where}.permissions", "Permissions", tuple(PERMISSIONS))
        clean: dict[str, list[str]] = {}
        for kind, granted in permissions.items():
            names = _string_list(granted, f"{where}.permissions.{kind}")
            for name in names:
                if name.lower() not in PERMISSIONS[kind]:
                    raise bad_request(
                        f"The permission '{name}' is not valid for '{kind}' in '{where}'. Valid permissions are: "
                        f"{', '.join(PERMISSIONS[kind])}."
                    )  # unverified
            clean[kind] = names
        normalized: dict[str, Any] = {
            "tenantId": _uuid(entry["tenantId"], f"{where}.tenantId"),
            "objectId": entry["objectId"],
            "permissions": clean,
        }
        if entry.get("applicationId") is not None:
            normalized["applicationId"] = _uuid(entry["applicationId"], f"{where}.applicationId")
        entries.append(normalized)
    return entries


def _network(value: Any) -> dict[str, Any]:
    acls = _object(
        value, "properties.networkAcls", "NetworkRuleSet", ("bypass", "defaultAction", "ipRules", "virtualNetworkRules")
    )
    bypass = acls.get("bypass", "AzureServices")
    if bypass not in ("AzureServices", "None"):
        raise bad_request(f"The value '{bypass}' of 'networkAcls.bypass' is invalid: use AzureServices or None.")
    action = acls.get("defaultAction", "Allow")
    if action not in ("Allow", "Deny"):
        raise bad_request(f"The value '{action}' of 'networkAcls.defaultAction' is invalid: use Allow or Deny.")
    rules = acls.get("ipRules", [])
    if not isinstance(rules, list):
        raise _content("properties.networkAcls.ipRules", "IPRule[]", rules)
    ip_rules = []
    for index, rule in enumerate(rules):
        item = _object(rule, f"properties.networkAcls.ipRules[{index}]", "IPRule", ("value",))
        text = item.get("value")
        try:
            ipaddress.ip_network(str(text), strict=False)
        except ValueError:
            raise bad_request(
                f"The IP address or range '{text}' in 'networkAcls.ipRules' is invalid."  # unverified
            ) from None
        ip_rules.append({"value": str(text)})
    vnet = acls.get("virtualNetworkRules", [])
    if not isinstance(vnet, list):
        raise _content("properties.networkAcls.virtualNetworkRules", "VirtualNetworkRule[]", vnet)
    for index, rule in enumerate(vnet):
        _object(
            rule,
            f"properties.networkAcls.virtualNetworkRules[{index}]",
            "VirtualNetworkRule",
            ("id", "ignoreMissingVnetServiceEndpoint"),
        )
    return {"bypass": bypass, "defaultAction": action, "ipRules": ip_rules, "virtualNetworkRules": list(vnet)}


def _properties(raw: Any, owner: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    given = _object(raw, "properties", owner, allowed)
    props: dict[str, Any] = {}
    for name, value in given.items():
        if name in _READ_ONLY or value is None:
            continue
        path = f"properties.{name}"
        if name == "tenantId":
            props[name] = _uuid(value, path)
        elif name == "sku":
            props[name] = _sku(value)
        elif name == "accessPolicies":
            props[name] = _access_policies(value)
        elif name in _BOOLEANS:
            props[name] = _bool(value, path)
        elif name == "softDeleteRetentionInDays":
            if not isinstance(value, int) or isinstance(value, bool):
                raise _content(path, "System.Int32", value)
            if not 7 <= value <= 90:
                raise bad_request(
                    'The property "softDeleteRetentionInDays" has an invalid value. It must be between 7 and 90.'
                )  # unverified
            props[name] = value
        elif name == "createMode":
            if value not in ("default", "recover"):
                raise _content(path, "Microsoft.KeyVault.CreateMode", value)
            props[name] = value
        elif name == "networkAcls":
            props[name] = _network(value)
        elif name == "publicNetworkAccess":
            if not isinstance(value, str) or value.lower() not in ("enabled", "disabled"):
                raise bad_request(
                    f"The value '{value}' of 'publicNetworkAccess' is invalid: use Enabled or Disabled."
                )  # unverified
            props[name] = "Enabled" if value.lower() == "enabled" else "Disabled"
    if props.get("enablePurgeProtection") is False:
        # Verified (ARM deployment log, Azure/ai-hub#241, 2024): false is refused even where it was never on;
        # leave it out instead. Terraform's provider works around the same rule.
        raise bad_request(
            'The property "enablePurgeProtection" cannot be set to false. Enabling the purge protection for a vault '
            "is an irreversible action."
        )
    if props.get("enableSoftDelete") is False:
        raise bad_request(
            'The property "enableSoftDelete" cannot be set to false. Enabling the soft delete for a vault is an '
            "irreversible action."
        )  # unverified: soft-delete can no longer be switched off
    return props


def create_body(body: Any) -> tuple[str, dict[str, str] | None, dict[str, Any]]:
    """(location, tags, properties) of a Vaults_CreateOrUpdate body."""
    # A resource read back and sent again carries its read-only members; ARM ignores them.
    allowed_top = ("location", "tags", "properties", "id", "name", "type", "systemData", "etag")
    top = _object(body, "", "VaultCreateOrUpdateParameters", allowed_top)
    location = top.get("location")
    if not isinstance(location, str) or not location.strip():
        raise ArmError(400, "LocationRequired", "The location property is required for this definition.", verified=True)
    if "properties" not in top or top["properties"] is None:
        raise bad_request("The property 'properties' is required.")  # unverified
    allowed = tuple(_WRITABLE) + _READ_ONLY
    props = _properties(top["properties"], "VaultProperties", allowed)
    if props.get("createMode") != "recover":
        for required in ("tenantId", "sku"):
            if required not in props:
                raise bad_request(f"The property '{required}' is required.")  # unverified
    tags = _tags(top["tags"]) if top.get("tags") is not None else None
    return location.strip().lower().replace(" ", ""), tags, props


def patch_body(body: Any) -> tuple[dict[str, str] | None, dict[str, Any]]:
    """(tags, properties) of a Vaults_Update body."""
    top = _object(body, "", "VaultPatchParameters", ("tags", "properties"))
    patch_allowed = tuple(name for name in _WRITABLE)
    props = _properties(top.get("properties") or {}, "VaultPatchProperties", patch_allowed)
    tags = _tags(top["tags"]) if top.get("tags") is not None else None
    return tags, props


def access_policy_body(body: Any) -> list[dict[str, Any]]:
    top = _object(body, "", "VaultAccessPolicyParameters", ("id", "name", "type", "location", "properties"))
    props = _object(top.get("properties"), "properties", "VaultAccessPolicyProperties", ("accessPolicies",))
    if "accessPolicies" not in props:
        raise bad_request("The property 'accessPolicies' is required.")  # unverified
    return _access_policies(props["accessPolicies"], "properties.accessPolicies")


def permissions_for_data_plane(permissions: dict[str, list[str]]) -> dict[str, list[str]]:
    """ARM's permission names as the data plane checks them (``manageissuers`` covers the four issuer ones)."""
    result: dict[str, list[str]] = {}
    for kind in ("keys", "secrets", "certificates"):
        names = [name.lower() for name in permissions.get(kind, [])]
        if "manageissuers" in names:
            names += ["getissuers", "listissuers", "setissuers", "deleteissuers"]
        result[kind] = names
    return result
