"""Secrets and keys as ARM resources (``Secrets_*``, ``Keys_*``): what ARM templates, Bicep and Terraform
create inside a vault. They are the vault's data-plane secrets and keys: a secret PUT through ARM is a new
version a ``SecretClient`` reads, and the other way round. ARM never returns a secret's value."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..hosts import VaultAddress
from ..objects.keys import Key
from ..objects.secrets import Secret
from ..objects.vault import Vault
from .context import ArmReply, ArmRequest
from .errors import ArmError, bad_request, not_implemented
from .state import VaultRecord
from .vaults import page, vault_id, vault_record

__all__ = ["HANDLERS"]

_ATTRIBUTES = ("enabled", "nbf", "exp", "created", "updated", "recoveryLevel", "exportable")


def _vault(request: ArmRequest, subscription_id: str, group: str, name: str) -> tuple[VaultRecord, Vault]:
    record = vault_record(request, subscription_id, group, name)
    return record, request.vaults.at(VaultAddress(record.name.lower()))


def _attributes(version: Secret | Key, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    attributes = version.attributes
    rendered: dict[str, Any] = {
        "enabled": attributes.enabled,
        "created": attributes.created,
        "updated": attributes.updated,
    }
    if attributes.not_before is not None:
        rendered["nbf"] = attributes.not_before
    if attributes.expires is not None:
        rendered["exp"] = attributes.expires
    return {**rendered, **(extra or {})}


def _resource(request: ArmRequest, record: VaultRecord, kind: str, name: str, tags: dict[str, str]) -> dict[str, Any]:
    return {
        "id": f"{vault_id(request, record)}/{kind}/{name}",
        "name": name,
        "type": f"Microsoft.KeyVault/vaults/{kind}",
        "location": record.location,
        "tags": tags,
    }


def _render_secret(request: ArmRequest, record: VaultRecord, secret: Secret) -> dict[str, Any]:
    uri = f"https://{record.name.lower()}.vault.azure.net/secrets/{secret.name}"
    properties: dict[str, Any] = {
        "attributes": _attributes(secret),
        "secretUri": uri,
        "secretUriWithVersion": f"{uri}/{secret.version}",
    }
    if secret.payload.content_type is not None:
        properties["contentType"] = secret.payload.content_type
    return {**_resource(request, record, "secrets", secret.name, secret.tags), "properties": properties}


def _render_key(request: ArmRequest, record: VaultRecord, vault: Vault, key: Key) -> dict[str, Any]:
    uri = f"https://{record.name.lower()}.vault.azure.net/keys/{key.name}"
    material = key.payload.material
    extra = {"recoveryLevel": vault.settings.recovery_level, "exportable": key.payload.exportable}
    properties: dict[str, Any] = {
        "attributes": _attributes(key, extra),
        "kty": material.kty,
        "keyOps": list(key.payload.key_ops),
        "keyUri": uri,
        "keyUriWithVersion": f"{uri}/{key.version}",
    }
    if material.key_size is not None and material.family != "EC":
        properties["keySize"] = material.key_size
    if material.curve is not None:
        properties["curveName"] = material.curve
    return {**_resource(request, record, "keys", key.name, key.tags), "properties": properties}


def _body(request: ArmRequest, owner: str, allowed: tuple[str, ...]) -> tuple[dict[str, str] | None, dict[str, Any]]:
    body = request.json()
    if not isinstance(body, dict) or not isinstance(body.get("properties", {}), dict):
        raise bad_request(f"The request content is not a valid {owner}.", "InvalidRequestContent")  # unverified
    unknown = sorted(set(body) - {"tags", "properties", "id", "name", "type", "location"}) or sorted(
        set(body.get("properties") or {}) - set(allowed)
    )
    if unknown:
        raise ArmError(
            400,
            "InvalidRequestContent",  # unverified text, ARM's deserializer's pattern
            "The request content was invalid and could not be deserialized: "
            f"'Could not find member '{unknown[0]}' on object of type '{owner}'.'",
        )
    tags = body.get("tags")
    if tags is not None and (not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values())):
        raise bad_request("The tags must be an object of string values.", "InvalidRequestContent")  # unverified
    return tags, body.get("properties") or {}


def _times(attributes: Any) -> dict[str, Any]:
    """Data-plane keywords from ARM ``attributes`` (``enabled``, ``nbf``, ``exp``); the rest are read-only."""
    if attributes is None:
        return {}
    if not isinstance(attributes, dict) or set(attributes) - set(_ATTRIBUTES):
        raise bad_request("The property 'attributes' is invalid.", "InvalidRequestContent")  # unverified
    changes: dict[str, Any] = {}
    if "enabled" in attributes:
        if not isinstance(attributes["enabled"], bool):
            raise bad_request("The property 'attributes.enabled' must be a boolean.", "InvalidRequestContent")
        changes["enabled"] = attributes["enabled"]
    for wire, keyword in (("nbf", "not_before"), ("exp", "expires")):
        if wire in attributes:
            value = attributes[wire]
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise bad_request(f"The property 'attributes.{wire}' must be an integer.", "InvalidRequestContent")
            changes[keyword] = value
    return changes


_SECRET_PROPERTIES = ("value", "contentType", "attributes", "secretUri", "secretUriWithVersion")


def secrets_create_or_update(
    request: ArmRequest, subscriptionId: str, resourceGroupName: str, vaultName: str, secretName: str
) -> ArmReply:
    record, vault = _vault(request, subscriptionId, resourceGroupName, vaultName)
    tags, props = _body(request, "SecretProperties", _SECRET_PROPERTIES)
    value = props.get("value")
    if not isinstance(value, str):
        raise bad_request("The property 'value' is required and must be a string.")  # unverified
    existed = secretName in vault.secrets
    secret = vault.secrets.set(
        secretName, value, content_type=props.get("contentType"), tags=tags, **_times(props.get("attributes"))
    )
    return ArmReply(_render_secret(request, record, secret), 200 if existed else 201)


def secrets_update(
    request: ArmRequest, subscriptionId: str, resourceGroupName: str, vaultName: str, secretName: str
) -> ArmReply:
    """A value makes a new version (carrying the rest); without one, the latest version's properties change."""
    record, vault = _vault(request, subscriptionId, resourceGroupName, vaultName)
    tags, props = _body(request, "SecretPatchProperties", ("value", "contentType", "attributes"))
    current = vault.secrets.get(secretName)
    times = _times(props.get("attributes"))
    if "value" in props:
        if not isinstance(props["value"], str):
            raise bad_request("The property 'value' must be a string.")  # unverified
        secret = vault.secrets.set(
            secretName,
            props["value"],
            content_type=props.get("contentType", current.payload.content_type),
            tags=tags if tags is not None else current.tags,
            **times,
        )
        return ArmReply(_render_secret(request, record, secret), 201)
    content: Any = props.get("contentType", ...)
    secret = vault.secrets.update_properties(secretName, content_type=content, tags=tags, **times)
    return ArmReply(_render_secret(request, record, secret), 200)


