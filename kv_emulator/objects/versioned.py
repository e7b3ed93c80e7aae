"""Versioned objects and their soft-delete lifecycle, shared by secrets, keys and certificates.

An object is a name with an ordered set of versions. Deleting moves the whole object to the deleted
set (soft delete) or drops it (soft delete off); the deleted object is purged when its scheduled purge
date passes on the emulator's clock, or on request unless purge protection forbids it.
Names are case-insensitive: the store keys on the lowercased name and keeps the casing it was created with.
"""

from __future__ import annotations

import builtins
import dataclasses
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from ..clock import Clock
from ..config import Settings
from ..errors import (
    BadParameter,
    DeletedObjectNotFound,
    ManagedByKeyVault,
    ObjectAlreadyExists,
    ObjectIsDeletedButRecoverable,
    ObjectNotFound,
    PurgeNotAllowed,
)

__all__ = ["Attributes", "DeletedObject", "Version", "VersionedObject", "VersionedStore", "validate_tags"]

P = TypeVar("P")

_NAME = re.compile(r"^[0-9a-zA-Z-]{1,127}$")
MAX_TAGS = 15
MAX_TAG_LENGTH = 256
DAY = 86_400


def new_version_id() -> str:
    """A 32-character lowercase hex version, like the service's."""
    return uuid.uuid4().hex


def validate_name(kind: str, name: str) -> None:
    if not _NAME.match(name):
        # Seen in a real service log (aspnet/MicrosoftConfigurationBuilders#22).
        raise BadParameter(f"The request URI contains an invalid name: {name}")


def validate_tags(tags: dict[str, str]) -> None:
    # Limits from the service documentation (about-keys/secrets). The text is the one real logs show for
    # more than 15 tags (terraform-provider-azurerm#16780); that it is the same for long tags is unverified.
    too_long = any(len(k) > MAX_TAG_LENGTH or len(v) > MAX_TAG_LENGTH for k, v in tags.items())
    if len(tags) > MAX_TAGS or too_long:
        raise BadParameter("Property has invalid value\r\n")


def apply_common_changes(
    draft: Version[Any], *, enabled: bool | None, not_before: Any, expires: Any, tags: dict[str, str] | None
) -> None:
    """The changes every kind's update shares: ``enabled``, ``nbf``/``exp`` (``...`` = leave) and tags."""
    if enabled is not None:
        draft.attributes.enabled = enabled
    if not_before is not ...:
        draft.attributes.not_before = not_before
    if expires is not ...:
        draft.attributes.expires = expires
    if tags is not None:
        draft.tags = dict(tags)


@dataclasses.dataclass
class Attributes:
    """Management attributes: times are Unix seconds as on the wire."""

    enabled: bool
    created: int
    updated: int
    not_before: int | None = None
    expires: int | None = None


@dataclasses.dataclass
class Version(Generic[P]):
    """One version of an object: its attributes, tags and the kind-specific payload."""

    name: str
    version: str
    attributes: Attributes
    tags: dict[str, str]
    payload: P
    managed: bool = False
    """True for the key and secret behind a certificate: only the certificate changes them."""


@dataclasses.dataclass
class VersionedObject(Generic[P]):
    """All versions of one name, oldest first."""

    name: str
    versions: dict[str, Version[P]]

    @property
    def latest(self) -> Version[P]:
        return next(reversed(self.versions.values()))

    @property
    def managed(self) -> bool:
        return bool(self.versions) and self.latest.managed


@dataclasses.dataclass
class DeletedObject(Generic[P]):
    """An object in the deleted state: recoverable until ``scheduled_purge_date``."""

    obj: VersionedObject[P]
    deleted_date: int
    scheduled_purge_date: int


