"""Microsoft.KeyVault/managedHSMs: create (long-running, like vaults), get, list, update, delete (soft: the
HSM waits in deletedManagedHSMs), get and purge a deleted one.

Creating one makes (or adopts) the Emulator's Managed HSM ``https://<name>.managedhsm.azure.net`` with its
checks on: its data plane is authorized by its local RBAC alone, and ``initialAdminObjectIds`` hold Managed HSM
Administrator from the start. Shapes follow the resource-manager spec's ManagedHsm model (2023-07-01 and later);
the texts of its errors are unverified unless marked.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from ..hosts import VaultAddress
from ..objects.vault import Vault
from .context import ArmReply, ArmRequest, iso, require_group
from .errors import ArmError, bad_request
from .properties import VAULT_NAME
from .state import DeletedManagedHsmRecord, ManagedHsmRecord

__all__ = ["HANDLERS"]

_DAY = 86400.0
_TYPE = "Microsoft.KeyVault/managedHSMs"
_WRITABLE = (
    "tenantId",
    "initialAdminObjectIds",
    "enableSoftDelete",
    "softDeleteRetentionInDays",
    "enablePurgeProtection",
    "createMode",
    "networkAcls",
    "publicNetworkAccess",
    "regions",
)
_READ_ONLY = ("hsmUri", "provisioningState", "statusMessage", "scheduledPurgeDate", "securityDomainProperties")


def hsm_id(request: ArmRequest, record: ManagedHsmRecord) -> str:
    return (
        f"/subscriptions/{request.subscription_id}/resourceGroups/{record.resource_group}"
        f"/providers/{_TYPE}/{record.name}"
    )


def _render(request: ArmRequest, record: ManagedHsmRecord) -> dict[str, Any]:
    props = copy.deepcopy(record.properties)
    props.pop("createMode", None)
    props["hsmUri"] = f"https://{record.name.lower()}.managedhsm.azure.net/"
    props["provisioningState"] = "Succeeded"
    props["statusMessage"] = "The Managed HSM is provisioned and ready to use."  # unverified text
    return {
        "id": hsm_id(request, record),
        "name": record.name,
        "type": _TYPE,
        "location": record.location,
        "sku": record.sku,
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


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad_request(f"The property '{what}' must be an object.")  # unverified text
    return value


def _read_body(body: Any, *, creating: bool) -> tuple[str | None, dict[str, str] | None, dict[str, str] | None, dict]:
    """(location, tags, sku, properties) of a ManagedHsm body; read-only members sent back are ignored."""
    top = _object(body, "")
    location = top.get("location")
    if creating and (not isinstance(location, str) or not location.strip()):
        raise ArmError(400, "LocationRequired", "The location property is required for this definition.", verified=True)
    props = _object(top.get("properties") or {}, "properties")
    unknown = sorted(set(props) - set(_WRITABLE) - set(_READ_ONLY))
    if unknown:
        raise bad_request(f"The property '{unknown[0]}' is not a ManagedHsmProperties property.")  # unverified
    admins = props.get("initialAdminObjectIds", [])
    if not isinstance(admins, list) or not all(isinstance(oid, str) for oid in admins):
        raise bad_request("The property 'initialAdminObjectIds' must be an array of strings.")  # unverified text
    retention = props.get("softDeleteRetentionInDays", 90)
    if isinstance(retention, str) and retention.isdigit():  # az sends "7"; ARM reads a number in a string
        retention = props["softDeleteRetentionInDays"] = int(retention)
    if not isinstance(retention, int) or isinstance(retention, bool) or not 7 <= retention <= 90:
        raise bad_request("The property 'softDeleteRetentionInDays' must be between 7 and 90.")  # unverified text
    sku = top.get("sku")
    if sku is not None:
        sku = {k: str(v) for k, v in _object(sku, "sku").items()}
    tags = top.get("tags")
    if tags is not None:
        tags = {str(k): str(v) for k, v in _object(tags, "tags").items()}
    if creating and "tenantId" not in props:
        raise bad_request("The property 'tenantId' is required.")  # unverified text
    props = {k: v for k, v in props.items() if k in _WRITABLE}
    return (location.strip().lower().replace(" ", "") if isinstance(location, str) else None), tags, sku, props


def _apply(request: ArmRequest, record: ManagedHsmRecord) -> Vault:
    """The data plane: retention and purge protection, local RBAC on, the initial administrators."""
    props = record.properties
    settings = request.settings.replace(
        enable_soft_delete=True,
        soft_delete_retention_in_days=props.get("softDeleteRetentionInDays", 90),
        enable_purge_protection=bool(props.get("enablePurgeProtection")),
        enable_rbac_authorization=True,  # a Managed HSM always authorizes by its local RBAC
        location=record.location,
    )
    vault = request.vaults.configure(VaultAddress(record.name.lower(), True), settings)
    vault.authorization.resource_id = hsm_id(request, record)
    vault.access_control.set_administrators(list(props.get("initialAdminObjectIds", [])))
    return vault


def _not_found(name: str, group: str) -> ArmError:
    return ArmError(
        404,
        "ResourceNotFound",
        f"The Resource '{_TYPE}/{name}' under resource group '{group}' was not found. For more details please go "
        "to https://aka.ms/ARMResourceNotFoundFix",
        verified=True,  # ARM's generic text (as for vaults)
    )


def _record(request: ArmRequest, subscription_id: str, group: str, name: str) -> ManagedHsmRecord:
    found = require_group(request, subscription_id, group)
    with request.state.lock:
        record = request.state.hsms.get(name.lower())
    if record is None or record.resource_group.lower() != found.name.lower():
        raise _not_found(name, group)
    return record


def _expire(request: ArmRequest) -> None:
    with request.state.lock:
        for key, item in list(request.state.deleted_hsms.items()):
            if item.purge_at <= request.now:
                del request.state.deleted_hsms[key]
                request.vaults.release(VaultAddress(key, True))


def create_or_update(request: ArmRequest, subscriptionId: str, resourceGroupName: str, name: str) -> ArmReply:
    group = require_group(request, subscriptionId, resourceGroupName)
    if not VAULT_NAME.match(name):
        raise bad_request(f"The managed HSM name '{name}' is invalid.", "InvalidResourceName")  # unverified
    location, tags, sku, props = _read_body(request.json(), creating=True)
    assert location is not None
    key = name.lower()
    _expire(request)
    with request.state.lock:
        existing = request.state.hsms.get(key)
        if key in request.state.deleted_hsms and existing is None:
            raise ArmError(
                409,
                "ConflictError",
                f"A soft deleted managed HSM with the name '{name}' exists; purge it or use another name.",
            )  # unverified text
        if existing is not None and existing.resource_group.lower() != group.name.lower():
            raise ArmError(409, "Conflict", f"The managed HSM name '{name}' is already in use.")  # unverified text
        if existing is None:
            props.setdefault("initialAdminObjectIds", [])
            props.setdefault("enableSoftDelete", True)
            props.setdefault("softDeleteRetentionInDays", 90)
            props.setdefault("enablePurgeProtection", False)
            props.setdefault("publicNetworkAccess", "Enabled")
            props.setdefault("regions", [])
            props.pop("createMode", None)
            now = request.now
            record = ManagedHsmRecord(
                name,
                group.name,
                location,
                tags or {},
                sku or {"family": "B", "name": "Standard_B1"},
                props,
                now,
                now,
                *[request.caller_name] * 2,
            )
            request.state.hsms[key] = record
        else:
            record = existing
            record.properties = {**existing.properties, **{k: v for k, v in props.items() if k != "createMode"}}
            record.tags = tags if tags is not None else {}
            record.sku = sku or record.sku
            record.modified_at, record.modified_by = request.now, request.caller_name
        _apply(request, record)
    # The spec's responses are 200 and 202 (never 201, unlike a vault's): the emulator's work is already done.
    return request.operation_reply(200, _render(request, record), location=location, kind="async")


def update(request: ArmRequest, subscriptionId: str, resourceGroupName: str, name: str) -> ArmReply:
    record = _record(request, subscriptionId, resourceGroupName, name)
    _, tags, sku, props = _read_body(request.json(), creating=False)
    with request.state.lock:
        props.pop("createMode", None)
        record.properties = {**record.properties, **props}
        if tags is not None:
            record.tags = tags
        record.sku = sku or record.sku
        record.modified_at, record.modified_by = request.now, request.caller_name
        _apply(request, record)
    return request.operation_reply(200, _render(request, record), location=record.location, kind="async")


def get(request: ArmRequest, subscriptionId: str, resourceGroupName: str, name: str) -> ArmReply:
    return ArmReply(_render(request, _record(request, subscriptionId, resourceGroupName, name)))


def delete(request: ArmRequest, subscriptionId: str, resourceGroupName: str, name: str) -> ArmReply:
    """Soft delete: the HSM's host answers 404 until it is purged or its retention passes."""
    require_group(request, subscriptionId, resourceGroupName)
    try:
        record = _record(request, subscriptionId, resourceGroupName, name)
    except ArmError:
        return ArmReply(None, 204)
    key = record.name.lower()
    with request.state.lock:
        del request.state.hsms[key]
        purge_at = request.now + record.properties.get("softDeleteRetentionInDays", 90) * _DAY
        vault = request.vaults.remove(VaultAddress(key, True), until=purge_at) or _apply(request, record)
        request.vaults.remove(VaultAddress(key, True), until=purge_at)
        request.state.deleted_hsms[key] = DeletedManagedHsmRecord(record, vault, request.now, purge_at)
    return request.operation_reply(202, None, location=record.location, kind="location")


