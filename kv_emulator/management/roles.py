"""Microsoft.Authorization for Key Vault: role assignments that the vaults' data planes honour, and the
built-in Key Vault role definitions with their real ids.

An assignment at a vault's id (or below it: ``.../vaults/<name>/secrets/<secret>``) becomes the same grant
as ``vault().authorization.assign(role, principal, scope)``; at a resource group or the subscription, every
vault under it gets that grant (see :mod:`.rbac`); deleting the assignment revokes them.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

from ..hosts import VaultAddress
from ..objects.authorization import BUILT_IN_ROLES
from .context import ArmReply, ArmRequest, is_guid, iso, require_group
from .errors import ArmError, bad_request
from .rbac import covers, grant, revoke_all
from .state import RoleAssignmentRecord
from .vaults import vault_id

__all__ = ["HANDLERS", "ROLE_DEFINITION_IDS"]

#: The built-in roles' ids, the same in every tenant.
ROLE_DEFINITION_IDS: dict[str, str] = {
    "Key Vault Administrator": "00482a5a-887f-4fb3-b363-3b7fe8e74483",
    "Key Vault Certificates Officer": "a4417e6f-fecd-4de8-b567-7b0420556985",
    "Key Vault Certificate User": "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba",
    "Key Vault Crypto Officer": "14b46e9e-c2b7-41b4-b07b-48a6ebf60603",
    "Key Vault Crypto Service Encryption User": "e147488a-f6f5-4113-8e2d-b22465e65bf6",
    "Key Vault Crypto User": "12338af0-0e69-4776-bea7-57ae8d297424",
    "Key Vault Reader": "21090545-7ca7-4776-b22c-e363652d74d2",
    "Key Vault Secrets Officer": "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
}
_ROLE_BY_ID = {guid: name for name, guid in ROLE_DEFINITION_IDS.items()}

_VAULT_SCOPE = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<group>[^/]+)/providers/Microsoft\.KeyVault/vaults/"
    r"(?P<vault>[^/]+)(?P<object>/(?:secrets|keys|certificates)/[^/]+)?$",
    re.IGNORECASE,
)


def _definition(request: ArmRequest, name: str) -> dict[str, Any]:
    guid = ROLE_DEFINITION_IDS[name]
    return {
        "id": f"/subscriptions/{request.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{guid}",
        "name": guid,
        "type": "Microsoft.Authorization/roleDefinitions",
        "properties": {
            "roleName": name,
            "type": "BuiltInRole",
            "description": f"{name} (built-in Key Vault role, emulated)",
            "assignableScopes": ["/"],
            "permissions": [
                {"actions": [], "notActions": [], "dataActions": list(BUILT_IN_ROLES[name]), "notDataActions": []}
            ],
            "createdOn": "2020-05-19T17:52:46.2349235Z",
            "updatedOn": "2021-11-11T20:14:31.5000000Z",
            "createdBy": None,
            "updatedBy": None,
        },
    }


def definitions_get(request: ArmRequest, scope: str, roleDefinitionId: str) -> ArmReply:
    name = _ROLE_BY_ID.get(roleDefinitionId.lower())
    if name is None:
        raise ArmError(
            404, "RoleDefinitionDoesNotExist", "The specified role definition with ID "
            f"'{roleDefinitionId}' does not exist.", verified=True,
        )  # fmt: skip
    return ArmReply(_definition(request, name))


def definitions_list(request: ArmRequest, scope: str) -> ArmReply:
    wanted = request.query.get("$filter", "")
    match = re.search(r"roleName\s+eq\s+'([^']*)'", wanted, re.IGNORECASE)
    names = [n for n in ROLE_DEFINITION_IDS if match is None or n.lower() == match.group(1).lower()]
    return ArmReply({"value": [_definition(request, n) for n in names]})


def _render(record: RoleAssignmentRecord) -> dict[str, Any]:
    return {
        "id": f"{record.scope}/providers/Microsoft.Authorization/roleAssignments/{record.name}",
        "type": "Microsoft.Authorization/roleAssignments",
        "name": record.name,
        "properties": {
            "roleDefinitionId": record.role_definition_id,
            "principalId": record.principal_id,
            "principalType": record.principal_type,
            "scope": record.scope,
            "condition": None,
            "conditionVersion": None,
            "createdOn": iso(record.created_at),
            "updatedOn": iso(record.created_at),
            "createdBy": None,
            "updatedBy": None,
            "delegatedManagedIdentityResourceId": None,
            "description": record.description,
        },
    }


def _not_found(name: str) -> ArmError:
    return ArmError(404, "RoleAssignmentNotFound", f"The role assignment '{name}' is not found.", verified=True)


_GROUP_SCOPE = re.compile(r"^/subscriptions/(?P<sub>[^/]+)(?:/resourceGroups/(?P<group>[^/]+))?$", re.IGNORECASE)


def _skeleton(
    scope: str, *, vault: str | None = None, group: str | None = None, object_scope: str = "/"
) -> RoleAssignmentRecord:
    return RoleAssignmentRecord(
        name="",
        scope=scope,
        role_definition_id="",
        role="",
        principal_id="",
        principal_type="",
        created_at=0.0,
        vault=vault,
        group=group,
        object_scope=object_scope,
    )


def _target(request: ArmRequest, scope: str) -> RoleAssignmentRecord:
    """An assignment skeleton for ``scope`` (subscription, resource group, vault or an object in a vault), with
    its canonical scope; ARM's errors for a scope that does not exist. Role and principal are filled later."""
    above = _GROUP_SCOPE.match(scope)
    if above is not None:
        request.check_subscription(above["sub"])
        if above["group"] is None:
            return _skeleton(f"/subscriptions/{request.subscription_id}")
        group = require_group(request, above["sub"], above["group"])
        canonical = f"/subscriptions/{request.subscription_id}/resourceGroups/{group.name}"
        return _skeleton(canonical, group=group.name.lower())
    found = _VAULT_SCOPE.match(scope)
    if found is None:
        raise ArmError(
            400,
            "InvalidScope",  # emulator-specific: the real service also takes management groups and other resources
            f"kv-emulator emulates role assignments at a subscription, a resource group, a Key Vault or an object in "
            f"one, not at '{scope}'.",
        )
    request.check_subscription(found["sub"])
    with request.state.lock:
        record = request.state.vaults.get(found["vault"].lower())
    if record is None or record.resource_group.lower() != found["group"].lower():
        raise ArmError(
            404,
            "ResourceNotFound",
            f"The Resource 'Microsoft.KeyVault/vaults/{found['vault']}' under resource group '{found['group']}' was "
            "not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
            verified=True,
        )
    obj = found["object"] or ""
    canonical = vault_id(request, record) + obj
    return _skeleton(canonical, vault=record.name.lower(), object_scope=obj or "/")


