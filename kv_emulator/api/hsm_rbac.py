"""A Managed HSM's local RBAC over the wire (rbac.json): role definitions and role assignments at a scope.

Shapes as a real Managed HSM answers them (recorded: azure-sdk-for-js keyvault-admin recording
``keyvaultaccesscontrolclient_tracing``, 2022): a definition's id is
``Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/{guid}``; an assignment's is
``{scope}/providers/Microsoft.Authorization/roleAssignments/{name}`` (``/providers/...`` at scope ``/``);
creating either answers 201; deleting answers 200 with what was deleted; lists come in one page.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import BadParameter, HsmRbacNotFound, KeyVaultError
from ..objects.hsm_rbac import HsmRoleAssignment, HsmRoleDefinition, normalize_scope
from .context import Reply, RequestContext
from .operation import Operation, admin_record

__all__ = ["OPERATIONS"]

_AUTH = "providers/Microsoft.Authorization"
_DEFINITION_PREFIX = f"Microsoft.KeyVault/{_AUTH}/roleDefinitions/"
_PRINCIPAL = re.compile(r"principalId\s+eq\s+'([^']*)'", re.IGNORECASE)
_ROLE_NAME = re.compile(r"roleName\s+eq\s+'([^']*)'", re.IGNORECASE)
_PERMISSION_KEYS = ("actions", "notActions", "dataActions", "notDataActions")


class _AssignmentExists(KeyVaultError):
    """PUT of an assignment name already in use (unverified status, code and text)."""

    status = 409
    code = "RoleAssignmentExists"


def _render_definition(definition: HsmRoleDefinition) -> dict[str, Any]:
    return {
        "id": _DEFINITION_PREFIX + definition.name,
        "name": definition.name,
        "properties": {
            "assignableScopes": list(definition.assignable_scopes),
            "description": definition.description,
            "permissions": [{key: list(p.get(key, ())) for key in _PERMISSION_KEYS} for p in definition.permissions],
            "roleName": definition.role_name,
            "type": definition.role_type,
        },
        "type": "Microsoft.Authorization/roleDefinitions",
    }


def _render_assignment(assignment: HsmRoleAssignment) -> dict[str, Any]:
    prefix = "" if assignment.scope == "/" else assignment.scope
    return {
        "id": f"{prefix}/{_AUTH}/roleAssignments/{assignment.name}",
        "name": assignment.name,
        "properties": {
            "principalId": assignment.principal_id,
            "roleDefinitionId": _DEFINITION_PREFIX + assignment.role_definition,
            "scope": assignment.scope,
        },
        "type": "Microsoft.Authorization/roleAssignments",
    }


def _properties(ctx: RequestContext) -> dict[str, Any]:
    properties = ctx.json().get("properties")
    if not isinstance(properties, dict):
        raise BadParameter("The request body must have an object 'properties'.")  # unverified text
    return properties


def _string_list(value: Any, field: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise BadParameter(f"The property '{field}' must be an array of strings.")  # unverified text
    return tuple(value)


# -- role definitions -------------------------------------------------------------------------------


def list_definitions(ctx: RequestContext, scope: str = "") -> Reply:
    wanted = _ROLE_NAME.search(ctx.query.get("$filter", ""))
    definitions = ctx.vault.access_control.definitions
    if wanted:
        definitions = [d for d in definitions if d.role_name.lower() == wanted.group(1).lower()]
    return Reply({"value": [_render_definition(d) for d in definitions]})


def get_definition(ctx: RequestContext, role_definition: str, scope: str = "") -> Reply:
    return Reply(_render_definition(ctx.vault.access_control.definition(role_definition, ctx.request_id)))


def put_definition(ctx: RequestContext, role_definition: str, scope: str = "") -> Reply:
    """Create or update a custom role; a built-in role cannot be changed."""
    properties = _properties(ctx)
    control = ctx.vault.access_control
    try:
        existing: HsmRoleDefinition | None = control.definition(role_definition)
    except HsmRbacNotFound:
        existing = None
    if existing is not None and existing.role_type == "AKVBuiltInRole":
        raise BadParameter("A built-in role definition cannot be changed.")  # unverified text
    permissions = properties.get("permissions") or []
    if not isinstance(permissions, list) or not all(isinstance(p, dict) for p in permissions):
        raise BadParameter("The property 'permissions' must be an array of objects.")  # unverified text
    role_name = properties.get("roleName") or role_definition
    description = properties.get("description") or ""
    if not isinstance(role_name, str) or not isinstance(description, str):
        raise BadParameter("The properties 'roleName' and 'description' must be strings.")  # unverified text
    definition = HsmRoleDefinition(
        role_definition.lower(),
        role_name,
        "CustomRole",
        description,
        tuple({key: _string_list(p.get(key), key) for key in _PERMISSION_KEYS} for p in permissions),
        _string_list(properties.get("assignableScopes"), "assignableScopes") or ("/",),
    )
    return Reply(_render_definition(control.put_definition(definition)), 201)


def delete_definition(ctx: RequestContext, role_definition: str, scope: str = "") -> Reply:
    control = ctx.vault.access_control
    if control.definition(role_definition, ctx.request_id).role_type == "AKVBuiltInRole":
        raise BadParameter("A built-in role definition cannot be deleted.")  # unverified text
    return Reply(_render_definition(control.delete_definition(role_definition, ctx.request_id)))


# -- role assignments -------------------------------------------------------------------------------


def _related(assignment_scope: str, scope: str, at_scope: bool) -> bool:
    """``atScope()``: assignments at the scope or above it; without it also those below."""
    mine, wanted = assignment_scope.lower(), scope.lower()
    above = mine == "/" or mine == wanted or wanted.startswith(mine + "/")
    below = wanted == "/" or mine.startswith(wanted + "/")
    return above or (below and not at_scope)


def list_assignments(ctx: RequestContext, scope: str = "") -> Reply:
    query = ctx.query.get("$filter", "")
    at_scope = "atscope()" in query.lower().replace(" ", "")
    principal = _PRINCIPAL.search(query)
    wanted = normalize_scope(scope)
    assignments = [
        a
        for a in ctx.vault.access_control.assignments
        if _related(a.scope, wanted, at_scope) and (principal is None or a.principal_id == principal.group(1).lower())
    ]
    return Reply({"value": [_render_assignment(a) for a in assignments]})


def get_assignment(ctx: RequestContext, role_assignment: str, scope: str = "") -> Reply:
    return Reply(_render_assignment(ctx.vault.access_control.assignment(role_assignment, ctx.request_id)))


def create_assignment(ctx: RequestContext, role_assignment: str, scope: str = "") -> Reply:
    properties = _properties(ctx)
    definition_id, principal = properties.get("roleDefinitionId"), properties.get("principalId")
    if not isinstance(definition_id, str) or not isinstance(principal, str) or not definition_id or not principal:
        # unverified text
        raise BadParameter("The properties 'roleDefinitionId' and 'principalId' must be non-empty strings.")
    control = ctx.vault.access_control
    definition = control.definition(definition_id.rstrip("/").rsplit("/", 1)[-1], ctx.request_id)
    try:
        control.assignment(role_assignment)
    except HsmRbacNotFound:
        pass
    else:
        raise _AssignmentExists("The role assignment already exists.")  # unverified text
    assignment = HsmRoleAssignment(role_assignment.lower(), normalize_scope(scope), definition.name, principal.lower())
    return Reply(_render_assignment(control.add_assignment(assignment)), 201)


def delete_assignment(ctx: RequestContext, role_assignment: str, scope: str = "") -> Reply:
    return Reply(_render_assignment(ctx.vault.access_control.delete_assignment(role_assignment, ctx.request_id)))


OPERATIONS: tuple[Operation, ...] = (
    # rbac.json came with 7.2 (the specs' folders).
    admin_record(
        "GET",
        "/{scope}/providers/Microsoft.Authorization/roleDefinitions",
        "RoleDefinitions_List",
        list_definitions,
        hsm_action="roleDefinitions/read/action",
        since="7.2",
    ),
    admin_record(
        "GET",
        "/{scope}/providers/Microsoft.Authorization/roleDefinitions/{role-definition}",
        "RoleDefinitions_Get",
        get_definition,
        hsm_action="roleDefinitions/read/action",
        since="7.2",
    ),
    admin_record(
        "PUT",
        "/{scope}/providers/Microsoft.Authorization/roleDefinitions/{role-definition}",
        "RoleDefinitions_CreateOrUpdate",
        put_definition,
        hsm_action="roleDefinitions/write/action",
        since="7.2",
    ),
    admin_record(
        "DELETE",
        "/{scope}/providers/Microsoft.Authorization/roleDefinitions/{role-definition}",
        "RoleDefinitions_Delete",
        delete_definition,
        hsm_action="roleDefinitions/delete/action",
        since="7.2",
    ),
    admin_record(
        "GET",
        "/{scope}/providers/Microsoft.Authorization/roleAssignments",
        "RoleAssignments_ListForScope",
        list_assignments,
        hsm_action="roleAssignments/read/action",
        since="7.2",
    ),
    admin_record(
        "GET",
        "/{scope}/providers/Microsoft.Authorization/roleAssignments/{role-assignment}",
        "RoleAssignments_Get",
        get_assignment,
        hsm_action="roleAssignments/read/action",
        since="7.2",
    ),
    admin_record(
        "PUT",
        "/{scope}/providers/Microsoft.Authorization/roleAssignments/{role-assignment}",
        "RoleAssignments_Create",
        create_assignment,
        hsm_action="roleAssignments/write/action",
        since="7.2",
    ),
    admin_record(
        "DELETE",
        "/{scope}/providers/Microsoft.Authorization/roleAssignments/{role-assignment}",
        "RoleAssignments_Delete",
        delete_assignment,
        hsm_action="roleAssignments/delete/action",
        since="7.2",
    ),
)
