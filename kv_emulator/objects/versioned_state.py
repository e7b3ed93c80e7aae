"""The versioned stores' state codec: every object with every version, deleted ones with their dates, as plain
JSON-able data (:mod:`kv_emulator.state`). Each kind's store says how its payload and what it keeps beside a
name are written; a server saves by object (:meth:`StoreState.take_touched`), a dump takes the whole store."""

from __future__ import annotations

import builtins
import dataclasses
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .versions import Attributes, DeletedObject, Version, VersionedObject

__all__ = ["StoreState", "plain"]

P = TypeVar("P")


def plain(value: Any) -> Any:
    """``value`` as JSON's types: tuples (a dataclass's ``asdict``) become lists."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


class StoreState(Generic[P]):
    """Mixed into :class:`~.versioned.VersionedStore`."""

    if TYPE_CHECKING:
        _lock: threading.RLock
        _live: dict[str, VersionedObject[P]]
        _deleted: dict[str, DeletedObject[P]]
        touched: set[str]

        def _put_live(self, key: str, obj: VersionedObject[P]) -> None: ...
        def _put_deleted(self, key: str, deleted: DeletedObject[P]) -> None: ...
        def _changed(self, key: str) -> None: ...
        def clear(self) -> None: ...

    # -- state (kv_emulator.state: the store says what it holds, as plain JSON-able data) -------------

    def _payload_to_state(self, payload: P) -> dict[str, Any]:
        """One version's kind-specific part as plain data (each kind's store says how)."""
        raise NotImplementedError

    def _payload_from_state(self, data: Mapping[str, Any]) -> P:
        raise NotImplementedError

    def _name_state(self, key: str) -> dict[str, Any]:
        """What a kind keeps beside a name's versions (a rotation policy, a certificate's policy and operation)."""
        return {}

    def _load_name_state(self, key: str, data: Mapping[str, Any]) -> None:
        """Take back what :meth:`_name_state` wrote."""

    def store_state(self) -> dict[str, Any]:
        """What the store keeps that belongs to no one name (notifications, issuers, contacts)."""
        return {}

    def load_store_state(self, data: Mapping[str, Any]) -> None:
        """Take back what :meth:`store_state` wrote."""

    def version_to_state(self, version: Version[P]) -> dict[str, Any]:
        data: dict[str, Any] = {
            "version": version.version,
            "attributes": dataclasses.asdict(version.attributes),
            "tags": dict(version.tags),
            **self._payload_to_state(version.payload),
        }
        if version.managed:
            data["managed"] = True
        return data

    def version_from_state(self, name: str, data: Mapping[str, Any]) -> Version[P]:
        attributes = data["attributes"]
        return Version(
            name=name,
            version=data["version"],
            attributes=Attributes(
                enabled=bool(attributes["enabled"]),
                created=int(attributes["created"]),
                updated=int(attributes["updated"]),
                not_before=attributes.get("not_before"),
                expires=attributes.get("expires"),
            ),
            tags=dict(data.get("tags") or {}),
            payload=self._payload_from_state(data),
            managed=bool(data.get("managed", False)),
        )

    def names(self) -> builtins.list[str]:
        """Every lowercased name the store holds anything under (live, deleted), for a whole dump."""
        with self._lock:
            return sorted(set(self._live) | set(self._deleted))

    def object_state(self, key: str) -> dict[str, Any] | None:
        """Everything kept under one lowercased name, or None when nothing is (no catch-up: a dump is a read of
        what is, and the caller holds the lock)."""
        live, deleted = self._live.get(key), self._deleted.get(key)
        obj = live or (deleted.obj if deleted is not None else None)
        if obj is None:
            return None
        data: dict[str, Any] = {"name": obj.name, "versions": [self.version_to_state(v) for v in obj.versions.values()]}
        if live is None and deleted is not None:
            data["deleted"] = {
                "deleted_date": deleted.deleted_date,
                "scheduled_purge_date": deleted.scheduled_purge_date,
            }
        data.update(self._name_state(key))
        return data

    def load_object_state(self, data: Mapping[str, Any]) -> None:
        """Put back one object as :meth:`object_state` wrote it (ids, times and deletion as they were)."""
        name = data["name"]
        versions = [self.version_from_state(name, v) for v in data["versions"]]
        obj = VersionedObject(name=name, versions={v.version: v for v in versions})
        key = name.lower()
        deleted = data.get("deleted")
        if deleted is not None:
            self._put_deleted(
                key, DeletedObject(obj, int(deleted["deleted_date"]), int(deleted["scheduled_purge_date"]))
            )
        else:
            self._put_live(key, obj)
        self._load_name_state(key, data)

    def to_state(self) -> dict[str, Any]:
        """The whole store: every object with every version, deleted ones with their dates."""
        with self._lock:
            objects = [state for key in self.names() if (state := self.object_state(key)) is not None]
            return {"objects": objects, **self.store_state()}

    def from_state(self, data: Mapping[str, Any]) -> None:
        """Replace the store's content with :meth:`to_state`'s, and plan its time-driven work again."""
        with self._lock:
            self.clear()
            self.load_store_state(data)
            for item in data.get("objects", ()):
                self.load_object_state(item)
            for key in builtins.list(self._live):
                self._changed(key)
            self.touched.clear()

    def take_touched(self) -> set[str]:
        """The names changed since the last call (the caller holds the lock), for a store that saves by object."""
        touched, self.touched = self.touched, set()
        return touched
