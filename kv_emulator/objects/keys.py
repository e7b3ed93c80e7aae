"""Keys: key material, permitted operations and release policy per version, plus rotation policies.

The direct-access API too: ``emulator.vault().keys.create("k", "RSA")`` seeds a key without HTTP, and
``.import_key("k", material)`` brings in a known one. Crypto itself lives in :mod:`.crypto`; this module
decides whether an operation is allowed (enabled, validity window, ``key_ops``) the way the service does.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from ..errors import BadParameter, KeyForbidden, ObjectIsDeletedButRecoverable
from . import byok, key_material
from .backup import BackupSealer, check_backup_size
from .key_material import KeyMaterial
from .keypool import RsaKeyPool
from .rotation import RotationPolicy
from .versioned import DAY, Attributes, Version, VersionedObject, VersionedStore, apply_common_changes

__all__ = ["KEK_LIFETIME", "KEY_OPERATIONS", "Key", "KeyForbidden", "KeyStore", "KeyValue", "ReleasePolicy"]

#: The values of ``key_ops`` (JsonWebKeyOperation).
KEY_OPERATIONS = ("encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey", "import", "export")
# Operations refused outside nbf..exp; decrypt, unwrapKey and verify keep working on old data
# (observed against the live service by another emulator project; unverified here).
_TIME_BOUND_OPERATIONS = ("encrypt", "sign", "wrapKey")
#: How long a key exchange key (``RSA-HSM`` with ``key_ops: ["import"]``) is valid from its creation.
KEK_LIFETIME = 2 * DAY


@dataclasses.dataclass(frozen=True)
class ReleasePolicy:
    """A key release policy as the wire carries it (``data`` stays base64url text)."""

    data: str
    content_type: str = "application/json; charset=utf-8"
    immutable: bool = False


@dataclasses.dataclass(frozen=True)
class KeyValue:
    material: KeyMaterial
    key_ops: tuple[str, ...]
    exportable: bool = False
    release_policy: ReleasePolicy | None = None


Key = Version[KeyValue]
"""One key version: ``.name``, ``.version``, ``.attributes``, ``.tags``, ``.payload.material``."""


def _check_release_policy(exportable: bool, policy: ReleasePolicy | None) -> None:
    if policy is not None:
        try:
            document = json.loads(key_material.b64url_decode(policy.data, field="release_policy.data"))
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise BadParameter("The key release policy is not a valid JSON policy document.")  # unverified text
    # Texts recorded from the real service (azure-sdk-for-js recordings).
    if exportable and policy is None:
        raise BadParameter("AKV.SKR.1004: Exportable keys must have release policy.")
    if not exportable and policy is not None:
        raise BadParameter("AKV.SKR.1005: Non-exportable keys must not have release policy.")


def _check_key_ops(key_ops: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    unknown = [op for op in key_ops if op not in KEY_OPERATIONS]
    if unknown:
        raise BadParameter("Property key_ops has invalid value\r\n")  # the service's pattern; unverified
    return tuple(key_ops)


class KeyStore(VersionedStore[KeyValue]):
    """The keys of one vault."""

    def __init__(
        self,
        *,
        sealer: BackupSealer,
        premium: bool,
        managed_hsm: bool = False,
        key_pool: RsaKeyPool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__("key", **kwargs)
        self.sealer = sealer
        self.premium = premium
        self.managed_hsm = managed_hsm
        self.key_pool = key_pool
        """Where new RSA keys come from (the emulator's; None: generated inline)."""
        self._policies: dict[str, RotationPolicy] = {}
        self._notifications: list[dict[str, Any]] = []
        self._notified: set[tuple[str, int]] = set()  # (version, time) of the notifications above
        self._schedule.register("rotate", "key", self._rotate_due)
        self._schedule.register("notify", "key", self._notify_due)

    @property
    def rsa_generator(self) -> key_material.RsaGenerator | None:
        """The key pool's ``take``, for the certificate store's keys too."""
        return self.key_pool.take if self.key_pool is not None else None

    # -- creating ---------------------------------------------------------------------------------

    def _resolve_kty(self, kty: str) -> str:
        """The key type this vault makes for a requested ``kty``: a Managed HSM makes every key an -HSM key;
        a vault has no symmetric (oct) keys."""
        if self.managed_hsm and kty in ("RSA", "EC", "oct"):
            kty = f"{kty}-HSM"
        if kty == "oct-HSM" and not self.managed_hsm:
            # Recorded (issue 19), two spaces and all: the property name is left out. No inner code (unverified).
            raise BadParameter("Property  has invalid value\r\n")
        if kty not in key_material.KEY_TYPES or (not self.managed_hsm and kty.startswith("oct")):
            # Recorded: 400 BadParameter / KeyTypeNotSupported (azure-sdk-for-js#26212, "oct" on a vault).
            raise BadParameter(f"Invalid kty value: {kty}", inner_code="KeyTypeNotSupported")
        if kty.endswith("-HSM") and not self.premium and not self.managed_hsm:
            # Recorded text and code (azure-sdk-for-python#29945); status 403 presumed.
            raise KeyForbidden("Hardware key operation not allowed on standard vault")
        return kty

    def create(
        self,
        name: str,
        kty: str,
        *,
        size: int | None = None,
        curve: str | None = None,
        public_exponent: int | None = None,
        key_ops: list[str] | None = None,
        enabled: bool = True,
        not_before: int | None = None,
        expires: int | None = None,
        tags: dict[str, str] | None = None,
        exportable: bool = False,
        release_policy: ReleasePolicy | None = None,
    ) -> Key:
        """CreateKey: new material (or a new version of an existing name)."""
        kty = self._resolve_kty(kty)
        ops = _check_key_ops(key_ops) if key_ops is not None else tuple(key_material.default_key_ops(kty))
        _check_release_policy(exportable, release_policy)
        self._check_name_free(name)
        material = key_material.generate_key(  # a vault ignores public_exponent: key_material.check_rsa_request
            kty,
            size=size,
            curve=curve,
            public_exponent=public_exponent,
            managed_hsm=self.managed_hsm,
            rsa_generator=self.rsa_generator,
        )
        payload = KeyValue(material, ops, exportable, release_policy)
        key = self.add_version(name, payload, enabled=enabled, not_before=not_before, expires=expires, tags=tags)
        if kty == "RSA-HSM" and ops == ("import",) and expires is None:
            # A key exchange key (BYOK) lives two days from its creation on the service (recorded 2020-23, issue
            # 19). An expiry the client sent is kept (unverified: the recordings only show KEKs created without).
            with self._lock:
                key.attributes.expires = key.attributes.created + KEK_LIFETIME
                self._changed(name.lower())
        return key

    def import_key(
        self,
        name: str,
        material: KeyMaterial | dict[str, Any],
        *,
        hsm: bool = False,
        key_ops: list[str] | None = None,
        enabled: bool = True,
        not_before: int | None = None,
        expires: int | None = None,
        tags: dict[str, str] | None = None,
        exportable: bool = False,
        release_policy: ReleasePolicy | None = None,
    ) -> Key:
        """ImportKey: a known key (a :class:`KeyMaterial` or a private JWK) as a new version."""
        if isinstance(material, dict) and material.get("key_hsm") is not None:
            material = self._open_byok(material)
            hsm = True  # a transfer blob only ever brings an HSM key
        if not isinstance(material, KeyMaterial):
            kty = material.get("kty") if isinstance(material, dict) else None
            if isinstance(kty, str) and kty not in key_material.KEY_TYPES:
                self._resolve_kty(kty)  # the same refusal as CreateKey's
            material = KeyMaterial.from_jwk(material)
        kty = self._resolve_kty(f"{material.family}-HSM" if hsm else material.kty)
        if kty != material.kty:
            material = material.with_kty(kty)
        ops = _check_key_ops(key_ops) if key_ops is not None else tuple(key_material.default_key_ops(material.kty))
        _check_release_policy(exportable, release_policy)
        payload = KeyValue(material, ops, exportable, release_policy)
        return self.add_version(
            name, payload, enabled=enabled, not_before=not_before, expires=expires, tags=tags, operation="import"
        )

    def _open_byok(self, jwk: dict[str, Any]) -> KeyMaterial:
        """BYOK: the target key of a ``key_hsm`` blob, unwrapped with this vault's key exchange key, which
        must allow ``import`` (the usual 403s otherwise)."""
        kty = jwk.get("kty")
        if not isinstance(kty, str):
            raise BadParameter("The key is missing its key type (kty).")  # unverified text
        kty = self._resolve_kty(kty if kty.endswith("-HSM") else f"{kty}-HSM")
        blob = byok.read_transfer_blob(jwk["key_hsm"])
        if blob.kek_host.split(".")[0] != self.vault_name.lower():
            # unverified text
            raise BadParameter(f"The key exchange key {blob.kek_id} is not a key of this vault.")
        kek = self.usable(*blob.kek_name_and_version, "import")
        return byok.open_transfer_blob(blob, kek.payload.material, kty)

    def _check_name_free(self, name: str) -> None:
        """Fail before generating material when the name is soft-deleted (generation can be slow)."""
        with self._lock:
            self._sync()
            if name.lower() in self._deleted:
                raise ObjectIsDeletedButRecoverable(self.kind, name)
            self._refuse_managed(self._live.get(name.lower()), "create")

    def update_properties(
        self,
        name: str,
        version: str | None = None,
        *,
        key_ops: list[str] | None = None,
        enabled: bool | None = None,
        not_before: Any = ...,
        expires: Any = ...,
        tags: dict[str, str] | None = None,
        release_policy: ReleasePolicy | None = None,
    ) -> Key:
        """UpdateKey: attributes, tags, key_ops and the release policy; never the material."""

        def change(draft: Key) -> None:
            payload = draft.payload
            if key_ops is not None:
                payload = dataclasses.replace(payload, key_ops=_check_key_ops(key_ops))
            if release_policy is not None:
                current = payload.release_policy
                if current is not None and current.immutable:
                    raise BadParameter("AKV.SKR.1020: Immutable Key Release Policy cannot be modified.")  # recorded
                _check_release_policy(payload.exportable, release_policy)
                payload = dataclasses.replace(payload, release_policy=release_policy)
            draft.payload = payload
            apply_common_changes(draft, enabled=enabled, not_before=not_before, expires=expires, tags=tags)

        return self.update(name, version, change=change)

    # -- using ------------------------------------------------------------------------------------

    def usable(self, name: str, version: str | None, operation: str) -> Key:
        """The key version, if ``operation`` may run on it now; the service's 403 otherwise."""
        key = self.get(name, version)
        attributes = key.attributes
        if not attributes.enabled:
            # Reported from the live service (azure-sdk-for-python#45342); exact body unrecorded.
            raise KeyForbidden(f"Operation {operation} is not allowed on a disabled key.", "KeyDisabled")
        if operation in _TIME_BOUND_OPERATIONS:
            now = self._now()
            if attributes.expires is not None and now >= attributes.expires:
                # Quoted in Microsoft's AKS KMS docs ("KeyExpired: Operation encrypt isn't allowed ...").
                raise KeyForbidden(f"Operation {operation} is not allowed on an expired key.", "KeyExpired")
            if attributes.not_before is not None and now < attributes.not_before:
                # Unverified text and inner code.
                raise KeyForbidden(
                    f"Operation {operation} is not allowed on a key that is not yet valid.", "KeyNotYetValid"
                )
        if operation not in key.payload.key_ops:
            # Recorded (azure-sdk-for-net#11518).
            raise KeyForbidden(f"Operation {operation} is not permitted on this key.", "KeyOperationForbidden")
        return key

    # -- rotation ---------------------------------------------------------------------------------

    def rotate(self, name: str) -> Key:
        """RotateKey: a new version with fresh material of the same type, size and curve."""
        with self._lock:
            latest = self.get(name)
            self._refuse_managed(self._live_object(name), "rotate")
            rotated = self._rotate(latest, at=self._now())
            self._changed(name.lower())
            return rotated

    def _rotate(self, latest: Key, *, at: int) -> Key:
        material = latest.payload.material
        fresh = key_material.generate_key(
            material.kty,
            size=material.key_size if material.family != "EC" else None,
            curve=material.curve,
            public_exponent=_public_exponent(material),
            rsa_generator=self.rsa_generator,
        )
        policy = self._policies.get(latest.name.lower())
        expires = policy.expiry_after(at) if policy else None
        payload = dataclasses.replace(latest.payload, material=fresh)
        return self._append(latest.name, payload, Attributes(True, at, at, None, expires), dict(latest.tags), at)

    def get_rotation_policy(self, name: str) -> RotationPolicy:
        with self._lock:
            self.get(name)
            return self._policies.get(name.lower()) or RotationPolicy.default()

    def set_rotation_policy(self, name: str, policy: RotationPolicy) -> RotationPolicy:
        with self._lock:
            self.get(name)
            self._refuse_managed(self._live_object(name), "rotationpolicy")
            now = self._now()
            previous = self._policies.get(name.lower())
            policy.created = previous.created if previous else now
            policy.updated = now
            self._policies[name.lower()] = policy
            self.touched.add(name.lower())
            self._changed(name.lower())
            return policy

    @property
    def notifications(self) -> list[dict[str, Any]]:
        """``Notify`` lifetime actions that fired by now: ``{"name", "version", "time"}``, in order."""
        with self._lock:
            self._sync()
            return list(self._notifications)

    # -- time-driven: planned on writes, run by the vault's schedule ------------------------------------

    def _rotation_due(self, obj: VersionedObject[KeyValue]) -> int | None:
        """When the latest version is to rotate (None: never). A policy never acts before it existed."""
        policy = self._policies.get(obj.name.lower())
        if policy is None:
            return None  # the default policy only notifies
        latest = obj.latest.attributes
        due = policy.next_action(latest.created, latest.expires, "Rotate")
        return None if due is None else max(due, policy.created or due)

    def _notification_due(self, obj: VersionedObject[KeyValue]) -> int | None:
        """When the latest version's ``Notify`` fires (None: never, or it already did)."""
        policy = self._policies.get(obj.name.lower(), _DEFAULT_POLICY)  # every key has a policy
        latest = obj.latest
        due = policy.next_action(latest.attributes.created, latest.attributes.expires, "Notify")
        return None if due is None or (latest.version, due) in self._notified else due

    def _changed(self, key: str) -> None:
        obj = self._live.get(key)
        if obj is not None:
            self._schedule.plan("rotate", self.kind, key, self._rotation_due(obj))
            self._schedule.plan("notify", self.kind, key, self._notification_due(obj))

    def _rotate_due(self, key: str, now: int) -> None:
        """Scheduled (``rotate`` phase): every rotation due by ``now``, each stamped with its due time."""
        obj = self._live.get(key)
        if obj is None:
            return
        due = self._rotation_due(obj)
        while due is not None and due <= now and due > obj.latest.attributes.created:
            self._rotate(obj.latest, at=due)
            due = self._rotation_due(obj)
        self._schedule.plan("rotate", self.kind, key, due if due is not None and due > now else None)
        self._schedule.plan("notify", self.kind, key, self._notification_due(obj))

    def _notify_due(self, key: str, now: int) -> None:
        """Scheduled (``notify`` phase): record the latest version's notification, once."""
        obj = self._live.get(key)
        if obj is None:
            return
        due = self._notification_due(obj)
        if due is not None and due <= now:
            latest = obj.latest
            self._notifications.append({"name": obj.name, "version": latest.version, "time": due})
            self._notified.add((latest.version, due))
            due = None
        self._schedule.plan("notify", self.kind, key, due)

    def _forget(self, key: str) -> None:
        self._policies.pop(key, None)

    # -- state (kv_emulator.state) -----------------------------------------------------------------

    def _payload_to_state(self, payload: KeyValue) -> dict[str, Any]:
        policy = payload.release_policy
        return {
            "jwk": payload.material.private_jwk(),
            "key_ops": list(payload.key_ops),
            "exportable": payload.exportable,
            "release_policy": dataclasses.asdict(policy) if policy else None,
        }

    def _payload_from_state(self, data: Mapping[str, Any]) -> KeyValue:
        policy = data.get("release_policy")
        return KeyValue(
            KeyMaterial.from_jwk(data["jwk"]),
            tuple(data["key_ops"]),
            bool(data.get("exportable", False)),
            ReleasePolicy(**policy) if policy else None,
        )

    def _name_state(self, key: str) -> dict[str, Any]:
        policy = self._policies.get(key)
        return {"rotation_policy": policy.to_dict()} if policy is not None else {}

    def _load_name_state(self, key: str, data: Mapping[str, Any]) -> None:
        if data.get("rotation_policy") is not None:
            self._policies[key] = RotationPolicy.from_dict(data["rotation_policy"])

    def store_state(self) -> dict[str, Any]:
        return {
            "notifications": [dict(n) for n in self._notifications],
            "notified": sorted([version, at] for version, at in self._notified),
        }

    def load_store_state(self, data: Mapping[str, Any]) -> None:
        self._notifications = [dict(n) for n in data.get("notifications", ())]
        self._notified = {(str(version), int(at)) for version, at in data.get("notified", ())}

    # -- backup ------------------------------------------------------------------------------------

    def backup(self, name: str) -> bytes:
        obj = self.get_object(name)
        self._refuse_managed(obj, "backup")  # backed up with its certificate
        check_backup_size("key", obj.name, len(obj.versions))
        with self._lock:
            document = self._document(obj)
        return self.sealer.seal(self._backup_kind, json.dumps(document).encode())

    def documents(self) -> list[dict[str, Any]]:
        """Every live key as a backup document (a Managed HSM's full backup; key-level backups seal one)."""
        with self._lock:
            self._sync()
            return [self._document(obj) for obj in self._live.values() if not obj.managed]

    def _document(self, obj: VersionedObject[KeyValue]) -> dict[str, Any]:
        policy = self._policies.get(obj.name.lower())
        return {
            "name": obj.name,
            "versions": [version_to_dict(v) for v in obj.versions.values()],
            "policy": policy.to_dict() if policy is not None else None,
        }

    def load_documents(self, documents: list[dict[str, Any]], *, only: str | None = None) -> None:
        """Replace the keys with backup documents: all of them (a full restore), or the key ``only`` names (a
        selective restore; the other keys stay). Runs as a scheduled job, so it never catches up itself."""
        with self._lock:
            doomed = [only.lower()] if only is not None else list(self._live) + list(self._deleted)
            for key in doomed:
                if key in self._live:
                    self._drop_live(key)
                if key in self._deleted:
                    self._drop_deleted(key)
                    self._schedule.plan("purge", self.kind, key, None)
                self._forget(key)
            for document in documents:
                name = str(document["name"])
                versions = [version_from_dict(name, v) for v in document["versions"]]
                self._put_live(name.lower(), VersionedObject(name=name, versions={v.version: v for v in versions}))
                if document.get("policy"):
                    self._policies[name.lower()] = RotationPolicy.from_dict(document["policy"])
                self._changed(name.lower())

    def restore_backup(self, blob: bytes) -> Key:
        document = json.loads(self.sealer.open(self._backup_kind, blob))
        versions = [version_from_dict(document["name"], v) for v in document["versions"]]
        obj = self.restore(VersionedObject(name=document["name"], versions={v.version: v for v in versions}))
        if document.get("policy"):
            with self._lock:
                self._policies[obj.name.lower()] = RotationPolicy.from_dict(document["policy"])
                self.touched.add(obj.name.lower())
                self._changed(obj.name.lower())
        return obj.latest

    @property
    def _backup_kind(self) -> str:
        """Vault and Managed HSM backups are not interchangeable (an HSM key cannot live in a vault)."""
        return "hsmkey" if self.managed_hsm else "key"


_DEFAULT_POLICY = RotationPolicy.default()


def _public_exponent(material: KeyMaterial) -> int | None:
    public = material.public_key()
    return public.public_numbers().e if isinstance(public, rsa.RSAPublicKey) else None


def version_to_dict(version: Key) -> dict[str, Any]:
    payload = version.payload
    policy = payload.release_policy
    return {
        "version": version.version,
        "attributes": dataclasses.asdict(version.attributes),
        "tags": version.tags,
        "jwk": payload.material.private_jwk(),
        "key_ops": list(payload.key_ops),
        "exportable": payload.exportable,
        "release_policy": dataclasses.asdict(policy) if policy else None,
    }


def version_from_dict(name: str, data: dict[str, Any]) -> Key:
    policy = data.get("release_policy")
    return Version(
        name=name,
        version=data["version"],
        attributes=Attributes(**data["attributes"]),
        tags=dict(data["tags"]),
        payload=KeyValue(
            KeyMaterial.from_jwk(data["jwk"]),
            tuple(data["key_ops"]),
            bool(data["exportable"]),
            ReleasePolicy(**policy) if policy else None,
        ),
    )