def assignments_create(request: ArmRequest, scope: str, assignmentName: str) -> ArmReply:
    if not is_guid(assignmentName):
        raise ArmError(
            400,
            "InvalidRoleAssignmentId",
            f"The role assignment ID '{assignmentName}' is not valid. The role assignment ID must be a GUID.",
            verified=True,
        )
    target = _target(request, scope)
    body = request.json()
    props = body.get("properties") if isinstance(body, dict) else None
    if not isinstance(props, dict):
        raise bad_request("The property 'properties' is required.", "InvalidRequestContent")  # unverified
    definition = props.get("roleDefinitionId")
    principal = props.get("principalId")
    if not isinstance(definition, str) or not isinstance(principal, str) or not is_guid(principal):
        raise bad_request(
            "The role assignment needs a roleDefinitionId and a principalId that is a GUID.", "InvalidRequestContent"
        )  # unverified
    role = _ROLE_BY_ID.get(definition.rstrip("/").rsplit("/", 1)[-1].lower())
    if role is None:
        raise ArmError(
            400,
            "RoleDefinitionDoesNotExist",
            f"The specified role definition with ID '{definition.rstrip('/').rsplit('/', 1)[-1]}' does not exist.",
            verified=True,
        )
    key = assignmentName.lower()
    with request.state.lock:
        existing = request.state.assignments.get(key)
        if existing is not None:
            if (existing.principal_id, existing.scope.lower()) != (principal.lower(), target.scope.lower()):
                raise ArmError(
                    400,
                    "RoleAssignmentUpdateNotPermitted",
                    "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
                    verified=True,
                )
            return ArmReply(_render(existing), 201)
        for other in request.state.assignments.values():
            same = (other.role, other.principal_id, other.scope.lower()) == (
                role,
                principal.lower(),
                target.scope.lower(),
            )
            if same:
                raise ArmError(409, "RoleAssignmentExists", "The role assignment already exists.", verified=True)
        record = dataclasses.replace(
            target,
            name=assignmentName,
            role_definition_id=(
                f"/subscriptions/{request.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/"
                f"{ROLE_DEFINITION_IDS[role]}"
            ),
            role=role,
            principal_id=principal.lower(),
            principal_type=str(props.get("principalType") or "ServicePrincipal"),
            created_at=request.now,
            description=props.get("description"),
        )
        for vault_record in request.state.vaults.values():
            if covers(record, vault_record):
                grant(record, request.vaults.at(VaultAddress(vault_record.name.lower())))
        request.state.assignments[key] = record
    return ArmReply(_render(record), 201)


