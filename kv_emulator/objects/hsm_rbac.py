"""A Managed HSM's local RBAC: its role definitions (built-in and custom) and role assignments.

A Managed HSM has no access policies and no Azure RBAC on its data plane: when the emulator's checks are on
(``enable_rbac_authorization`` set), every key and administration operation is authorized by these
assignments alone. Scopes are ``/`` and ``/keys`` (the whole HSM) and ``/keys/{name}`` (one key).
"""

from __future__ import annotations

import dataclasses
import threading
import uuid
from typing import Any

from ..errors import HsmAccessDenied, HsmRbacNotFound
from .hsm_roles import BUILT_IN_HSM_ROLES

__all__ = ["HsmAccessControl", "HsmRoleAssignment", "HsmRoleDefinition", "normalize_scope"]

ADMINISTRATOR = "a290e904-7015-4bba-90c8-60543313cdb4"
_INITIAL = uuid.UUID("6b76656d-0000-4000-8000-61646d696e73")  # names the initial administrators' assignments


def normalize_scope(scope: str) -> str:
    """``""`` and ``/`` are the HSM; ``keys`` is ``/keys``; a key's scope keeps its name's casing."""
    return "/" + scope.strip("/")


@dataclasses.dataclass(frozen=True)
class HsmRoleDefinition:
    name: str
    """The definition's id: a GUID."""
    role_name: str
    role_type: str = "CustomRole"
    description: str = ""
    permissions: tuple[dict[str, tuple[str, ...]], ...] = ()
    """Each ``{"actions", "notActions", "dataActions", "notDataActions"}``."""
    assignable_scopes: tuple[str, ...] = ("/",)

    def allows(self, action: str) -> bool:
        wanted = action.lower()
        for permission in self.permissions:
            if any(_matches(p, wanted) for p in permission.get("dataActions", ())) and not any(
                _matches(p, wanted) for p in permission.get("notDataActions", ())
            ):
                return True
        return False

    def to_state(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role_name": self.role_name,
            "role_type": self.role_type,
            "description": self.description,
            "permissions": [{k: list(v) for k, v in p.items()} for p in self.permissions],
            "assignable_scopes": list(self.assignable_scopes),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> HsmRoleDefinition:
        return cls(
            state["name"],
            state["role_name"],
            state.get("role_type", "CustomRole"),
            state.get("description", ""),
            tuple({k: tuple(v) for k, v in p.items()} for p in state.get("permissions", [])),
            tuple(state.get("assignable_scopes", ["/"])),
        )


def _matches(pattern: str, action: str) -> bool:
    pattern = pattern.lower()
    return action.startswith(pattern[:-1]) if pattern.endswith("*") else pattern == action


@dataclasses.dataclass(frozen=True)
class HsmRoleAssignment:
    name: str
    scope: str
    role_definition: str
    """The definition's GUID."""
    principal_id: str

    def covers(self, scope: str) -> bool:
        """``/`` and ``/keys`` are HSM-wide (learn.microsoft.com, "Managed HSM role management"); a key scope
        covers that key only."""
        mine = self.scope.lower()
        return mine in ("/", "/keys") or mine == scope.lower()

    def to_state(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> HsmRoleAssignment:
        return cls(**state)


def _built_in() -> dict[str, HsmRoleDefinition]:
    return {
        rid: HsmRoleDefinition(
            rid,
            name,
            "AKVBuiltInRole",
            permissions=({"actions": actions, "notActions": (), "dataActions": data_actions, "notDataActions": ()},),
        )
        for rid, (name, data_actions, actions) in BUILT_IN_HSM_ROLES.items()
    }


class HsmAccessControl:
    """``hsm.access_control.assign("Managed HSM Crypto User", principal, scope="/keys")``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._definitions: dict[str, HsmRoleDefinition] = _built_in()
        self._assignments: dict[str, HsmRoleAssignment] = {}
        self._initial: set[str] = set()
        """The names of the initial administrators' assignments."""

    # -- role definitions ---------------------------------------------------------------------------

    @property
    def definitions(self) -> list[HsmRoleDefinition]:
        with self._lock:
            return list(self._definitions.values())

    def definition(self, name: str, request_id: str = "") -> HsmRoleDefinition:
        with self._lock:
            found = self._definitions.get(name.lower())
        if found is None:
            raise HsmRbacNotFound("RoleDefinitionNotFound", "Requested role definition not found", request_id)
        return found

    def by_role_name(self, role_name: str) -> HsmRoleDefinition:
        for definition in self.definitions:
            if definition.role_name.lower() == role_name.lower():
                return definition
        raise ValueError(f"unknown role {role_name!r}; roles: {', '.join(d.role_name for d in self.definitions)}")

    def put_definition(self, definition: HsmRoleDefinition) -> HsmRoleDefinition:
        with self._lock:
            self._definitions[definition.name.lower()] = definition
        return definition

    def delete_definition(self, name: str, request_id: str = "") -> HsmRoleDefinition:
        definition = self.definition(name, request_id)
        with self._lock:
            self._definitions.pop(name.lower(), None)
        return definition

    # -- role assignments ---------------------------------------------------------------------------

    @property
    def assignments(self) -> list[HsmRoleAssignment]:
        with self._lock:
            return list(self._assignments.values())

    def assignment(self, name: str, request_id: str = "") -> HsmRoleAssignment:
        with self._lock:
            found = self._assignments.get(name.lower())
        if found is None:
            # recorded: azure-sdk-for-js keyvault-admin recording, 2022 (404 RoleAssignmentNotFound)
            raise HsmRbacNotFound("RoleAssignmentNotFound", "Requested role assignment not found", request_id)
        return found

    def add_assignment(self, assignment: HsmRoleAssignment) -> HsmRoleAssignment:
        with self._lock:
            self._assignments[assignment.name.lower()] = assignment
        return assignment

    def delete_assignment(self, name: str, request_id: str = "") -> HsmRoleAssignment:
        assignment = self.assignment(name, request_id)
        with self._lock:
            self._assignments.pop(name.lower(), None)
        return assignment

    def assign(self, role: str, principal: Any, scope: str = "/") -> HsmRoleAssignment:
        """Grant a role (its name or GUID) to a principal (a ``Principal``, or an object id)."""
        definition = self.by_role_name(role) if role.lower() not in self._definitions else self.definition(role)
        oid = str(getattr(principal, "object_id", principal)).lower()
        return self.add_assignment(HsmRoleAssignment(str(uuid.uuid4()), normalize_scope(scope), definition.name, oid))

    def revoke(self, assignment: HsmRoleAssignment | str) -> None:
        self.delete_assignment(assignment.name if isinstance(assignment, HsmRoleAssignment) else assignment)

    def set_administrators(self, object_ids: list[str]) -> None:
        """The HSM's initial administrators (ARM ``initialAdminObjectIds``): Managed HSM Administrator at ``/``,
        replacing those of an earlier call (an assignment named by a GUID derived from the object id)."""
        with self._lock:
            for name in self._initial:
                self._assignments.pop(name, None)
            self._initial = {str(uuid.uuid5(_INITIAL, oid.lower())) for oid in object_ids}
        for oid in object_ids:
            name = str(uuid.uuid5(_INITIAL, oid.lower()))
            self.add_assignment(HsmRoleAssignment(name, "/", ADMINISTRATOR, oid.lower()))

    # -- the check ----------------------------------------------------------------------------------

    def allows(self, principal_id: str, action: str, scope: str) -> bool:
        with self._lock:
            assignments = list(self._assignments.values())
            definitions = dict(self._definitions)
        for assignment in assignments:
            definition = definitions.get(assignment.role_definition.lower())
            if (
                definition is not None
                and assignment.principal_id == principal_id.lower()
                and assignment.covers(scope)
                and definition.allows(action)
            ):
                return True
        return False

    def check(self, action: str | None, caller: dict[str, Any] | None, scope: str, request_id: str) -> None:
        """The service's 403 unless the caller holds a role with the operation's data ``action`` at ``scope``; an
        operation that declares none is refused."""
        if action is None:
            raise HsmAccessDenied("(an operation that declares no data action)", scope, request_id)  # unverified
        oid = str((caller or {}).get("oid", ""))
        if not oid or not self.allows(oid, action, scope):
            raise HsmAccessDenied(action, scope, request_id)

    # -- state --------------------------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """Plain JSON-able data: the custom role definitions and every assignment."""
        return {
            "definitions": [d.to_state() for d in self.definitions if d.role_type != "AKVBuiltInRole"],
            "assignments": [a.to_state() for a in self.assignments],
            "initial": sorted(self._initial),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> HsmAccessControl:
        made = cls()
        for item in state.get("definitions", []):
            made.put_definition(HsmRoleDefinition.from_state(item))
        for item in state.get("assignments", []):
            made.add_assignment(HsmRoleAssignment.from_state(item))
        made._initial = set(state.get("initial", []))
        return made