class VersionedStore(Generic[P]):
    """The live and deleted objects of one kind in one vault, guarded by the vault's lock."""

    def __init__(self, kind: str, *, settings: Settings, clock: Clock, lock: threading.RLock, vault: str) -> None:
        self.kind = kind
        self.settings = settings
        self.clock = clock
        self.vault_name = vault
        self._lock = lock
        self._live: dict[str, VersionedObject[P]] = {}
        self._deleted: dict[str, DeletedObject[P]] = {}
        self.before_read: Callable[[], None] | None = None
        """Called before every lookup (certificates renew themselves lazily, and their key and secret with them)."""

    # -- helpers ---------------------------------------------------------------------------------

    def _now(self) -> int:
        return int(self.clock.time())

    def _purge_expired(self) -> None:
        if self.before_read is not None:
            self.before_read()
        now = self._now()
        for key in [k for k, d in self._deleted.items() if d.scheduled_purge_date <= now]:
            del self._deleted[key]

    def _live_object(self, name: str) -> VersionedObject[P]:
        self._purge_expired()
        obj = self._live.get(name.lower())
        if obj is None:
            raise ObjectNotFound(self.kind, name)
        return obj

    def _deleted_object(self, name: str) -> DeletedObject[P]:
        self._purge_expired()
        deleted = self._deleted.get(name.lower())
        if deleted is None:
            raise DeletedObjectNotFound(self.kind, name)
        return deleted

    # -- reading ---------------------------------------------------------------------------------

    def get(self, name: str, version: str | None = None) -> Version[P]:
        """The latest version, or the given one (case-insensitive)."""
        with self._lock:
            obj = self._live_object(name)
            if not version:
                return obj.latest
            found = obj.versions.get(version.lower())
            if found is None:
                raise ObjectNotFound(self.kind, name, version)
            return found

    def get_object(self, name: str) -> VersionedObject[P]:
        """All versions of one live object."""
        with self._lock:
            return self._live_object(name)

    def list(self) -> builtins.list[VersionedObject[P]]:
        """Live objects ordered by name, case-insensitively."""
        with self._lock:
            self._purge_expired()
            return [self._live[k] for k in sorted(self._live)]

    def list_versions(self, name: str) -> builtins.list[Version[P]]:
        with self._lock:
            return list(self._live_object(name).versions.values())

    def get_deleted(self, name: str) -> DeletedObject[P]:
        with self._lock:
            return self._deleted_object(name)

    def list_deleted(self) -> builtins.list[DeletedObject[P]]:
        with self._lock:
            self._purge_expired()
            return [self._deleted[k] for k in sorted(self._deleted)]

    def __contains__(self, name: object) -> bool:
        with self._lock:
            self._purge_expired()
            return isinstance(name, str) and name.lower() in self._live

    def __iter__(self) -> Iterator[str]:
        return iter([obj.name for obj in self.list()])

    def __len__(self) -> int:
        return len(self.list())

    # -- writing ---------------------------------------------------------------------------------

    def add_version(
        self,
        name: str,
        payload: P,
        *,
        enabled: bool = True,
        not_before: int | None = None,
        expires: int | None = None,
        tags: dict[str, str] | None = None,
        operation: str | None = None,
    ) -> Version[P]:
        """Create the object or add a version to it. Refused while the name is soft-deleted."""
        validate_name(self.kind, name)
        tags = dict(tags or {})
        validate_tags(tags)
        with self._lock:
            self._purge_expired()
            if name.lower() in self._deleted:
                raise ObjectIsDeletedButRecoverable(self.kind, name)
            default = "set" if self.kind == "secret" else "create"
            self._refuse_managed(self._live.get(name.lower()), operation or default)
            return self._append(name, payload, Attributes(enabled, 0, 0, not_before, expires), tags, self._now())

    def _refuse_managed(self, obj: VersionedObject[P] | DeletedObject[P] | None, operation: str) -> None:
        """The service's 403 for a direct change to an object a certificate manages."""
        target = obj.obj if isinstance(obj, DeletedObject) else obj
        if target is not None and target.managed:
            raise ManagedByKeyVault(self.kind, operation)

    def insert_version(self, name: str, version: Version[P]) -> Version[P]:
        """Add a version exactly as given (id, times, ``managed``), without checks: for certificates, which make
        their own versions and those of their key and secret. The caller holds the lock and has checked."""
        obj = self._live.get(name.lower())
        if obj is None:
            obj = self._live[name.lower()] = VersionedObject(name=name, versions={})
        version.name = obj.name
        obj.versions[version.version] = version
        return version

    def _append(self, name: str, payload: P, attributes: Attributes, tags: dict[str, str], at: int) -> Version[P]:
        """Add a version stamped ``at`` without any checks (callers hold the lock and have checked)."""
        obj = self._live.get(name.lower())
        if obj is None:
            obj = self._live[name.lower()] = VersionedObject(name=name, versions={})
        attributes.created = attributes.updated = at
        version = Version(name=obj.name, version=new_version_id(), attributes=attributes, tags=tags, payload=payload)
        obj.versions[version.version] = version
        return version

    def update(
        self,
        name: str,
        version: str | None,
        *,
        change: Callable[[Version[P]], None],
        by_certificate: bool = False,
    ) -> Version[P]:
        """Apply ``change`` to one version (latest when ``version`` is empty) and stamp ``updated``."""
        with self._lock:
            target = self.get(name, version)
            if not by_certificate:
                self._refuse_managed(self._live_object(name), "update")
            draft = dataclasses.replace(
                target, attributes=dataclasses.replace(target.attributes), tags=dict(target.tags)
            )
            change(draft)  # may raise: nothing is stored until it returns
            validate_tags(draft.tags)
            draft.attributes.updated = self._now()
            target.attributes = draft.attributes
            target.tags = draft.tags
            target.payload = draft.payload
            return target

    def delete(self, name: str, *, by_certificate: bool = False) -> DeletedObject[P] | VersionedObject[P]:
        """Soft-delete (returns the deleted record) or, with soft delete off, drop it (returns the object)."""
        with self._lock:
            obj = self._live_object(name)
            if not by_certificate:
                self._refuse_managed(obj, "delete")
            del self._live[name.lower()]
            if not self.settings.enable_soft_delete:
                return obj
            now = self._now()
            deleted = DeletedObject(obj, now, now + self.settings.soft_delete_retention_in_days * DAY)
            self._deleted[name.lower()] = deleted
            return deleted

    def recover(self, name: str, *, by_certificate: bool = False) -> VersionedObject[P]:
        with self._lock:
            deleted = self._deleted_object(name)
            if not by_certificate:
                self._refuse_managed(deleted, "recover")
            del self._deleted[name.lower()]
            self._live[name.lower()] = deleted.obj
            return deleted.obj

    def purge(self, name: str, *, by_certificate: bool = False) -> None:
        with self._lock:
            deleted = self._deleted_object(name)
            if not by_certificate:
                self._refuse_managed(deleted, "purge")
            if "Purgeable" not in self.settings.recovery_level:
                raise PurgeNotAllowed(f"{self.vault_name};location={self.settings.location}")
            del self._deleted[name.lower()]

    def restore(self, obj: VersionedObject[P]) -> VersionedObject[P]:
        """Put back an object read from a backup, with its versions and ids as they were."""
        with self._lock:
            self._purge_expired()
            key = obj.name.lower()
            if key in self._deleted:
                raise ObjectIsDeletedButRecoverable(self.kind, obj.name)
            if key in self._live:
                raise ObjectAlreadyExists(self.kind, obj.name)
            self._live[key] = obj
            return obj

    def clear(self) -> None:
        with self._lock:
            self._live.clear()
            self._deleted.clear()