def _page(request: ArmRequest, records: list[ManagedHsmRecord]) -> ArmReply:
    return ArmReply({"value": [_render(request, r) for r in records]})


def list_by_subscription(request: ArmRequest, subscriptionId: str) -> ArmReply:
    request.check_subscription(subscriptionId)
    with request.state.lock:
        return _page(request, list(request.state.hsms.values()))


def list_by_resource_group(request: ArmRequest, subscriptionId: str, resourceGroupName: str) -> ArmReply:
    group = require_group(request, subscriptionId, resourceGroupName)
    with request.state.lock:
        records = [r for r in request.state.hsms.values() if r.resource_group.lower() == group.name.lower()]
    return _page(request, records)


def _render_deleted(request: ArmRequest, item: DeletedManagedHsmRecord) -> dict[str, Any]:
    record = item.record
    return {
        "id": f"/subscriptions/{request.subscription_id}/providers/Microsoft.KeyVault/locations/{record.location}"
        f"/deletedManagedHSMs/{record.name}",
        "name": record.name,
        "type": "Microsoft.KeyVault/deletedManagedHSMs",
        "properties": {
            "mhsmId": hsm_id(request, record),
            "location": record.location,
            "deletionDate": iso(item.deleted_at)[:19] + "Z",
            "scheduledPurgeDate": iso(item.purge_at)[:19] + "Z",
            "purgeProtectionEnabled": bool(record.properties.get("enablePurgeProtection")),
            "tags": record.tags,
        },
    }