def secrets_get(
    request: ArmRequest, subscriptionId: str, resourceGroupName: str, vaultName: str, secretName: str
) -> ArmReply:
    record, vault = _vault(request, subscriptionId, resourceGroupName, vaultName)
    return ArmReply(_render_secret(request, record, vault.secrets.get(secretName)))


def secrets_list(request: ArmRequest, subscriptionId: str, resourceGroupName: str, vaultName: str) -> ArmReply:
    record, vault = _vault(request, subscriptionId, resourceGroupName, vaultName)
    return page(request, [_render_secret(request, record, obj.latest) for obj in vault.secrets.list()])


_KEY_PROPERTIES = (
    "attributes", "kty", "keyOps", "keySize", "curveName", "keyUri", "keyUriWithVersion", "rotationPolicy",
    "release_policy",
)  # fmt: skip


def keys_create_if_not_exist(
    request: ArmRequest, subscriptionId: str, resourceGroupName: str, vaultName: str, keyName: str
) -> ArmReply:
    record, vault = _vault(request, subscriptionId, resourceGroupName, vaultName)
    tags, props = _body(request, "KeyProperties", _KEY_PROPERTIES)
    for unsupported in ("rotationPolicy", "release_policy"):
        if props.get(unsupported) is not None:
            raise not_implemented(f"Keys_CreateIfNotExist with {unsupported}", request.method, request.path)
    if keyName in vault.keys:
        return ArmReply(_render_key(request, record, vault, vault.keys.get(keyName)))
    kty, size, curve, ops = props.get("kty"), props.get("keySize"), props.get("curveName"), props.get("keyOps")
    if not isinstance(kty, str):
        raise bad_request("The property 'kty' is required.")  # unverified
    if (size is not None and not isinstance(size, int)) or (curve is not None and not isinstance(curve, str)):
        raise bad_request("The properties 'keySize' and 'curveName' must be an integer and a string.")  # unverified
    if ops is not None and (not isinstance(ops, list) or not all(isinstance(op, str) for op in ops)):
        raise bad_request("The property 'keyOps' must be a list of strings.")  # unverified
    attributes = props.get("attributes") or {}
    exportable = attributes.get("exportable", False) if isinstance(attributes, dict) else False
    key = vault.keys.create(
        keyName,
        kty,
        size=size,
        curve=curve,
        key_ops=ops,
        tags=tags,
        exportable=bool(exportable),
        **_times(attributes or None),
    )
    return ArmReply(_render_key(request, record, vault, key))


