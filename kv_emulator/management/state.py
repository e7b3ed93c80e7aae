"""What ARM remembers: resource groups, vault and managed HSM resources (active and soft-deleted), role
assignments and long-running operations. Plain records behind one lock; the vaults' data planes live in the Emulator."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

from ..objects.vault import Vault

__all__ = [
    "ArmState",
    "DeletedManagedHsmRecord",
    "DeletedRecord",
    "DeletedVaultRecord",
    "ManagedHsmRecord",
    "Record",
    "ResourceGroup",
    "RoleAssignmentRecord",
    "VaultRecord",
]


@dataclasses.dataclass
class ResourceGroup:
    name: str
    location: str
    tags: dict[str, str]
    managed_by: str | None = None


@dataclasses.dataclass
class VaultRecord:
    """A vault resource: its ARM identity and its properties in wire form (the source of GET's answer)."""

    name: str
    resource_group: str
    location: str
    tags: dict[str, str]
    properties: dict[str, Any]
    created_at: float
    modified_at: float
    created_by: str = ""
    modified_by: str = ""


@dataclasses.dataclass
class ManagedHsmRecord:
    """A Managed HSM resource (``Microsoft.KeyVault/managedHSMs``): its sku is a top-level member."""

    name: str
    resource_group: str
    location: str
    tags: dict[str, str]
    sku: dict[str, str]
    properties: dict[str, Any]
    created_at: float
    modified_at: float
    created_by: str = ""
    modified_by: str = ""


class Record(Protocol):
    """What every ARM resource with a data plane has (vaults, managed HSMs): the shared lifecycle reads it."""

    name: str
    resource_group: str
    location: str
    tags: dict[str, str]
    properties: dict[str, Any]
    created_at: float
    modified_at: float
    created_by: str
    modified_by: str


R = TypeVar("R", bound=Record)


@dataclasses.dataclass
class DeletedRecord(Generic[R]):
    """A soft-deleted resource and its data plane, kept whole so ``createMode: recover`` brings back everything
    in it (secrets, keys, certificates; an HSM's keys, roles and settings) until the retention passes."""

    record: R
    vault: Vault
    deleted_at: float
    purge_at: float

    def to_state(self, vault_state: Callable[[Vault], dict[str, Any]]) -> dict[str, Any]:
        return {
            "record": dataclasses.asdict(self.record),  # type: ignore[call-overload]  # R is a dataclass
            "vault": vault_state(self.vault),
            "deleted_at": self.deleted_at,
            "purge_at": self.purge_at,
        }


DeletedVaultRecord = DeletedRecord[VaultRecord]
DeletedManagedHsmRecord = DeletedRecord[ManagedHsmRecord]


@dataclasses.dataclass
class RoleAssignmentRecord:
    name: str
    scope: str
    role_definition_id: str
    role: str
    principal_id: str
    principal_type: str
    created_at: float
    vault: str | None = None
    """A vault's lower-case name when the scope is that vault or an object in it."""
    group: str | None = None
    """A resource group's lower-case name when the scope is that group (its vaults inherit the grant)."""
    object_scope: str = "/"
    """The data-plane scope: "/" for whole vaults, or "/secrets/<name>" (keys, certificates) under a vault."""
    grants: dict[str, str] = dataclasses.field(default_factory=dict)
    """Vault name -> the data-plane assignment that carries this grant there."""
    description: str | None = None


class ArmState:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.groups: dict[str, ResourceGroup] = {}
        self.vaults: dict[str, VaultRecord] = {}
        self.deleted: dict[str, DeletedVaultRecord] = {}
        self.assignments: dict[str, RoleAssignmentRecord] = {}
        self.operations: dict[str, dict[str, Any]] = {}
        self.hsms: dict[str, ManagedHsmRecord] = {}
        self.deleted_hsms: dict[str, DeletedManagedHsmRecord] = {}

    def clear(self) -> None:
        with self.lock:
            self.groups.clear()
            self.vaults.clear()
            self.deleted.clear()
            self.assignments.clear()
            self.operations.clear()
            self.hsms.clear()
            self.deleted_hsms.clear()

    # -- state (kv_emulator.state) --------------------------------------------------------------------

    def to_state(self, vault_state: Callable[[Vault], dict[str, Any]]) -> dict[str, Any]:
        """Plain data: every record; a deleted vault with its whole data plane (``vault_state`` writes it)."""
        with self.lock:
            return {
                "groups": {k: dataclasses.asdict(v) for k, v in self.groups.items()},
                "vaults": {k: dataclasses.asdict(v) for k, v in self.vaults.items()},
                "deleted": {k: d.to_state(vault_state) for k, d in self.deleted.items()},
                "assignments": {k: dataclasses.asdict(v) for k, v in self.assignments.items()},
                "operations": {k: dict(v) for k, v in self.operations.items()},
                "hsms": {k: dataclasses.asdict(v) for k, v in self.hsms.items()},
                "deleted_hsms": {k: d.to_state(vault_state) for k, d in self.deleted_hsms.items()},
            }

    def from_state(self, data: dict[str, Any], deleted_vault: Callable[[dict[str, Any], float], Vault]) -> None:
        """Take back :meth:`to_state`'s data; ``deleted_vault(state, purge_at)`` rebuilds a deleted data plane."""
        with self.lock:
            self.clear()
            self.groups.update({k: ResourceGroup(**v) for k, v in data.get("groups", {}).items()})
            self.vaults.update({k: VaultRecord(**v) for k, v in data.get("vaults", {}).items()})
            for key, item in data.get("deleted", {}).items():
                self.deleted[key] = _deleted(DeletedVaultRecord, VaultRecord(**item["record"]), item, deleted_vault)
            self.assignments.update({k: RoleAssignmentRecord(**v) for k, v in data.get("assignments", {}).items()})
            self.operations.update({k: dict(v) for k, v in data.get("operations", {}).items()})
            self.hsms.update({k: ManagedHsmRecord(**v) for k, v in data.get("hsms", {}).items()})
            for key, item in data.get("deleted_hsms", {}).items():
                hsm = ManagedHsmRecord(**item["record"])
                self.deleted_hsms[key] = _deleted(DeletedManagedHsmRecord, hsm, item, deleted_vault)


def _deleted(
    kind: type[DeletedRecord[R]], record: R, item: dict[str, Any], vault: Callable[[dict[str, Any], float], Vault]
) -> DeletedRecord[R]:
    """A deleted record back from :meth:`DeletedRecord.to_state`'s data."""
    purge_at = float(item["purge_at"])
    return kind(record, vault(item["vault"], purge_at), float(item["deleted_at"]), purge_at)
