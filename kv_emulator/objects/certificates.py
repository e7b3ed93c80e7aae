"""Certificates: X.509 versions with one policy per name, the pending operation, and the key and secret behind them.

A certificate version is made by an operation: ``create`` starts one (a pending, disabled version and a real CSR),
and it completes when the issuer answers -- at once for ``Self`` and named issuers (after ``pending_polls``
polls, if set), or by ``merge`` for ``Unknown`` -- or when ``import`` brings a finished certificate. Completing
a version adds a managed key (the private key, usable through the keys API) and a managed secret (the PFX or
PEM with the private key) of the same name and version; they are deleted, recovered and purged with the
certificate. ``AutoRenew`` and ``EmailContacts`` lifetime actions run as the emulator's clock passes their
trigger: a completed version plans them on the vault's schedule, which runs them on the next access.

Direct access: ``vault.certificates.create("web")`` (self-signed, ``CN=web``),
``vault.certificates.import_certificate("web", pfx_bytes, password=None)``, ``.ca_certificate``.
"""

from __future__ import annotations

import base64
import builtins
import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from ..errors import (
    BadParameter,
    NameInUse,
    ObjectAlreadyExists,
    ObjectIsDeletedButRecoverable,
    PendingOperationConflict,
)
from . import certificate_crypto as certs
from .backup import BackupSealer, check_backup_size
from .certificate_backup import CertificateDocument, read_certificate_document, write_certificate_document
from .certificate_issuance import BACKDATE_SECONDS, IssuanceMixin
from .certificate_issuers import CertificateContacts, IssuerRegistry
from .certificate_lifetime import LifetimeActionsMixin
from .certificate_operations import CertificateOperation, CertificateValue, OperationsMixin, current_version
from .certificate_policy import CertificatePolicy
from .key_material import KeyMaterial
from .keys import KeyForbidden, KeyStore
from .secrets import SecretStore
from .versioned import (
    Attributes,
    DeletedObject,
    Version,
    VersionedObject,
    VersionedStore,
    new_version_id,
    validate_name,
    validate_tags,
)
from .versioned_state import plain

PolicyReader = Callable[[Mapping[str, Any], "CertificatePolicy | None"], CertificatePolicy]
"""Reads a policy given in its wire form (a dict) for direct access; the handlers' parser, handed in."""

__all__ = ["BACKDATE_SECONDS", "Certificate", "CertificateOperation", "CertificateStore", "CertificateValue"]


Certificate = Version[CertificateValue]
"""One certificate version: ``.payload.cer`` (DER), ``.payload.x509``, ``.attributes``, ``.tags``."""


