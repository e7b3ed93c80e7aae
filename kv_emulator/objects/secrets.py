"""Secrets: a value and a content type per version, on top of the versioned store.

This is also the direct-access API: ``emulator.vault().secrets.set("name", "value")`` seeds a secret
without HTTP, and ``.get("name").value`` inspects one.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from ..errors import BadParameter, DeletedObjectDisabled, ObjectDisabled
from .backup import BackupSealer, check_backup_size
from .versioned import Attributes, DeletedObject, Version, VersionedObject, VersionedStore, apply_common_changes

__all__ = ["MAX_CONTENT_TYPE_LENGTH", "MAX_SECRET_LENGTH", "Secret", "SecretStore", "SecretValue"]

#: The limits: values up to 25600 characters (the service's own message), content types up to 255.
MAX_SECRET_LENGTH = 25_600
MAX_CONTENT_TYPE_LENGTH = 255


@dataclasses.dataclass(frozen=True)
class SecretValue:
    value: str
    content_type: str | None = None


Secret = Version[SecretValue]
"""One secret version: ``.name``, ``.version``, ``.attributes``, ``.tags``, ``.payload.value``."""


def _validate_value(value: str, content_type: str | None) -> None:
    if len(value) > MAX_SECRET_LENGTH:
        # Seen in Azure CLI output of the real service (azure-cli#5639).
        raise BadParameter(
            f"Secret is beyond the maximum permitted length of {MAX_SECRET_LENGTH} characters.",
            inner_code="SecretTooLarge",
        )
    if content_type is not None and len(content_type) > MAX_CONTENT_TYPE_LENGTH:
        # Documented limit; the text follows the service's pattern for invalid properties (unverified).
        raise BadParameter("Property contentType has invalid value\r\n")


class SecretStore(VersionedStore[SecretValue]):
    """The secrets of one vault."""

    def __init__(self, *, sealer: BackupSealer, **kwargs: Any) -> None:
        super().__init__("secret", **kwargs)
        self.sealer = sealer

    def set(
        self,
        name: str,
        value: str,
        *,
        content_type: str | None = None,
        enabled: bool = True,
        not_before: int | None = None,
        expires: int | None = None,
        tags: dict[str, str] | None = None,
    ) -> Secret:
        """Add a new version (SetSecret)."""
        if not isinstance(value, str):
            raise TypeError("a secret value is a str")
        _validate_value(value, content_type)
        return self.add_version(
            name,
            SecretValue(value, content_type),
            enabled=enabled,
            not_before=not_before,
            expires=expires,
            tags=tags,
        )

    def get_value(self, name: str, version: str | None = None) -> Secret:
        """GetSecret: like :meth:`get`, but a disabled version is refused as the service does."""
        secret = self.get(name, version)
        if not secret.attributes.enabled:
            raise ObjectDisabled("secret", "get")
        return secret

    def read_deleted(self, name: str) -> DeletedObject[SecretValue]:
        """GetDeletedSecret: like :meth:`get_deleted`, but a secret deleted while disabled is refused with the
        service's 403 (recorded 2020-21, issue 19); listing deleted secrets still shows it."""
        deleted = self.get_deleted(name)
        if not deleted.obj.latest.attributes.enabled:
            raise DeletedObjectDisabled("secret", "get")
        return deleted

    def update_properties(
        self,
        name: str,
        version: str | None = None,
        *,
        content_type: Any = ...,
        enabled: bool | None = None,
        not_before: Any = ...,
        expires: Any = ...,
        tags: dict[str, str] | None = None,
    ) -> Secret:
        """UpdateSecret: change what is given (``...`` means "leave as is"), never the value."""

        def change(draft: Secret) -> None:
            if content_type is not ...:
                _validate_value("", content_type)
                draft.payload = dataclasses.replace(draft.payload, content_type=content_type)
            apply_common_changes(draft, enabled=enabled, not_before=not_before, expires=expires, tags=tags)

        return self.update(name, version, change=change)

    # -- state (kv_emulator.state) -----------------------------------------------------------------

    def _payload_to_state(self, payload: SecretValue) -> dict[str, Any]:
        return {"value": payload.value, "content_type": payload.content_type}

    def _payload_from_state(self, data: Mapping[str, Any]) -> SecretValue:
        return SecretValue(str(data["value"]), data.get("content_type"))

    # -- backup ----------------------------------------------------------------------------------

    def backup(self, name: str) -> bytes:
        """All versions of one secret, sealed so that only this emulator can restore them."""
        obj = self.get_object(name)
        self._refuse_managed(obj, "backup")  # backed up with its certificate
        check_backup_size("secret", obj.name, len(obj.versions))
        with self._lock:
            document = {
                "kind": "secret",
                "name": obj.name,
                "versions": [version_to_dict(v) for v in obj.versions.values()],
            }
        return self.sealer.seal("secret", json.dumps(document).encode())

    def restore_backup(self, blob: bytes) -> Secret:
        document = json.loads(self.sealer.open("secret", blob))
        versions = [version_from_dict(document["name"], v) for v in document["versions"]]
        obj = VersionedObject(name=document["name"], versions={v.version: v for v in versions})
        return self.restore(obj).latest


def version_to_dict(version: Secret) -> dict[str, object]:
    return {
        "version": version.version,
        "attributes": dataclasses.asdict(version.attributes),
        "tags": version.tags,
        "value": version.payload.value,
        "content_type": version.payload.content_type,
    }


def version_from_dict(name: str, data: dict[str, object]) -> Secret:
    return Version(
        name=name,
        version=str(data["version"]),
        attributes=Attributes(**data["attributes"]),  # type: ignore[arg-type]
        tags=dict(data["tags"]),  # type: ignore[call-overload]
        payload=SecretValue(str(data["value"]), data["content_type"]),  # type: ignore[arg-type]
    )