def keys_get(
    request: ArmRequest, subscriptionId: str, resourceGroupName: str, vaultName: str, keyName: str
) -> ArmReply:
    record, vault = _vault(request, subscriptionId, resourceGroupName, vaultName)
    return ArmReply(_render_key(request, record, vault, vault.keys.get(keyName)))


def keys_get_version(
    request: ArmRequest, subscriptionId: str, resourceGroupName: str, vaultName: str, keyName: str, keyVersion: str
) -> ArmReply:
    record, vault = _vault(request, subscriptionId, resourceGroupName, vaultName)
    return ArmReply(_render_key(request, record, vault, vault.keys.get(keyName, keyVersion)))


def keys_list(request: ArmRequest, subscriptionId: str, resourceGroupName: str, vaultName: str) -> ArmReply:
    record, vault = _vault(request, subscriptionId, resourceGroupName, vaultName)
    return page(request, [_render_key(request, record, vault, obj.latest) for obj in vault.keys.list()])


def keys_list_versions(
    request: ArmRequest, subscriptionId: str, resourceGroupName: str, vaultName: str, keyName: str
) -> ArmReply:
    record, vault = _vault(request, subscriptionId, resourceGroupName, vaultName)
    return page(request, [_render_key(request, record, vault, key) for key in vault.keys.list_versions(keyName)])


def empty_list(request: ArmRequest, subscriptionId: str, resourceGroupName: str, vaultName: str) -> ArmReply:
    """Private endpoint connections of a vault: the emulator has none."""
    vault_record(request, subscriptionId, resourceGroupName, vaultName)
    return ArmReply({"value": []})


_OPERATIONS = (
    ("vaults/read", "Key Vault", "View Key Vault", "View the properties of a key vault"),
    ("vaults/write", "Key Vault", "Update Key Vault", "Create or update a key vault"),
    ("vaults/delete", "Key Vault", "Delete Key Vault", "Delete a key vault"),
    ("vaults/accessPolicies/write", "Access Policy", "Update Access Policy", "Update an existing access policy"),
    ("deletedVaults/read", "Deleted Key Vault", "View Deleted Key Vault", "View soft deleted key vaults"),
    ("locations/deletedVaults/purge/action", "Deleted Key Vault", "Purge Key Vault", "Purge a deleted key vault"),
    ("checkNameAvailability/read", "Key Vault Name", "Check Name Availability", "Check a key vault name"),
    ("vaults/secrets/read", "Secret", "View Secret Properties", "View the properties of a secret, but not its value"),
    ("vaults/secrets/write", "Secret", "Update Secret", "Create or update a secret"),
    ("vaults/keys/read", "Key", "Read Key Properties", "Read the properties of keys"),
    ("vaults/keys/write", "Key", "Create Key", "Create a new key"),
)  # fmt: skip


def operations_list(request: ArmRequest) -> ArmReply:
    """The management operations the emulator answers (a subset of the provider's list)."""
    return ArmReply(
        {
            "value": [
                {
                    "name": f"Microsoft.KeyVault/{name}",
                    "display": {"provider": "Microsoft Key Vault", "resource": resource, "operation": operation,
                                "description": description},
                    "origin": "user,system",
                    "isDataAction": False,
                }
                for name, resource, operation, description in _OPERATIONS
            ]
        }
    )  # fmt: skip


HANDLERS: dict[str, Callable[..., ArmReply]] = {
    "Operations_List": operations_list,
    "PrivateEndpointConnections_ListByResource": empty_list,
    "Secrets_CreateOrUpdate": secrets_create_or_update,
    "Secrets_Update": secrets_update,
    "Secrets_Get": secrets_get,
    "Secrets_List": secrets_list,
    "Keys_CreateIfNotExist": keys_create_if_not_exist,
    "Keys_Get": keys_get,
    "Keys_GetVersion": keys_get_version,
    "Keys_List": keys_list,
    "Keys_ListVersions": keys_list_versions,
}