class CertificateStore(OperationsMixin, IssuanceMixin, LifetimeActionsMixin, VersionedStore[CertificateValue]):
    """The certificates of one vault, with their policies, operations, issuers and contacts."""

    def __init__(
        self,
        *,
        keys: KeyStore,
        secrets: SecretStore,
        sealer: BackupSealer,
        authority: Callable[[], certs.CertificateAuthority],
        premium: bool = True,
        pending_polls: int = 0,
        issuance_time: int = 0,
        read_policy: PolicyReader | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__("certificate", **kwargs)
        self.keys = keys
        self.secrets = secrets
        self.sealer = sealer
        self.premium = premium
        self.pending_polls = pending_polls
        """How many GETs of an operation answer ``inProgress`` before a ``Self`` or issuer-signed one completes."""
        self.issuance_time = issuance_time
        """Seconds of emulator time a ``Self`` or issuer-signed certificate created over the wire takes to issue."""
        self._authority = authority
        self._read_policy = read_policy
        self._policies: dict[str, CertificatePolicy] = {}
        self._operations: dict[str, CertificateOperation] = {}
        self.issuers = IssuerRegistry(clock=self.clock, lock=self._lock)
        self.contacts = CertificateContacts(lock=self._lock)
        self._notifications: list[dict[str, Any]] = []
        self._emailed: set[tuple[str, int]] = set()  # (version, time) of the notifications above
        self._schedule.register("issue", self.kind, self._issue_due)
        self._schedule.register("renew", self.kind, self._renew_due)

    @property
    def certificate_authority(self) -> certs.CertificateAuthority:
        """The test CA that signs certificates for named issuers."""
        return self._authority()

    @property
    def ca_certificate(self) -> x509.Certificate:
        """The root certificate that chains of named issuers lead to: trust it in tests."""
        return self._authority().certificate

    # -- reading -------------------------------------------------------------------------------------------

    def get(self, name: str, version: str | None = None) -> Certificate:
        """A version, or the latest completed one (a pending version while there is no other)."""
        with self._lock:
            if version:
                return super().get(name, version)
            self._sync()
            return current_version(self._live_object(name))

    def list_certificates(self, *, include_pending: bool = False) -> builtins.list[Certificate]:
        """The current version of every certificate, by name; those still pending only with ``include_pending``."""
        with self._lock:
            current = [current_version(obj) for obj in self.list()]
            return [c for c in current if include_pending or not c.payload.pending]

    def list_deleted_certificates(self, *, include_pending: bool = False) -> builtins.list[DeletedObject[Any]]:
        with self._lock:
            return [d for d in self.list_deleted() if include_pending or not current_version(d.obj).payload.pending]

    def list_certificates_page(
        self, start: str | None, count: int, *, include_pending: bool = False
    ) -> tuple[builtins.list[Certificate], str | None]:
        """A page of :meth:`list_certificates` from the first lowercased name at or after ``start`` (see
        :meth:`list_page`)."""

        def accept(obj: VersionedObject[CertificateValue]) -> bool:
            return include_pending or not current_version(obj).payload.pending

        with self._lock:
            self._sync()
            objects, following = self._page(self._live_order, self._live, start, count, accept)
            return [current_version(obj) for obj in objects], following

    def list_deleted_certificates_page(
        self, start: str | None, count: int, *, include_pending: bool = False
    ) -> tuple[builtins.list[DeletedObject[CertificateValue]], str | None]:
        """A page of :meth:`list_deleted_certificates` (see :meth:`list_page`)."""

        def accept(deleted: DeletedObject[CertificateValue]) -> bool:
            return include_pending or not current_version(deleted.obj).payload.pending

        with self._lock:
            self._sync()
            return self._page(self._deleted_order, self._deleted, start, count, accept)

    def policy_of(self, name: str) -> CertificatePolicy | None:
        """The stored policy of a name, live or deleted, without lookups (for rendering what was just changed)."""
        return self._policies.get(name.lower())

    @staticmethod
    def current_of(obj: VersionedObject[CertificateValue]) -> Certificate:
        """The version a certificate answers with: the latest completed one, else the pending one."""
        return current_version(obj)

    def get_policy(self, name: str) -> CertificatePolicy:
        with self._lock:
            self._sync()
            self._live_object(name)
            return self._policies[name.lower()]

    def previous_version(self, name: str, version: str) -> str | None:
        """The completed version before ``version`` (``previousVersion`` of the secret), if any."""
        with self._lock:
            self._sync()
            obj = self._live.get(name.lower())
            if obj is None:
                return None
            previous = None
            for candidate in obj.versions.values():
                if candidate.version == version:
                    return previous
                if not candidate.payload.pending:
                    previous = candidate.version
            return None

    @property
    def notifications(self) -> list[dict[str, Any]]:
        """``EmailContacts`` lifetime actions that fired by now: ``{"name", "version", "time", "emails"}``."""
        with self._lock:
            self._sync()
            return list(self._notifications)

    # -- making ------------------------------------------------------------------------------------------

    def create(
        self,
        name: str,
        policy: CertificatePolicy | Mapping[str, Any] | None = None,
        *,
        enabled: bool = True,
        tags: dict[str, str] | None = None,
        preserve_order: bool | None = None,
        issuance_time: int = 0,
    ) -> CertificateOperation:
        """CreateCertificate: a new version from the policy given (or the current one; else self-signed ``CN=name``).

        Returns the operation as the 202 shows it. ``Self`` and issuer-signed certificates complete at once, or
        ``issuance_time`` seconds of emulator time later (CreateCertificate over the wire passes the vault's
        ``certificate_issuance_time``), or after ``pending_polls`` polls when that is set; ``Unknown`` ones wait
        for :meth:`merge`. A policy given as a dict is in its wire form (``key_props``, ``x509_props``, ...).
        """
        if issuance_time < 0:
            raise ValueError("issuance_time must not be negative")
        validate_name(self.kind, name)
        validate_tags(dict(tags or {}))
        given = self._typed_policy(policy)
        with self._lock:
            self._sync()
            self._check_name_free(name)
            current = self._policies.get(name.lower()) if name.lower() in self._live else None
            default = CertificatePolicy(issuer_name="Self", subject=f"CN={name}")
            resolved = self._resolve_policy(given if given is not None else current or default, current)
            version = self._start(name, resolved, enabled=enabled, tags=tags, preserve_order=preserve_order)
            self._policies[name.lower()] = resolved
            operation = self._operations[name.lower()]
            snapshot = dataclasses.replace(operation)
            if operation.polls_left == 0 and not resolved.unknown_issuer:
                if issuance_time > 0:
                    self._issue_later(operation, version.attributes.created + issuance_time)
                    snapshot = dataclasses.replace(operation)
                else:
                    self._issue(operation, at=version.attributes.created)
            return snapshot

    def _typed_policy(
        self, policy: CertificatePolicy | Mapping[str, Any] | None, base: CertificatePolicy | None = None
    ) -> CertificatePolicy | None:
        """A policy given in its wire form, read by the handlers' parser this store was given."""
        if policy is None or isinstance(policy, CertificatePolicy):
            return policy
        if self._read_policy is None:
            raise TypeError("this certificate store reads no wire-form policies: pass a CertificatePolicy")
        return self._read_policy(policy, base)

    def _resolve_policy(self, policy: CertificatePolicy, current: CertificatePolicy | None) -> CertificatePolicy:
        resolved = dataclasses.replace(policy)
        resolved.complete()
        if not resolved.self_signed and not resolved.unknown_issuer and resolved.issuer_name not in self.issuers:
            # unverified text
            raise BadParameter(f"The issuer '{resolved.issuer_name}' was not found in this key vault.")
        now = self._now()
        resolved.created = current.created if current else now
        resolved.updated = now
        return resolved

    def _check_name_free(self, name: str) -> None:
        if name.lower() in self._deleted:
            raise ObjectIsDeletedButRecoverable(self.kind, name)
        operation = self._operations.get(name.lower())
        if operation is not None and self._settle(operation).status == "inProgress":
            raise PendingOperationConflict()
        for store, kind in ((self.keys, "key"), (self.secrets, "secret")):
            if store.holds_unmanaged(name):  # a plain key or secret of this name keeps a certificate from using it
                raise NameInUse(name, kind)

    def import_certificate(
        self,
        name: str,
        data: bytes | str,
        *,
        password: str | None = None,
        policy: CertificatePolicy | Mapping[str, Any] | None = None,
        enabled: bool = True,
        tags: dict[str, str] | None = None,
        preserve_order: bool | None = None,
    ) -> Certificate:
        """ImportCertificate: a PFX (bytes) or PEM (text or bytes) with its private key, as a new version."""
        validate_name(self.kind, name)
        validate_tags(dict(tags or {}))
        key, chain, detected = _read_certificate_content(data, password)
        ordered = certs.order_chain(key, chain, preserve=bool(preserve_order))
        leaf = next(c for c in ordered if certs.public_key_der(c.public_key()) == certs.public_key_der(key))
        given = self._typed_policy(policy)
        resolved = dataclasses.replace(given) if given is not None else CertificatePolicy()
        family = "RSA" if isinstance(key, rsa.RSAPrivateKey) else "EC"
        material = KeyMaterial(family if not (resolved.kty or "").endswith("-HSM") else f"{family}-HSM", key)
        resolved.describe(leaf, material.kty, material.key_size, material.curve)
        resolved.content_type = resolved.content_type or detected
        resolved.complete(for_import=True)
        if material.hsm and not self.premium:
            raise KeyForbidden("Hardware key operation not allowed on standard vault")
        with self._lock:
            self._sync()
            self._check_name_free(name)
            current = self._policies.get(name.lower()) if name.lower() in self._live else None
            now = self._now()
            resolved.created, resolved.updated = (current.created if current else now), now
            self._policies[name.lower()] = resolved
            attributes = Attributes(enabled, now, now, None, None)
            payload = CertificateValue(None, (), resolved.content_type or certs.PKCS12, bool(preserve_order))
            version = Version(name, new_version_id(), attributes, dict(tags or {}), payload)
            self.insert_version(name, version)
            self._operations.pop(name.lower(), None)  # an import overwrites a finished operation
            operation = CertificateOperation(
                name,
                version.version,
                resolved.issuer_name or "Unknown",
                b"",
                "",
                material,
                enabled=enabled,
                preserve_order=preserve_order,
            )
            self._finish(operation, ordered, at=now)
            return version

    def update_properties(
        self,
        name: str,
        version: str | None = None,
        *,
        enabled: bool | None = None,
        tags: dict[str, str] | None = None,
        **validity: int | None,
    ) -> Certificate:
        """UpdateCertificate: ``enabled``, tags and, when given, ``not_before`` / ``expires`` (None clears
        them), as the service honours them; the attributes are mirrored to the key and secret of the version."""
        unknown = set(validity) - {"not_before", "expires"}
        if unknown:
            raise TypeError(f"unknown attributes: {', '.join(sorted(unknown))}")
        attributes: dict[str, Any] = dict(validity)
        if enabled is not None:
            attributes["enabled"] = enabled

        def change(draft: Certificate) -> None:
            for field, value in attributes.items():
                setattr(draft.attributes, field, value)
            if tags is not None:
                draft.tags = dict(tags)

        with self._lock:
            updated = self.update(name, version, change=change)
            if attributes and not updated.payload.pending:
                self.keys.set_managed_attributes(name, updated.version, attributes)
                self.secrets.set_managed_attributes(name, updated.version, attributes)
            return updated

    def update_policy(self, name: str, policy: CertificatePolicy | Mapping[str, Any]) -> CertificatePolicy:
        """UpdateCertificatePolicy: the new policy (a dict in the wire form changes only the fields it gives); the
        next version is made from the result."""
        with self._lock:
            current = self.get_policy(name)
            changed = self._typed_policy(policy, current)
            assert changed is not None
            changed = dataclasses.replace(changed)
            changed.complete(for_import=not changed.subject and not changed.sans)
            if not changed.self_signed and not changed.unknown_issuer and changed.issuer_name not in self.issuers:
                raise BadParameter(f"The issuer '{changed.issuer_name}' was not found in this key vault.")  # unverified
            changed.created, changed.updated = current.created, self._now()
            self._policies[name.lower()] = changed
            self._changed(name.lower())
            return changed

    # -- lifecycle: the key and secret go with the certificate ------------------------------------------------

    def delete(self, name: str) -> DeletedObject[Any] | VersionedObject[Any]:
        with self._lock:
            outcome = super().delete(name)
            self._operations.pop(name.lower(), None)
            self.keys.delete_managed(name)
            self.secrets.delete_managed(name)
            return outcome  # the policy of a certificate deleted for good goes at the next catch-up

    def recover(self, name: str) -> VersionedObject[Any]:
        with self._lock:
            obj = super().recover(name)
            self.keys.recover_managed(name)
            self.secrets.recover_managed(name)
            return obj

    def purge(self, name: str) -> None:
        with self._lock:
            super().purge(name)
            self.keys.purge_managed(name)
            self.secrets.purge_managed(name)

    def clear(self) -> None:
        with self._lock:
            super().clear()
            self._operations.clear()

    def _forget(self, key: str) -> None:
        self._policies.pop(key, None)
        self.touched.add(key)

    def _changed(self, key: str) -> None:
        self.touched.add(key)  # a policy or an operation changed with it
        super()._changed(key)

    # -- state (kv_emulator.state) ---------------------------------------------------------------------------

    def _payload_to_state(self, payload: CertificateValue) -> dict[str, Any]:
        return {
            "cer": base64.b64encode(payload.cer).decode() if payload.cer is not None else None,
            "certificates": [base64.b64encode(der).decode() for der in payload.certificates],
            "content_type": payload.content_type,
            "preserve_order": payload.preserve_order,
        }

    def _payload_from_state(self, data: Mapping[str, Any]) -> CertificateValue:
        cer = data.get("cer")
        return CertificateValue(
            base64.b64decode(cer) if cer is not None else None,
            tuple(base64.b64decode(der) for der in data.get("certificates", ())),
            data.get("content_type") or certs.PKCS12,
            bool(data.get("preserve_order", False)),
        )

    def _name_state(self, key: str) -> dict[str, Any]:
        policy, operation = self._policies.get(key), self._operations.get(key)
        data: dict[str, Any] = {}
        if policy is not None:
            data["policy"] = plain(policy.to_dict())
        if operation is not None:
            data["operation"] = operation.to_state()
        return data

    def _load_name_state(self, key: str, data: Mapping[str, Any]) -> None:
        if data.get("policy") is not None:
            self._policies[key] = CertificatePolicy.from_dict(data["policy"])
        if data.get("operation") is not None:
            operation = self._operations[key] = CertificateOperation.from_state(data["operation"])
            if operation.due is not None and operation.status == "inProgress":
                self._schedule.plan("issue", self.kind, key, operation.due)

    def store_state(self) -> dict[str, Any]:
        return {
            "issuers": self.issuers.to_state(),
            "contacts": self.contacts.to_state(),
            "notifications": [dict(n) for n in self._notifications],
            "emailed": sorted([version, at] for version, at in self._emailed),
        }

    def load_store_state(self, data: Mapping[str, Any]) -> None:
        self.issuers.from_state(data.get("issuers", ()))
        self.contacts.from_state(data.get("contacts"))
        self._notifications = [dict(n) for n in data.get("notifications", ())]
        self._emailed = {(str(version), int(at)) for version, at in data.get("emailed", ())}

    # -- backup ------------------------------------------------------------------------------------------

    def backup(self, name: str) -> bytes:
        """The certificate with every version, its policy, and its key and secret, sealed for this emulator."""
        with self._lock:
            obj = self.get_object(name)
            check_backup_size("certificate", obj.name, len(obj.versions))
            policy = self._policies[name.lower()]
            document = write_certificate_document(obj, policy, self.keys.peek(name), self.secrets.peek(name))
        return self.sealer.seal("certificate", document)

    def restore_backup(self, blob: bytes) -> Certificate:
        """Put a certificate back with its key and secret; refused if any of the three names is taken."""
        document: CertificateDocument = read_certificate_document(self.sealer.open("certificate", blob))
        name = document.name
        with self._lock:
            self._sync()
            for other in (self.keys, self.secrets):
                if other.peek_deleted(name) is not None:
                    raise ObjectIsDeletedButRecoverable(self.kind, name)
                if other.peek(name) is not None:
                    raise ObjectAlreadyExists(self.kind, name, document.certificate.latest.version)
            obj = self.restore(document.certificate)
            self._policies[name.lower()] = document.policy
            self.keys.restore_managed(obj.name, document.keys)
            self.secrets.restore_managed(obj.name, document.secrets)
            self._changed(name.lower())
            return current_version(obj)


def _read_certificate_content(
    data: bytes | str, password: str | None
) -> tuple[certs.PrivateKey, builtins.list[x509.Certificate], str]:
    """The key and certificates of an import, and the format they came in (PEM text, or PFX bytes)."""
    raw = data.encode() if isinstance(data, str) else data
    if b"-----BEGIN" in raw:
        key, chain = certs.load_pem_bundle(raw.decode(errors="replace"), password)
        return key, chain, certs.PEM
    key, chain = certs.load_pfx(raw, password)
    return key, chain, certs.PKCS12
