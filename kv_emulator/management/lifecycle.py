"""The lifecycle every ARM resource with a data plane shares (``vaults``, ``managedHSMs``): look-up in its
resource group, soft delete (the data plane leaves the Emulator and waits), the deleted list, get and purge of a
deleted one, ``createMode: recover``, the name check, and expiry when the retention passes.

What differs between the two resource types (their type names, the deleted id's member, the error texts) is a
:class:`Kind`; the handlers in vaults.py and managed_hsms.py pass theirs.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any, Generic

from ..hosts import VaultAddress
from ..objects.vault import Vault
from .context import ArmReply, ArmRequest, iso, require_group
from .errors import ArmError, bad_request
from .state import ArmState, DeletedRecord, R

__all__ = ["Kind"]

_DAY = 86400.0


@dataclasses.dataclass(frozen=True)
class Kind(Generic[R]):
    """One resource type's names, texts and records."""

    type: str
    """``Microsoft.KeyVault/vaults``."""
    deleted_type: str
    """``deletedVaults``: the segment of a deleted one's id under its location."""
    id_member: str
    """``vaultId``: the deleted one's member that holds the original resource id."""
    purge_operation: str
    """``DeletedVaultPurge``: the operation a purge-protected resource refuses."""
    managed_hsm: bool
    live: Callable[[ArmState], dict[str, R]]
    deleted: Callable[[ArmState], dict[str, DeletedRecord[R]]]
    name_pattern: re.Pattern[str]
    invalid_name: Callable[[str], ArmError]
    name_taken: Callable[[str], ArmError]
    no_deleted: Callable[[str], ArmError]
    """The answer to ``createMode: recover`` when nothing of that name waits in the deleted list."""

    def address(self, name: str) -> VaultAddress:
        return VaultAddress(name.lower(), self.managed_hsm)

    def resource_id(self, request: ArmRequest, record: R) -> str:
        return (
            f"/subscriptions/{request.subscription_id}/resourceGroups/{record.resource_group}"
            f"/providers/{self.type}/{record.name}"
        )

    def render(self, request: ArmRequest, record: R, properties: dict[str, Any]) -> dict[str, Any]:
        """The resource's envelope (id, name, type, location, tags, systemData) around its properties."""
        return {
            "id": self.resource_id(request, record),
            "name": record.name,
            "type": self.type,
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
            "properties": properties,
        }

    # -- live resources ------------------------------------------------------------------------------

    def not_found(self, name: str, group: str) -> ArmError:
        return ArmError(
            404,
            "ResourceNotFound",
            f"The Resource '{self.type}/{name}' under resource group '{group}' was not found. For more details "
            "please go to https://aka.ms/ARMResourceNotFoundFix",
            verified=True,  # ARM's generic text
        )

    def record(self, request: ArmRequest, subscription_id: str, group: str, name: str) -> R:
        found = require_group(request, subscription_id, group)
        with request.state.lock:
            record = self.live(request.state).get(name.lower())
        if record is None or record.resource_group.lower() != found.name.lower():
            raise self.not_found(name, group)
        return record

    def in_group(self, request: ArmRequest, group: str) -> list[R]:
        with request.state.lock:
            return [r for r in self.live(request.state).values() if r.resource_group.lower() == group.lower()]

    # -- soft delete, recover, purge -----------------------------------------------------------------

    def expire(self, request: ArmRequest) -> None:
        """Forget deleted resources whose retention has passed (the service purges them)."""
        with request.state.lock:
            deleted = self.deleted(request.state)
            for key, item in list(deleted.items()):
                if item.purge_at <= request.now:
                    del deleted[key]
                    request.vaults.release(self.address(key))

    def soft_delete(self, request: ArmRequest, name: str, rebuild: Callable[[R], Vault]) -> R:
        """Take the resource out with its data plane until its retention passes; ``rebuild`` makes an empty data
        plane to keep when the Emulator forgot it (``Emulator.reset``)."""
        key = name.lower()
        with request.state.lock:
            record = self.live(request.state).pop(key)
            purge_at = request.now + record.properties.get("softDeleteRetentionInDays", 90) * _DAY
            vault = request.vaults.remove(self.address(key), until=purge_at)
            if vault is None:
                vault = rebuild(record)
                request.vaults.remove(self.address(key), until=purge_at)
            self.deleted(request.state)[key] = DeletedRecord(record, vault, request.now, purge_at)
        return record

    def recover(self, request: ArmRequest, group: str, name: str, tags: dict[str, str] | None) -> R:
        """``createMode: recover``: the deleted resource and its whole data plane back, in ``group``."""
        key = name.lower()
        with request.state.lock:
            deleted = self.deleted(request.state).pop(key, None)
            if deleted is None:
                raise self.no_deleted(name)
            record = deleted.record
            record.resource_group = group
            record.tags = tags if tags is not None else record.tags
            record.modified_at, record.modified_by = request.now, request.caller_name
            self.live(request.state)[key] = record
            request.vaults.put(deleted.vault)
        return record

    def render_deleted(self, request: ArmRequest, item: DeletedRecord[R]) -> dict[str, Any]:
        record = item.record
        return {
            "id": f"/subscriptions/{request.subscription_id}/providers/Microsoft.KeyVault/locations/"
            f"{record.location}/{self.deleted_type}/{record.name}",
            "name": record.name,
            "type": f"Microsoft.KeyVault/{self.deleted_type}",
            "properties": {
                self.id_member: self.resource_id(request, record),
                "location": record.location,
                "deletionDate": iso(item.deleted_at)[:19] + "Z",
                "scheduledPurgeDate": iso(item.purge_at)[:19] + "Z",
                "tags": record.tags,
                "purgeProtectionEnabled": bool(record.properties.get("enablePurgeProtection")),
            },
        }

    def list_deleted(self, request: ArmRequest, subscriptionId: str) -> ArmReply:
        request.check_subscription(subscriptionId)
        self.expire(request)
        with request.state.lock:
            items = list(self.deleted(request.state).values())
        return ArmReply({"value": [self.render_deleted(request, item) for item in items]})

    def find_deleted(self, request: ArmRequest, subscriptionId: str, location: str, name: str) -> DeletedRecord[R]:
        request.check_subscription(subscriptionId)
        self.expire(request)
        with request.state.lock:
            item = self.deleted(request.state).get(name.lower())
        if item is None or item.record.location != location.lower():
            raise ArmError(
                404,
                "ResourceNotFound",
                f"The Resource 'Microsoft.KeyVault/locations/{location}/{self.deleted_type}/{name}' was not found.",
            )  # unverified text
        return item

    def get_deleted(self, request: ArmRequest, subscriptionId: str, location: str, name: str) -> ArmReply:
        return ArmReply(self.render_deleted(request, self.find_deleted(request, subscriptionId, location, name)))

    def purge(self, request: ArmRequest, subscriptionId: str, location: str, name: str) -> DeletedRecord[R]:
        """Forget a deleted resource for good (its name is free again); refused under purge protection."""
        item = self.find_deleted(request, subscriptionId, location, name)
        if item.record.properties.get("enablePurgeProtection"):
            # A vault's code and text: Azure/azure-sdk-tools#9329 (2024; MethodNotAllowed in 2022); the status, and
            # an HSM's (by analogy), are unverified.
            text = f"Operation '{self.purge_operation}' is not allowed."
            raise ArmError(409, "InvalidOperation", text, verified=not self.managed_hsm)
        with request.state.lock:
            self.deleted(request.state).pop(name.lower(), None)
            request.vaults.release(self.address(name))
        return item

    # -- names ---------------------------------------------------------------------------------------

    def check_name(self, request: ArmRequest, name: str) -> ArmReply:
        """``nameAvailable``, or the reason it is not (``AccountNameInvalid``, ``AlreadyExists``) with the text
        creating it would fail with; a soft-deleted resource still holds its name."""
        if not self.name_pattern.match(name):
            return ArmReply(
                {"nameAvailable": False, "reason": "AccountNameInvalid", "message": self.invalid_name(name).message}
            )
        self.expire(request)
        with request.state.lock:
            taken = name.lower() in self.live(request.state) or name.lower() in self.deleted(request.state)
        if taken:
            return ArmReply(
                {"nameAvailable": False, "reason": "AlreadyExists", "message": self.name_taken(name).message}
            )
        return ArmReply({"nameAvailable": True})


def name_in_body(request: ArmRequest) -> str:
    """The ``name`` of a name-check body."""
    body = request.json()
    if not isinstance(body, dict) or not isinstance(body.get("name"), str):
        raise bad_request("The property 'name' is required.")  # unverified
    return body["name"]
