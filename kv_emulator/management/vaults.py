"""Microsoft.KeyVault/vaults: one handler per spec operation (``Vaults_*``).

A vault resource's properties drive its data plane: creating one makes (or adopts) the Emulator's vault
of that name with those settings; updating it reconfigures that vault in place; deleting it soft-deletes the
whole data plane, which ``createMode: recover`` brings back and a purge forgets.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from ..config import Settings
from ..hosts import VaultAddress
from ..objects.vault import Vault
from . import versions
from .context import ArmReply, ArmRequest, iso, require_group
from .errors import ArmError, bad_request
from .properties import (
    VAULT_NAME,
    access_policy_body,
    create_body,
    invalid_vault_name,
    patch_body,
    permissions_for_data_plane,
)
from .rbac import grant_inherited
from .state import DeletedVaultRecord, VaultRecord

__all__ = ["HANDLERS", "delete_vault"]

_DAY = 86400.0
_TYPE = "Microsoft.KeyVault/vaults"


def vault_id(request: ArmRequest, record: VaultRecord) -> str:
    return (
        f"/subscriptions/{request.subscription_id}/resourceGroups/{record.resource_group}"
        f"/providers/{_TYPE}/{record.name}"
    )


def _render(request: ArmRequest, record: VaultRecord) -> dict[str, Any]:
    props = copy.deepcopy(record.properties)
    props.pop("createMode", None)
    props["vaultUri"] = f"https://{record.name.lower()}.vault.azure.net/"
    props["provisioningState"] = "Succeeded"
    return {
        "id": vault_id(request, record),
        "name": record.name,
        "type": _TYPE,
        "location": record.location,
        "tags": record.tags,
        "systemData": {
            "createdBy": record.created_by,
            "createdByType": "Application",
            "createdAt": iso(record.created_at),
            "lastModifiedBy": record.modified_by,
            "lastModifiedByType": "Application",
            "lastModifiedAt": iso(record.modified_at),
        },
        "properties": props,
    }


def _settings(request: ArmRequest, record: VaultRecord) -> Settings:
    props = record.properties
    return request.settings.replace(
        enable_soft_delete=True,
        soft_delete_retention_in_days=props.get("softDeleteRetentionInDays", 90),
        enable_purge_protection=bool(props.get("enablePurgeProtection")),
        sku=props["sku"]["name"],
        enable_rbac_authorization=bool(props.get("enableRbacAuthorization")),
        location=record.location,
    )


def _apply(request: ArmRequest, record: VaultRecord, previous: dict[str, Any] | None) -> Vault:
    """Make the data plane what the properties say: settings, access policies, network rules."""
    vault = request.vaults.configure(VaultAddress(record.name.lower()), _settings(request, record))
    vault.authorization.resource_id = vault_id(request, record)
    grant_inherited(request.state, record, vault)
    with vault.authorization.batch():  # one VaultAccessPolicyChanged for the PUT, none if nothing changed
        for entry in (previous or {}).get("accessPolicies", []):
            vault.authorization.remove_access_policy(entry["objectId"])
        for entry in record.properties.get("accessPolicies", []):
            policy = permissions_for_data_plane(entry["permissions"])
            vault.authorization.set_access_policy(entry["objectId"], **policy)
    acls = record.properties.get("networkAcls") or {}
    vault.network.configure(
        public_network_access=record.properties.get("publicNetworkAccess", "Enabled") == "Enabled",
        default_action=acls.get("defaultAction", "Allow"),
        ip_rules=[rule["value"] for rule in acls.get("ipRules", [])],
    )
    return vault


def _not_found(name: str, group: str) -> ArmError:
    return ArmError(
        404,
        "ResourceNotFound",
        f"The Resource '{_TYPE}/{name}' under resource group '{group}' was not found. For more details please go "
        "to https://aka.ms/ARMResourceNotFoundFix",
        verified=True,
    )


def vault_record(request: ArmRequest, subscription_id: str, group: str, name: str) -> VaultRecord:
    found = require_group(request, subscription_id, group)
    with request.state.lock:
        record = request.state.vaults.get(name.lower())
    if record is None or record.resource_group.lower() != found.name.lower():
        raise _not_found(name, group)
    return record


def _already_exists(name: str) -> ArmError:
    # Seen in Terraform logs (Esri/arcgis-gitops#174, 2025); older logs spell "globaly" and lack "about ...".
    return ArmError(
        409,
        "VaultAlreadyExists",
        f"The vault name '{name}' is already in use. Vault names are globally unique so it is possible that the "
        "name is already taken. If you are sure that the vault name was not taken then it is possible that a vault "
        "with the same name was recently deleted but not purged after being placed in a recoverable state. If the "
        "vault is in a recoverable state then the vault will need to be purged before reusing the name. For more "
        "information about VaultAlreadyExists, soft delete and purging a vault follow this link "
        "https://go.microsoft.com/fwlink/?linkid=2147740.",
        verified=True,
    )


# Seen in a Pulumi log (alan-turing-institute/data-safe-haven#2523, 2026); older services said "Exist soft
# deleted vault with the same name." (MicrosoftDocs/azure-docs#50228, 2020).
_DELETED_CONFLICT = (
    "A vault with the same name already exists in deleted state. You need to either recover or purge existing key "
    "vault. Follow this link https://go.microsoft.com/fwlink/?linkid=2149745 for more information on soft delete."
)


def _check_changes(old: dict[str, Any], new: dict[str, Any]) -> None:
    if old.get("enablePurgeProtection") and new.get("enablePurgeProtection") is False:
        raise bad_request(
            'The property "enablePurgeProtection" cannot be set to false. Enabling the purge protection for a vault '
            "is an irreversible action."
        )  # verified (ARM deployment log, 2024)
    if new.get("softDeleteRetentionInDays", 90) != old.get("softDeleteRetentionInDays", 90):
        raise bad_request(
            'The property "softDeleteRetentionInDays" cannot be changed after the vault is created.'
        )  # unverified text; the rule is documented ("Once set, the retention policy interval cannot be changed.")


def create_or_update(request: ArmRequest, subscriptionId: str, resourceGroupName: str, vaultName: str) -> ArmReply:
    group = require_group(request, subscriptionId, resourceGroupName)
    if not VAULT_NAME.match(vaultName):
        raise invalid_vault_name(vaultName)
    location, tags, props = create_body(request.json())
    key = vaultName.lower()
    now = request.now
    request.state.expire(now)
    with request.state.lock:
        existing = request.state.vaults.get(key)
        deleted = request.state.deleted.get(key)
        if existing is not None and existing.resource_group.lower() != group.name.lower():
            raise _already_exists(vaultName)
        if props.get("createMode") == "recover" and existing is None:
            if deleted is None:
                raise ArmError(
                    404,
                    "SoftDeletedVaultDoesNotExist",
                    "A soft deleted vault with the given name does not exist. Ensure that the name for the vault that "
                    "is being attempted to recover is in a recoverably deleted state. For more information on soft "
                    "delete please follow this link https://go.microsoft.com/fwlink/?linkid=2149745",
                )  # code verified (terraform log), text unverified
            record = deleted.record
            record.resource_group = group.name
            record.tags = tags if tags is not None else record.tags
            record.modified_at, record.modified_by = now, request.caller_name
            del request.state.deleted[key]
            request.state.vaults[key] = record
            request.vaults.put(deleted.vault)
            _apply(request, record, None)
            return request.operation_reply(200, _render(request, record), location=record.location, kind="async")
        if deleted is not None and existing is None:
            raise ArmError(409, "ConflictError", _DELETED_CONFLICT, verified=True)
        if existing is None:
            props.setdefault("enableSoftDelete", True)
            props.setdefault("softDeleteRetentionInDays", 90)
            props.setdefault("enableRbacAuthorization", versions.rbac_by_default(request.api_version))
            props.setdefault("accessPolicies", [])
            props.setdefault("enabledForDeployment", False)
            props.setdefault("enabledForDiskEncryption", False)
            props.setdefault("enabledForTemplateDeployment", False)
            props.setdefault("publicNetworkAccess", "Enabled")
            props.pop("createMode", None)
            record = VaultRecord(
                vaultName, group.name, location, tags or {}, props, now, now, *[request.caller_name] * 2
            )
            _apply(request, record, None)
            request.state.vaults[key] = record
            return request.operation_reply(201, _render(request, record), location=location, kind="async")
        if location != existing.location:
            raise ArmError(
                400,
                "LocationNotAvailableForResourceType",  # unverified: a vault cannot move
                f"The vault '{vaultName}' exists in location '{existing.location}'; it cannot be moved to "
                f"'{location}'.",
            )
        props.pop("createMode", None)
        merged = {**existing.properties, **props}
        merged.setdefault("accessPolicies", [])
        _check_changes(existing.properties, merged)
        previous = existing.properties
        existing.properties = merged
        existing.tags = tags if tags is not None else {}
        existing.modified_at, existing.modified_by = now, request.caller_name
        _apply(request, existing, previous)
        return ArmReply(_render(request, existing), 200)


def update(request: ArmRequest, subscriptionId: str, resourceGroupName: str, vaultName: str) -> ArmReply:
    record = vault_record(request, subscriptionId, resourceGroupName, vaultName)
    tags, props = patch_body(request.json())
    props.pop("createMode", None)
    with request.state.lock:
        merged = {**record.properties, **props}
        _check_changes(record.properties, merged)
        previous = record.properties
        record.properties = merged
        if tags is not None:
            record.tags = tags
        record.modified_at, record.modified_by = request.now, request.caller_name
        _apply(request, record, previous)
    return ArmReply(_render(request, record))


def get(request: ArmRequest, subscriptionId: str, resourceGroupName: str, vaultName: str) -> ArmReply:
    return ArmReply(_render(request, vault_record(request, subscriptionId, resourceGroupName, vaultName)))


def delete_vault(request: ArmRequest, name: str) -> None:
    """Soft-delete a vault resource: its data plane leaves the Emulator and waits for recover or purge."""
    key = name.lower()
    with request.state.lock:
        record = request.state.vaults.pop(key)
        purge_at = request.now + record.properties.get("softDeleteRetentionInDays", 90) * _DAY
        vault = request.vaults.remove(VaultAddress(key), until=purge_at)
        if vault is None:  # the data plane was forgotten (Emulator.reset): keep an empty one to recover
            vault = request.vaults.configure(VaultAddress(key), _settings(request, record))
            request.vaults.remove(VaultAddress(key), until=purge_at)
        request.state.deleted[key] = DeletedVaultRecord(record, vault, request.now, purge_at)


def delete(request: ArmRequest, subscriptionId: str, resourceGroupName: str, vaultName: str) -> ArmReply:
    require_group(request, subscriptionId, resourceGroupName)
    try:
        record = vault_record(request, subscriptionId, resourceGroupName, vaultName)
    except ArmError:
        return ArmReply(None, 204)
    delete_vault(request, record.name)
    return ArmReply(None, 200)


def page(request: ArmRequest, items: list[dict[str, Any]]) -> ArmReply:
    """``$top`` pages with a ``nextLink`` that carries ``$skiptoken``; otherwise everything at once."""
    top = request.query.get("$top")
    skip = request.query.get("$skiptoken", "0")
    if top is None and skip == "0":
        return ArmReply({"value": items})
    if (top is not None and not top.isdigit()) or not skip.isdigit():
        raise bad_request(f"The value '{top}' of '$top' is invalid.", "InvalidQueryParameterValue")  # unverified
    start, size = int(skip), int(top) if top else len(items)
    body: dict[str, Any] = {"value": items[start : start + max(size, 1)]}
    if start + max(size, 1) < len(items):
        body["nextLink"] = (
            f"{request.base_url}{request.path}?api-version={request.api_version}"
            f"&$top={size}&$skiptoken={start + max(size, 1)}"
        )
    return ArmReply(body)


def list_by_resource_group(request: ArmRequest, subscriptionId: str, resourceGroupName: str) -> ArmReply:
    group = require_group(request, subscriptionId, resourceGroupName)
    with request.state.lock:
        records = [r for r in request.state.vaults.values() if r.resource_group.lower() == group.name.lower()]
    return page(request, [_render(request, r) for r in records])


def list_by_subscription(request: ArmRequest, subscriptionId: str) -> ArmReply:
    request.check_subscription(subscriptionId)
    with request.state.lock:
        records = list(request.state.vaults.values())
    return page(request, [_render(request, r) for r in records])


def list_resources(request: ArmRequest, subscriptionId: str) -> ArmReply:
    """Vaults_List is ARM's generic resource list filtered to vaults: id, name, type, location, tags."""
    request.check_subscription(subscriptionId)
    wanted = request.query.get("$filter", "")
    if wanted and _TYPE.lower() not in wanted.lower().replace('"', "'"):
        return ArmReply({"value": []})  # the emulator holds no other resource types
    with request.state.lock:
        records = list(request.state.vaults.values())
    items = [
        {"id": vault_id(request, r), "name": r.name, "type": _TYPE, "location": r.location, "tags": r.tags}
        for r in records
    ]
    return page(request, items)


