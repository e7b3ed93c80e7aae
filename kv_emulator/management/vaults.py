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
from .context import ArmReply, ArmRequest, require_group
from .errors import ArmError, bad_request
from .lifecycle import Kind, name_in_body
from .properties import (
    VAULT_NAME,
    access_policy_body,
    create_body,
    invalid_vault_name,
    patch_body,
    permissions_for_data_plane,
)
from .rbac import grant_inherited
from .state import VaultRecord

__all__ = ["HANDLERS", "VAULTS", "delete_vault"]

_TYPE = "Microsoft.KeyVault/vaults"


def vault_id(request: ArmRequest, record: VaultRecord) -> str:
    return VAULTS.resource_id(request, record)


def _render(request: ArmRequest, record: VaultRecord) -> dict[str, Any]:
    props = copy.deepcopy(record.properties)
    props.pop("createMode", None)
    props["vaultUri"] = f"https://{record.name.lower()}.vault.azure.net/"
    props["provisioningState"] = "Succeeded"
    return VAULTS.render(request, record, props)


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


def vault_record(request: ArmRequest, subscription_id: str, group: str, name: str) -> VaultRecord:
    return VAULTS.record(request, subscription_id, group, name)


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


def _no_deleted(name: str) -> ArmError:
    return ArmError(
        404,
        "SoftDeletedVaultDoesNotExist",
        "A soft deleted vault with the given name does not exist. Ensure that the name for the vault that is being "
        "attempted to recover is in a recoverably deleted state. For more information on soft delete please follow "
        "this link https://go.microsoft.com/fwlink/?linkid=2149745",
    )  # code verified (terraform log), text unverified


VAULTS: Kind[VaultRecord] = Kind(
    type=_TYPE,
    deleted_type="deletedVaults",
    id_member="vaultId",
    purge_operation="DeletedVaultPurge",
    managed_hsm=False,
    live=lambda state: state.vaults,
    deleted=lambda state: state.deleted,
    name_pattern=VAULT_NAME,
    invalid_name=invalid_vault_name,
    name_taken=_already_exists,
    no_deleted=_no_deleted,
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
    VAULTS.expire(request)
    with request.state.lock:
        existing = request.state.vaults.get(key)
        deleted = request.state.deleted.get(key)
        if existing is not None and existing.resource_group.lower() != group.name.lower():
            raise _already_exists(vaultName)
        if props.get("createMode") == "recover" and existing is None:
            record = VAULTS.recover(request, group.name, vaultName, tags)
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

    def empty(record: VaultRecord) -> Vault:  # the data plane was forgotten (Emulator.reset): keep an empty one
        return request.vaults.configure(VaultAddress(record.name.lower()), _settings(request, record))

    VAULTS.soft_delete(request, name, empty)


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
    return page(request, [_render(request, r) for r in VAULTS.in_group(request, group.name)])


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


def get_deleted(request: ArmRequest, subscriptionId: str, location: str, vaultName: str) -> ArmReply:
    return VAULTS.get_deleted(request, subscriptionId, location, vaultName)


def purge_deleted(request: ArmRequest, subscriptionId: str, location: str, vaultName: str) -> ArmReply:
    item = VAULTS.purge(request, subscriptionId, location, vaultName)
    with request.state.lock:
        for name, assignment in list(request.state.assignments.items()):
            if assignment.vault == vaultName.lower():
                del request.state.assignments[name]
            assignment.grants.pop(vaultName.lower(), None)  # a new vault of this name starts without them
    return request.operation_reply(202, None, location=item.record.location, kind="location")


def check_name_availability(request: ArmRequest, subscriptionId: str) -> ArmReply:
    request.check_subscription(subscriptionId)
    name = name_in_body(request)
    if request.json().get("type") != _TYPE:
        raise bad_request(f"The type '{request.json().get('type')}' is invalid; it must be '{_TYPE}'.")  # unverified
    return VAULTS.check_name(request, name)


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
    "Vaults_ListDeleted": VAULTS.list_deleted,
    "Vaults_GetDeleted": get_deleted,
    "Vaults_PurgeDeleted": purge_deleted,
    "Vaults_CheckNameAvailability": check_name_availability,
    "Vaults_UpdateAccessPolicy": update_access_policy,
}
