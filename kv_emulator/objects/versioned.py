"""Versioned objects and their soft-delete lifecycle, shared by secrets, keys and certificates.

An object is a name with an ordered set of versions. Deleting moves the whole object to the deleted
set (soft delete) or drops it (soft delete off); the deleted object is purged when its scheduled purge
date passes on the emulator's clock, or on request unless purge protection forbids it.
Names are case-insensitive: the store keys on the lowercased name and keeps the casing it was created with,
and keeps the lowercased names in order, so a list page starts where its marker points without a sort.

Every public method first brings the vault up to its clock (:class:`~.schedule.Schedule`: purges, rotations,
renewals), so direct access sees the same state as a request. The methods marked "no catch-up" are for the
certificate store, which manages a key and a secret of its certificate's name: it calls them while the vault
is already caught up, or from a scheduled job.
"""

from __future__ import annotations

import bisect
import builtins
import dataclasses
import re
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar

from ..clock import Clock
from ..config import Settings
from ..errors import (
    BadParameter,
    DeletedObjectNotFound,
    ManagedByKeyVault,
    ObjectAlreadyExists,
    ObjectIsDeletedButRecoverable,
    ObjectNotDeleted,
    ObjectNotFound,
    PurgeNotAllowed,
)
from .schedule import Schedule
from .versioned_state import StoreState
from .versions import Attributes, DeletedObject, Version, VersionedObject

__all__ = ["Attributes", "DeletedObject", "Version", "VersionedObject", "VersionedStore", "validate_tags"]

P = TypeVar("P")
T = TypeVar("T")

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