def _render_deleted(request: ArmRequest, item: DeletedVaultRecord) -> dict[str, Any]:
    record = item.record
    return {
        "id": f"/subscriptions/{request.subscription_id}/providers/Microsoft.KeyVault/locations/{record.location}"
        f"/deletedVaults/{record.name}",
        "name": record.name,
        "type": "Microsoft.KeyVault/deletedVaults",
        "properties": {
            "vaultId": vault_id(request, record),
            "location": record.location,
            "deletionDate": iso(item.deleted_at)[:19] + "Z",
            "scheduledPurgeDate": iso(item.purge_at)[:19] + "Z",
            "tags": record.tags,
            "purgeProtectionEnabled": bool(record.properties.get("enablePurgeProtection")),
        },
    }


def list_deleted(request: ArmRequest, subscriptionId: str) -> ArmReply:
    request.check_subscription(subscriptionId)
    request.state.expire(request.now)
    with request.state.lock:
        items = list(request.state.deleted.values())
    return ArmReply({"value": [_render_deleted(request, item) for item in items]})


def _deleted(request: ArmRequest, subscriptionId: str, location: str, vaultName: str) -> DeletedVaultRecord:
    request.check_subscription(subscriptionId)
    request.state.expire(request.now)
    with request.state.lock:
        item = request.state.deleted.get(vaultName.lower())
    if item is None or item.record.location != location.lower():
        raise ArmError(
            404,
            "ResourceNotFound",
            f"The Resource 'Microsoft.KeyVault/locations/{location}/deletedVaults/{vaultName}' was not found.",
        )  # unverified text
    return item