def list_deleted(request: ArmRequest, subscriptionId: str) -> ArmReply:
    request.check_subscription(subscriptionId)
    _expire(request)
    with request.state.lock:
        items = list(request.state.deleted_hsms.values())
    return ArmReply({"value": [_render_deleted(request, item) for item in items]})


def _deleted(request: ArmRequest, subscriptionId: str, location: str, name: str) -> DeletedManagedHsmRecord:
    request.check_subscription(subscriptionId)
    _expire(request)
    with request.state.lock:
        item = request.state.deleted_hsms.get(name.lower())
    if item is None or item.record.location != location.lower():
        raise ArmError(
            404,
            "ResourceNotFound",
            f"The Resource 'Microsoft.KeyVault/locations/{location}/deletedManagedHSMs/{name}' was not found.",
        )  # unverified text
    return item


def get_deleted(request: ArmRequest, subscriptionId: str, location: str, name: str) -> ArmReply:
    return ArmReply(_render_deleted(request, _deleted(request, subscriptionId, location, name)))


def purge_deleted(request: ArmRequest, subscriptionId: str, location: str, name: str) -> ArmReply:
    item = _deleted(request, subscriptionId, location, name)
    if item.record.properties.get("enablePurgeProtection"):
        raise ArmError(409, "InvalidOperation", "Operation 'DeletedManagedHsmPurge' is not allowed.")  # unverified
    with request.state.lock:
        request.state.deleted_hsms.pop(name.lower(), None)
        request.vaults.release(VaultAddress(name.lower(), True))
    return request.operation_reply(202, None, location=item.record.location, kind="location")


HANDLERS: dict[str, Callable[..., ArmReply]] = {
    "ManagedHsms_CreateOrUpdate": create_or_update,
    "ManagedHsms_Update": update,
    "ManagedHsms_Get": get,
    "ManagedHsms_Delete": delete,
    "ManagedHsms_ListBySubscription": list_by_subscription,
    "ManagedHsms_ListByResourceGroup": list_by_resource_group,
    "ManagedHsms_ListDeleted": list_deleted,
    "ManagedHsms_GetDeleted": get_deleted,
    "ManagedHsms_PurgeDeleted": purge_deleted,
}