def _find(request: ArmRequest, scope: str, name: str) -> RoleAssignmentRecord:
    with request.state.lock:
        record = request.state.assignments.get(name.lower())
    if record is None or (scope and record.scope.lower() != scope.lower()):
        raise _not_found(name)
    return record


def assignments_get(request: ArmRequest, scope: str, assignmentName: str) -> ArmReply:
    return ArmReply(_render(_find(request, scope, assignmentName)))


def assignments_delete(request: ArmRequest, scope: str, assignmentName: str) -> ArmReply:
    try:
        record = _find(request, scope, assignmentName)
    except ArmError:
        return ArmReply(None, 204)
    with request.state.lock:
        request.state.assignments.pop(record.name.lower(), None)
        kept = [deleted.vault for deleted in request.state.deleted.values()]  # soft-deleted vaults keep grants
        revoke_all(record, request.vaults.all() + kept)
    return ArmReply(_render(record), 200)


def assignments_list(request: ArmRequest, scope: str) -> ArmReply:
    """At and below a vault scope, at and above it for its own objects (ARM's atScope/default rules, simplified)."""
    wanted = request.query.get("$filter", "")
    principal = re.search(r"principalId\s+eq\s+'([^']*)'", wanted, re.IGNORECASE)
    at_scope = "atscope()" in wanted.lower().replace(" ", "")
    with request.state.lock:
        records = list(request.state.assignments.values())
    base = scope.lower().rstrip("/")
    chosen = []
    for record in records:
        mine = record.scope.lower()
        related = mine == base or (not at_scope and (mine.startswith(base + "/") or base.startswith(mine + "/")))
        if base == "" and not at_scope:
            related = True
        if related and (principal is None or record.principal_id == principal.group(1).lower()):
            chosen.append(_render(record))
    return ArmReply({"value": chosen})


HANDLERS: dict[str, Callable[..., ArmReply]] = {
    "RoleAssignments_Create": assignments_create,
    "RoleAssignments_Get": assignments_get,
    "RoleAssignments_Delete": assignments_delete,
    "RoleAssignments_ListForScope": assignments_list,
    "RoleDefinitions_Get": definitions_get,
    "RoleDefinitions_List": definitions_list,
}
