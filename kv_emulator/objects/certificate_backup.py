"""The backup of a certificate: every version, its policy, and the managed key and secret, as one document.

The document is JSON; :class:`~.backup.BackupSealer` seals it so only the emulator that made it can restore it.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from typing import TYPE_CHECKING, Any

from ..errors import ObjectAlreadyExists, ObjectIsDeletedButRecoverable
from . import keys as keys_module
from . import secrets as secrets_module
from .certificate_operations import CertificateValue
from .certificate_policy import CertificatePolicy
from .versioned import Attributes, Version, VersionedObject

if TYPE_CHECKING:
    from .certificates import CertificateStore

__all__ = ["certificate_document", "restore_certificate_document"]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def certificate_document(store: CertificateStore, name: str) -> bytes:
    """The JSON document of one certificate (the caller holds the vault's lock)."""
    obj = store.get_object(name)
    key = name.lower()
    keys = store.keys._live.get(key)
    secrets = store.secrets._live.get(key)
    document = {
        "name": obj.name,
        "versions": [_version_to_dict(v) for v in obj.versions.values()],
        "policy": store._policies[key].to_dict(),
        "keys": [keys_module._version_to_dict(v) for v in keys.versions.values()] if keys else [],
        "secrets": [secrets_module._version_to_dict(v) for v in secrets.versions.values()] if secrets else [],
    }
    return json.dumps(document).encode()


def restore_certificate_document(store: CertificateStore, raw: bytes) -> VersionedObject[CertificateValue]:
    """Put a certificate back with its key and secret; refused if any of the three names is taken."""
    document = json.loads(raw)
    name = document["name"]
    store._purge_expired()
    for other in (store.keys, store.secrets):
        if name.lower() in other._deleted:
            raise ObjectIsDeletedButRecoverable(store.kind, name)
        if name.lower() in other._live:
            raise ObjectAlreadyExists(store.kind, name)
    versions = [_version_from_dict(name, v) for v in document["versions"]]
    obj = store.restore(VersionedObject(name=name, versions={v.version: v for v in versions}))
    store._policies[name.lower()] = CertificatePolicy.from_dict(document["policy"])
    for data in document["keys"]:
        version = keys_module._version_from_dict(obj.name, data)
        store.keys.insert_version(obj.name, dataclasses.replace(version, managed=True))
    for data in document["secrets"]:
        secret = secrets_module._version_from_dict(obj.name, data)
        store.secrets.insert_version(obj.name, dataclasses.replace(secret, managed=True))
    return obj


def _version_to_dict(version: Version[CertificateValue]) -> dict[str, Any]:
    payload = version.payload
    return {
        "version": version.version,
        "attributes": dataclasses.asdict(version.attributes),
        "tags": version.tags,
        "cer": _b64(payload.cer) if payload.cer is not None else None,
        "certificates": [_b64(c) for c in payload.certificates],
        "content_type": payload.content_type,
        "preserve_order": payload.preserve_order,
    }


def _version_from_dict(name: str, data: dict[str, Any]) -> Version[CertificateValue]:
    payload = CertificateValue(
        base64.b64decode(data["cer"]) if data["cer"] is not None else None,
        tuple(base64.b64decode(c) for c in data["certificates"]),
        data["content_type"],
        bool(data["preserve_order"]),
    )
    return Version(name, data["version"], Attributes(**data["attributes"]), dict(data["tags"]), payload)