def get_deleted(request: ArmRequest, subscriptionId: str, location: str, vaultName: str) -> ArmReply:
    return ArmReply(_render_deleted(request, _deleted(request, subscriptionId, location, vaultName)))


def purge_deleted(request: ArmRequest, subscriptionId: str, location: str, vaultName: str) -> ArmReply:
    item = _deleted(request, subscriptionId, location, vaultName)
    if item.record.properties.get("enablePurgeProtection"):
        raise ArmError(
            409, "InvalidOperation", "Operation 'DeletedVaultPurge' is not allowed.", verified=True
        )  # code and text from Azure/azure-sdk-tools#9329 (2024; MethodNotAllowed in 2022); the status is unverified
    with request.state.lock:
        request.state.deleted.pop(vaultName.lower(), None)
        request.vaults.release(VaultAddress(vaultName.lower()))
        for name, assignment in list(request.state.assignments.items()):
            if assignment.vault == vaultName.lower():
                del request.state.assignments[name]
            assignment.grants.pop(vaultName.lower(), None)  # a new vault of this name starts without them
    return request.operation_reply(202, None, location=item.record.location, kind="location")


def check_name_availability(request: ArmRequest, subscriptionId: str) -> ArmReply:
    request.check_subscription(subscriptionId)
    body = request.json()
    if not isinstance(body, dict) or not isinstance(body.get("name"), str):
        raise bad_request("The property 'name' is required.")  # unverified
    if body.get("type") != _TYPE:
        raise bad_request(f"The type '{body.get('type')}' is invalid; it must be '{_TYPE}'.")  # unverified
    name = body["name"]
    if not VAULT_NAME.match(name):
        return ArmReply(
            {"nameAvailable": False, "reason": "AccountNameInvalid", "message": invalid_vault_name(name).message}
        )
    request.state.expire(request.now)
    with request.state.lock:
        taken = name.lower() in request.state.vaults or name.lower() in request.state.deleted
    if taken:
        return ArmReply({"nameAvailable": False, "reason": "AlreadyExists", "message": _already_exists(name).message})
    return ArmReply({"nameAvailable": True})


