"""How an ARM role assignment reaches the data planes it covers: a grant in each vault under its scope,
made when the assignment is created and when a covered vault is created later; revoked with the assignment."""

from __future__ import annotations

from ..objects.vault import Vault
from .state import ArmState, RoleAssignmentRecord, VaultRecord

__all__ = ["covers", "grant", "grant_inherited", "revoke_all"]


def covers(assignment: RoleAssignmentRecord, record: VaultRecord) -> bool:
    """Whether an assignment's scope (subscription, resource group, vault or object) includes this vault."""
    if assignment.vault is not None:
        return assignment.vault == record.name.lower()
    if assignment.group is not None:
        return assignment.group == record.resource_group.lower()
    return True


def grant(assignment: RoleAssignmentRecord, vault: Vault) -> None:
    if vault.name not in assignment.grants:
        granted = vault.authorization.assign(assignment.role, assignment.principal_id, assignment.object_scope)
        assignment.grants[vault.name] = granted.id


def grant_inherited(state: ArmState, record: VaultRecord, vault: Vault) -> None:
    """A vault created (or moved into a group) gets the grants of the assignments above it."""
    with state.lock:
        for assignment in state.assignments.values():
            if covers(assignment, record):
                grant(assignment, vault)


def revoke_all(assignment: RoleAssignmentRecord, vaults: list[Vault]) -> None:
    by_name = {vault.name: vault for vault in vaults}
    for name, granted in assignment.grants.items():
        if name in by_name:
            by_name[name].authorization.revoke(granted)
    assignment.grants.clear()
