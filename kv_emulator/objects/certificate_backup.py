"""The backup of a certificate: every version, its policy, and the managed key and secret, as one document.

The document is JSON; :class:`~.backup.BackupSealer` seals it so only the emulator that made it can restore it.
These functions only convert: the certificate store decides what goes in and checks what comes back.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from typing import Any

from .certificate_operations import CertificateValue
from .certificate_policy import CertificatePolicy
from .keys import KeyValue
from .keys import version_from_dict as key_from_dict
from .keys import version_to_dict as key_to_dict
from .secrets import SecretValue
from .secrets import version_from_dict as secret_from_dict
from .secrets import version_to_dict as secret_to_dict
from .versioned import Attributes, Version, VersionedObject

__all__ = ["CertificateDocument", "read_certificate_document", "write_certificate_document"]


@dataclasses.dataclass
class CertificateDocument:
    """What a certificate backup holds."""

    certificate: VersionedObject[CertificateValue]
    policy: CertificatePolicy
    keys: list[Version[KeyValue]]
    secrets: list[Version[SecretValue]]

    @property
    def name(self) -> str:
        return self.certificate.name


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def write_certificate_document(
    certificate: VersionedObject[CertificateValue],
    policy: CertificatePolicy,
    keys: VersionedObject[KeyValue] | None,
    secrets: VersionedObject[SecretValue] | None,
) -> bytes:
    """The JSON document of one certificate, its policy and its managed key and secret."""
    document = {
        "name": certificate.name,
        "versions": [_version_to_dict(v) for v in certificate.versions.values()],
        "policy": policy.to_dict(),
        "keys": [key_to_dict(v) for v in keys.versions.values()] if keys else [],
        "secrets": [secret_to_dict(v) for v in secrets.versions.values()] if secrets else [],
    }
    return json.dumps(document).encode()


def read_certificate_document(raw: bytes) -> CertificateDocument:
    """The parts of a certificate backup, as :func:`write_certificate_document` wrote them."""
    document = json.loads(raw)
    name = document["name"]
    versions = [_version_from_dict(name, v) for v in document["versions"]]
    return CertificateDocument(
        certificate=VersionedObject(name=name, versions={v.version: v for v in versions}),
        policy=CertificatePolicy.from_dict(document["policy"]),
        keys=[key_from_dict(name, data) for data in document["keys"]],
        secrets=[secret_from_dict(name, data) for data in document["secrets"]],
    )


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