class VersionedStore(StoreState[P], Generic[P]):
    """The live and deleted objects of one kind in one vault, guarded by the vault's lock."""

    def __init__(
        self,
        kind: str,
        *,
        settings: Settings,
        clock: Clock,
        lock: threading.RLock,
        vault: str,
        schedule: Schedule | None = None,
    ) -> None:
        self.kind = kind
        self.settings = settings
        self.clock = clock
        self.vault_name = vault
        self._lock = lock
        self._schedule = schedule if schedule is not None else Schedule(lock)
        self._live: dict[str, VersionedObject[P]] = {}
        self._deleted: dict[str, DeletedObject[P]] = {}
        self._live_order: builtins.list[str] = []  # the keys of _live, sorted
        self._deleted_order: builtins.list[str] = []  # the keys of _deleted, sorted
        self._schedule.register("purge", kind, self._purge_due)
        self.touched: set[str] = set()
        """Lowercased names whose stored state may have changed since :meth:`take_touched` (persistence)."""
        self.on_new_version: list[Callable[[Version[P]], None]] = []
        """Told of every new version however made (Event Grid events); called under the vault's lock."""

    # -- helpers ---------------------------------------------------------------------------------

    def _now(self) -> int:
        return int(self.clock.time())

    def _sync(self) -> None:
        """Bring the vault up to the clock (cheap when nothing is due). Every public method starts here."""
        self._schedule.run(self._now())

    def _put_live(self, key: str, obj: VersionedObject[P]) -> None:
        self.touched.add(key)
        if key not in self._live:
            bisect.insort(self._live_order, key)
        self._live[key] = obj

    def _drop_live(self, key: str) -> VersionedObject[P]:
        self.touched.add(key)
        obj = self._live.pop(key)
        del self._live_order[bisect.bisect_left(self._live_order, key)]
        return obj

    def _put_deleted(self, key: str, deleted: DeletedObject[P]) -> None:
        self.touched.add(key)
        if key not in self._deleted:
            bisect.insort(self._deleted_order, key)
        self._deleted[key] = deleted
        self._schedule.plan("purge", self.kind, key, deleted.scheduled_purge_date)

    def _drop_deleted(self, key: str) -> DeletedObject[P]:
        self.touched.add(key)
        deleted = self._deleted.pop(key)
        del self._deleted_order[bisect.bisect_left(self._deleted_order, key)]
        return deleted

    def _purge_due(self, key: str, now: int) -> None:
        """Scheduled (``purge`` phase): drop the deleted object once its purge date has passed."""
        deleted = self._deleted.get(key)
        if deleted is not None and deleted.scheduled_purge_date > now:
            self._schedule.plan("purge", self.kind, key, deleted.scheduled_purge_date)
            return
        if deleted is not None:
            self._drop_deleted(key)
        if key not in self._live and key not in self._deleted:
            self._forget(key)

    def _forget(self, key: str) -> None:
        """The name is gone for good (purged, or deleted with soft delete off): drop what belongs to it."""

    def _changed(self, key: str) -> None:
        """A live object was written: plan its time-driven work (kinds with lifetime actions override this)."""

    def _touch(self, key: str) -> None:
        """What is kept under a name changed in place (a version, a policy, an operation): persist it."""
        self.touched.add(key)

    def _live_object(self, name: str) -> VersionedObject[P]:
        obj = self._live.get(name.lower())
        if obj is None:
            raise ObjectNotFound(self.kind, name)
        return obj

    def _deleted_object(self, name: str) -> DeletedObject[P]:
        deleted = self._deleted.get(name.lower())
        if deleted is None:
            raise DeletedObjectNotFound(self.kind, name)
        return deleted

    @staticmethod
    def _page(
        order: builtins.list[str],
        records: dict[str, T],
        start: str | None,
        count: int,
        accept: Callable[[T], bool] | None,
    ) -> tuple[builtins.list[T], str | None]:
        """Up to ``count`` accepted records from the first key at or after ``start``, and the next one's key."""
        i = bisect.bisect_left(order, start) if start else 0
        found: builtins.list[T] = []
        while i < len(order):
            record = records[order[i]]
            if accept is None or accept(record):
                if len(found) == count:
                    return found, order[i]
                found.append(record)
            i += 1
        return found, None

    # -- reading ---------------------------------------------------------------------------------

    def get(self, name: str, version: str | None = None) -> Version[P]:
        """The latest version, or the given one (case-insensitive)."""
        with self._lock:
            self._sync()
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
            self._sync()
            return self._live_object(name)

    def list(self) -> builtins.list[VersionedObject[P]]:
        """Live objects ordered by name, case-insensitively."""
        with self._lock:
            self._sync()
            return [self._live[k] for k in self._live_order]

    def list_page(self, start: str | None, count: int) -> tuple[builtins.list[VersionedObject[P]], str | None]:
        """Up to ``count`` live objects in name order from the first whose lowercased name is at or after
        ``start``, and the lowercased name of the one after them (None at the end): a list page."""
        with self._lock:
            self._sync()
            return self._page(self._live_order, self._live, start, count, None)

    def list_versions(self, name: str) -> builtins.list[Version[P]]:
        with self._lock:
            self._sync()
            return list(self._live_object(name).versions.values())

    def get_deleted(self, name: str) -> DeletedObject[P]:
        with self._lock:
            self._sync()
            return self._deleted_object(name)

    def list_deleted(self) -> builtins.list[DeletedObject[P]]:
        with self._lock:
            self._sync()
            return [self._deleted[k] for k in self._deleted_order]

    def list_deleted_page(self, start: str | None, count: int) -> tuple[builtins.list[DeletedObject[P]], str | None]:
        """A page of deleted objects, as :meth:`list_page` does for live ones."""
        with self._lock:
            self._sync()
            return self._page(self._deleted_order, self._deleted, start, count, None)

    def __contains__(self, name: object) -> bool:
        with self._lock:
            self._sync()
            return isinstance(name, str) and name.lower() in self._live

    def __iter__(self) -> Iterator[str]:
        return iter([obj.name for obj in self.list()])

    def __len__(self) -> int:
        with self._lock:
            self._sync()
            return len(self._live)

    # -- for the certificate store (no catch-up) ---------------------------------------------------

    def peek(self, name: str) -> VersionedObject[P] | None:
        """The live object of a name, or None. No catch-up: the caller holds the lock and has caught up."""
        return self._live.get(name.lower())

    def peek_deleted(self, name: str) -> DeletedObject[P] | None:
        """The deleted object of a name, or None. No catch-up."""
        return self._deleted.get(name.lower())

    def holds_unmanaged(self, name: str) -> bool:
        """Whether a plain (not certificate-managed) object of this name exists, live or deleted. No catch-up."""
        live = self._live.get(name.lower())
        deleted = self._deleted.get(name.lower())
        target = live or (deleted.obj if deleted else None)
        return target is not None and not target.managed

    def insert_version(self, name: str, version: Version[P]) -> Version[P]:
        """Add a version exactly as given (id, times, ``managed``), without checks: for certificates, which make
        their own versions and those of their key and secret. No catch-up; the caller holds the lock and has
        checked."""
        key = name.lower()
        obj = self._live.get(key)
        if obj is None:
            obj = VersionedObject(name=name, versions={})
            self._put_live(key, obj)
        version.name = obj.name
        obj.versions[version.version] = version
        self.touched.add(key)
        self._changed(key)
        return version

    def set_managed_attributes(self, name: str, version: str, attributes: Mapping[str, Any]) -> None:
        """Mirror a certificate version's attributes (``enabled``, ``not_before``, ``expires``) to its managed
        key or secret version, if there is one. No catch-up."""
        obj = self._live.get(name.lower())
        target = obj.versions.get(version) if obj is not None and obj.managed else None
        if target is not None:
            for field, value in attributes.items():
                setattr(target.attributes, field, value)
            target.attributes.updated = self._now()
            self.touched.add(name.lower())
            self._changed(name.lower())  # an expiry moved: so may its notification

    def delete_managed(self, name: str) -> None:
        """Delete the managed object of a certificate being deleted (soft, or for good). No catch-up."""
        obj = self._live.get(name.lower())
        if obj is not None and obj.managed:
            self._delete(obj)

    def recover_managed(self, name: str) -> None:
        """Recover the managed object of a certificate being recovered. No catch-up."""
        deleted = self._deleted.get(name.lower())
        if deleted is not None and deleted.obj.managed:
            self._recover(deleted)

    def purge_managed(self, name: str) -> None:
        """Purge the managed object of a certificate being purged. No catch-up."""
        deleted = self._deleted.get(name.lower())
        if deleted is not None and deleted.obj.managed:
            self._drop_deleted(name.lower())
            self._forget(name.lower())

    def restore_managed(self, name: str, versions: builtins.list[Version[P]]) -> None:
        """Put back the managed versions of a certificate restored from a backup. No catch-up."""
        for version in versions:
            self.insert_version(name, dataclasses.replace(version, managed=True))

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
            self._sync()
            if name.lower() in self._deleted:
                raise ObjectIsDeletedButRecoverable(self.kind, name)
            default = "set" if self.kind == "secret" else "create"
            self._refuse_managed(self._live.get(name.lower()), operation or default)
            version = self._append(name, payload, Attributes(enabled, 0, 0, not_before, expires), tags, self._now())
            self._changed(name.lower())
            return version

    def _refuse_managed(self, obj: VersionedObject[P] | DeletedObject[P] | None, operation: str) -> None:
        """The service's 403 for a direct change to an object a certificate manages."""
        target = obj.obj if isinstance(obj, DeletedObject) else obj
        if target is not None and target.managed:
            raise ManagedByKeyVault(self.kind, operation)

    def _append(self, name: str, payload: P, attributes: Attributes, tags: dict[str, str], at: int) -> Version[P]:
        """Add a version stamped ``at`` without any checks (callers hold the lock and have checked)."""
        key = name.lower()
        obj = self._live.get(key)
        if obj is None:
            obj = VersionedObject(name=name, versions={})
            self._put_live(key, obj)
        attributes.created = attributes.updated = at
        version = Version(name=obj.name, version=new_version_id(), attributes=attributes, tags=tags, payload=payload)
        obj.versions[version.version] = version
        self.touched.add(key)
        self.announce(version)
        return version

    def announce(self, version: Version[P]) -> None:
        """Tell the observers a new version exists (restores and recoveries bring back old ones: not new)."""
        for observer in self.on_new_version:
            observer(version)

    def update(
        self,
        name: str,
        version: str | None,
        *,
        change: Callable[[Version[P]], None],
    ) -> Version[P]:
        """Apply ``change`` to one version (latest when ``version`` is empty) and stamp ``updated``."""
        with self._lock:
            target = self.get(name, version)
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
            self.touched.add(name.lower())
            self._changed(name.lower())
            return target

    def delete(self, name: str) -> DeletedObject[P] | VersionedObject[P]:
        """Soft-delete (returns the deleted record) or, with soft delete off, drop it (returns the object)."""
        with self._lock:
            self._sync()
            obj = self._live_object(name)
            self._refuse_managed(obj, "delete")
            return self._delete(obj)

    def _delete(self, obj: VersionedObject[P]) -> DeletedObject[P] | VersionedObject[P]:
        key = obj.name.lower()
        self._drop_live(key)
        now = self._now()
        if not self.settings.enable_soft_delete:
            # What belongs to the name goes at the next catch-up: the answer to this delete still shows it.
            self._schedule.plan("purge", self.kind, key, now)
            return obj
        deleted = DeletedObject(obj, now, now + self.settings.soft_delete_retention_in_days * DAY)
        self._put_deleted(key, deleted)
        return deleted

    def recover(self, name: str) -> VersionedObject[P]:
        """Bring a deleted object back. A live one is the service's 400 "exists already"; a name neither live nor
        deleted its long not-found 404 (recorded 2022 for secrets and keys), not "Deleted ... not found"."""
        with self._lock:
            self._sync()
            deleted = self._deleted.get(name.lower())
            if deleted is None:
                if name.lower() in self._live:
                    raise ObjectNotDeleted(self.kind, name)
                raise ObjectNotFound(self.kind, name)
            self._refuse_managed(deleted, "recover")
            return self._recover(deleted)

    def _recover(self, deleted: DeletedObject[P]) -> VersionedObject[P]:
        key = deleted.obj.name.lower()
        self._drop_deleted(key)
        self._schedule.plan("purge", self.kind, key, None)
        self._put_live(key, deleted.obj)
        self._changed(key)
        return deleted.obj

    def purge(self, name: str) -> None:
        with self._lock:
            self._sync()
            deleted = self._deleted_object(name)
            self._refuse_managed(deleted, "purge")
            if "Purgeable" not in self.settings.recovery_level:
                raise PurgeNotAllowed(f"{self.vault_name};location={self.settings.location}")
            self._drop_deleted(name.lower())
            self._schedule.plan("purge", self.kind, name.lower(), None)
            self._forget(name.lower())

    def restore(self, obj: VersionedObject[P]) -> VersionedObject[P]:
        """Put back an object read from a backup, with its versions and ids as they were."""
        with self._lock:
            self._sync()
            key = obj.name.lower()
            if key in self._deleted:
                raise ObjectIsDeletedButRecoverable(self.kind, obj.name)
            if key in self._live:
                raise ObjectAlreadyExists(self.kind, obj.name, obj.latest.version)
            self._put_live(key, obj)
            self._changed(key)
            return obj

    def clear(self) -> None:
        with self._lock:
            for key in builtins.list(self._live) + builtins.list(self._deleted):
                self._forget(key)
                self.touched.add(key)
            self._live.clear()
            self._deleted.clear()
            self._live_order.clear()
            self._deleted_order.clear()