def _same_entry(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return (a["tenantId"], a["objectId"].lower(), a.get("applicationId")) == (
        b["tenantId"],
        b["objectId"].lower(),
        b.get("applicationId"),
    )


def update_access_policy(
    request: ArmRequest, subscriptionId: str, resourceGroupName: str, vaultName: str, operationKind: str
) -> ArmReply:
    record = vault_record(request, subscriptionId, resourceGroupName, vaultName)
    kind = operationKind.lower()
    if kind not in ("add", "replace", "remove"):
        raise bad_request(
            f"The operation kind '{operationKind}' is invalid. Valid values are add, replace and remove."
        )  # unverified
    changes = access_policy_body(request.json())
    with request.state.lock:
        previous = record.properties
        policies = copy.deepcopy(previous.get("accessPolicies", []))
        for change in changes:
            current = next((p for p in policies if _same_entry(p, change)), None)
            if kind == "replace" or (kind == "add" and current is None):
                if current is not None:
                    policies.remove(current)
                if kind == "replace" or any(change["permissions"].values()):
                    policies.append(change)
                continue
            if current is None:
                continue
            for perm_kind, names in change["permissions"].items():
                have = current["permissions"].get(perm_kind, [])
                lowered = {n.lower() for n in have}
                if kind == "add":
                    have = have + [n for n in names if n.lower() not in lowered]
                else:
                    drop = {n.lower() for n in names}
                    have = [n for n in have if n.lower() not in drop]
                current["permissions"][perm_kind] = have
            if kind == "remove" and not any(current["permissions"].values()):
                policies.remove(current)
        record.properties = {**previous, "accessPolicies": policies}
        record.modified_at, record.modified_by = request.now, request.caller_name
        _apply(request, record, previous)
    return ArmReply(
        {
            "id": vault_id(request, record) + "/accessPolicies/",
            "type": "Microsoft.KeyVault/vaults/accessPolicies",
            "properties": {"accessPolicies": changes},
        }
    )


HANDLERS: dict[str, Callable[..., ArmReply]] = {
    "Vaults_CreateOrUpdate": create_or_update,
    "Vaults_Update": update,
    "Vaults_Get": get,
    "Vaults_Delete": delete,
    "Vaults_ListByResourceGroup": list_by_resource_group,
    "Vaults_ListBySubscription": list_by_subscription,
    "Vaults_List": list_resources,
    "Vaults_ListDeleted": list_deleted,
    "Vaults_GetDeleted": get_deleted,
    "Vaults_PurgeDeleted": purge_deleted,
    "Vaults_CheckNameAvailability": check_name_availability,
    "Vaults_UpdateAccessPolicy": update_access_policy,
}
