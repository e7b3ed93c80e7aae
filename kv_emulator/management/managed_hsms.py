"""Microsoft.KeyVault/managedHSMs: create (long-running, like vaults), get, list, update, delete (soft: the
HSM waits in deletedManagedHSMs, and ``createMode: recover`` brings it back), get and purge a deleted one, the
name check. The lifecycle it shares with vaults is lifecycle.py's.

Creating one makes (or adopts) the Emulator's Managed HSM ``https://<name>.managedhsm.azure.net`` with its
checks on: its data plane is authorized by its local RBAC alone, and ``initialAdminObjectIds`` hold Managed HSM
Administrator from the start. As on the service, a new HSM is provisioned but not activated: nothing but its
security domain answers until the domain is downloaded, and ``securityDomainProperties`` says which. Shapes
follow the resource-manager spec's ManagedHsm model (2023-07-01 and later); the texts of its errors are
unverified unless marked.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from ..objects.vault import Vault
from .context import ArmReply, ArmRequest, require_group
from .errors import ArmError, bad_request
from .lifecycle import Kind, name_in_body
from .properties import VAULT_NAME
from .state import ManagedHsmRecord

__all__ = ["HANDLERS", "HSMS", "delete_hsm"]

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
# Seen in a GET of a new HSM (Azure PowerShell's Invoke-AzRest help, Az.Accounts, 2024).
_NOT_ACTIVATED = (
    "Your HSM has been provisioned, but cannot be used for cryptographic operations until it is activated. To "
    "activate the HSM, download the security domain."
)
_ACTIVE = "Your HSM has been activated and can be used for cryptographic operations."  # unverified text


def _invalid_name(name: str) -> ArmError:
    return bad_request(f"The managed HSM name '{name}' is invalid.", "InvalidResourceName")  # unverified text


def _name_taken(name: str) -> ArmError:
    return ArmError(409, "Conflict", f"The managed HSM name '{name}' is already in use.")  # unverified text


def _no_deleted(name: str) -> ArmError:
    return ArmError(
        404, "ResourceNotFound", f"A soft deleted managed HSM with the name '{name}' does not exist."
    )  # unverified text


HSMS: Kind[ManagedHsmRecord] = Kind(
    type=_TYPE,
    deleted_type="deletedManagedHSMs",
    id_member="mhsmId",
    purge_operation="DeletedManagedHsmPurge",
    managed_hsm=True,
    live=lambda state: state.hsms,
    deleted=lambda state: state.deleted_hsms,
    name_pattern=VAULT_NAME,
    invalid_name=_invalid_name,
    name_taken=_name_taken,
    no_deleted=_no_deleted,
)


def _render(request: ArmRequest, record: ManagedHsmRecord) -> dict[str, Any]:
    props = copy.deepcopy(record.properties)
    props.pop("createMode", None)
    props["hsmUri"] = f"https://{record.name.lower()}.managedhsm.azure.net/"
    props["provisioningState"] = "Succeeded"
    props["statusMessage"] = "The Managed HSM is provisioned and ready to use."  # verified: as _NOT_ACTIVATED
    active = request.vaults.at(HSMS.address(record.name)).activated  # the data plane says
    props["securityDomainProperties"] = {
        "activationStatus": "Active" if active else "NotActivated",
        "activationStatusMessage": _ACTIVE if active else _NOT_ACTIVATED,
    }
    return {**HSMS.render(request, record, props), "sku": record.sku}


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
    vault = request.vaults.configure(HSMS.address(record.name), settings)
    vault.authorization.resource_id = HSMS.resource_id(request, record)
    vault.access_control.set_administrators(list(props.get("initialAdminObjectIds", [])))
    return vault


def create_or_update(request: ArmRequest, subscriptionId: str, resourceGroupName: str, name: str) -> ArmReply:
    group = require_group(request, subscriptionId, resourceGroupName)
    if not VAULT_NAME.match(name):
        raise _invalid_name(name)
    location, tags, sku, props = _read_body(request.json(), creating=True)
    assert location is not None
    key = name.lower()
    HSMS.expire(request)
    with request.state.lock:
        existing = request.state.hsms.get(key)
        if existing is not None and existing.resource_group.lower() != group.name.lower():
            raise _name_taken(name)
        if props.get("createMode") == "recover" and existing is None:
            record = HSMS.recover(request, group.name, name, tags)
            _apply(request, record)  # its data plane comes back as it was, activated or not
            return request.operation_reply(200, _render(request, record), location=record.location, kind="async")
        if key in request.state.deleted_hsms and existing is None:
            raise ArmError(
                409,
                "ConflictError",
                f"A soft deleted managed HSM with the name '{name}' exists; purge it or use another name.",
            )  # unverified text
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
            # A new HSM is provisioned but not activated: only its security domain answers until it is downloaded.
            _apply(request, record).deactivate()
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
    record = HSMS.record(request, subscriptionId, resourceGroupName, name)
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
    return ArmReply(_render(request, HSMS.record(request, subscriptionId, resourceGroupName, name)))


def delete_hsm(request: ArmRequest, name: str) -> None:
    """Soft-delete a managed HSM resource: its host answers 404 until it is recovered, purged or expires."""
    HSMS.soft_delete(request, name, lambda record: _apply(request, record))


def delete(request: ArmRequest, subscriptionId: str, resourceGroupName: str, name: str) -> ArmReply:
    require_group(request, subscriptionId, resourceGroupName)
    try:
        record = HSMS.record(request, subscriptionId, resourceGroupName, name)
    except ArmError:
        return ArmReply(None, 204)
    delete_hsm(request, record.name)
    return request.operation_reply(202, None, location=record.location, kind="location")


def _page(request: ArmRequest, records: list[ManagedHsmRecord]) -> ArmReply:
    return ArmReply({"value": [_render(request, r) for r in records]})


def list_by_subscription(request: ArmRequest, subscriptionId: str) -> ArmReply:
    request.check_subscription(subscriptionId)
    with request.state.lock:
        return _page(request, list(request.state.hsms.values()))


def list_by_resource_group(request: ArmRequest, subscriptionId: str, resourceGroupName: str) -> ArmReply:
    group = require_group(request, subscriptionId, resourceGroupName)
    return _page(request, HSMS.in_group(request, group.name))


def purge_deleted(request: ArmRequest, subscriptionId: str, location: str, name: str) -> ArmReply:
    item = HSMS.purge(request, subscriptionId, location, name)
    return request.operation_reply(202, None, location=item.record.location, kind="location")


def check_name_availability(request: ArmRequest, subscriptionId: str) -> ArmReply:
    """The body names the HSM only (CheckMhsmNameAvailabilityParameters has no ``type``)."""
    request.check_subscription(subscriptionId)
    return HSMS.check_name(request, name_in_body(request))


HANDLERS: dict[str, Callable[..., ArmReply]] = {
    "ManagedHsms_CreateOrUpdate": create_or_update,
    "ManagedHsms_Update": update,
    "ManagedHsms_Get": get,
    "ManagedHsms_Delete": delete,
    "ManagedHsms_ListBySubscription": list_by_subscription,
    "ManagedHsms_ListByResourceGroup": list_by_resource_group,
    "ManagedHsms_ListDeleted": HSMS.list_deleted,
    "ManagedHsms_GetDeleted": HSMS.get_deleted,
    "ManagedHsms_PurgeDeleted": purge_deleted,
    "ManagedHsms_CheckMhsmNameAvailability": check_name_availability,
}
