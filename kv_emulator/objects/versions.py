"""The records of versioned objects: attributes, one version, all versions of a name, a deleted object.

Plain dataclasses shared by the stores (:mod:`.versioned`) and their state codec (:mod:`.versioned_state`).
"""

from __future__ import annotations

import dataclasses
from typing import Generic, TypeVar

__all__ = ["Attributes", "DeletedObject", "Version", "VersionedObject"]

P = TypeVar("P")


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
