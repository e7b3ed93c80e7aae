"""Certificates: X.509 versions with one policy per name, the pending operation, and the key and secret behind them.

A certificate version is made by an operation: ``create`` starts one (a pending, disabled version and a real CSR),
and it completes when the issuer answers -- at once for ``Self`` and named issuers (after ``pending_polls``
polls, if set), or by ``merge`` for ``Unknown`` -- or when ``import`` brings a finished certificate. Completing
a version adds a managed key (the private key, usable through the keys API) and a managed secret (the PFX or
PEM with the private key) of the same name and version; they are deleted, recovered and purged with the
certificate. ``AutoRenew`` and ``EmailContacts`` lifetime actions run as the emulator's clock passes their
trigger, evaluated lazily on the next access, like key rotation.

Direct access: ``vault.certificates.create("web")`` (self-signed, ``CN=web``),
``vault.certificates.import_certificate("web", pfx_bytes, password=None)``, ``.ca_certificate``.
"""

from __future__ import annotations

import base64
import builtins
import dataclasses
import uuid
from collections.abc import Callable
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding

from ..errors import (
    BadParameter,
    NameInUse,
    ObjectIsDeletedButRecoverable,
    PendingOperationConflict,
)
from . import crypto
from . import x509 as certs
from .backup import BackupSealer
from .certificate_backup import certificate_document, restore_certificate_document
from .certificate_issuers import CertificateContacts, IssuerRegistry
from .certificate_operations import CertificateOperation, CertificateValue, OperationsMixin
from .certificate_policy import CertificatePolicy
from .crypto import KeyMaterial
from .keypool import shared_pool
from .keys import KeyForbidden, KeyStore, KeyValue
from .rotation import add_duration
from .secrets import SecretStore, SecretValue
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

__all__ = ["Certificate", "CertificateOperation", "CertificateStore", "CertificateValue"]

#: Issued certificates start ten minutes before they were requested, like the service's (recorded).
BACKDATE_SECONDS = 600
MAX_RENEWALS_PER_LOOKUP = 1000


Certificate = Version[CertificateValue]
"""One certificate version: ``.payload.cer`` (DER), ``.payload.x509``, ``.attributes``, ``.tags``."""


def _object_name_check(store: VersionedStore[Any], name: str, kind: str) -> None:
    """A plain (unmanaged) key or secret of this name, live or deleted, keeps a certificate from using it."""
    live = store._live.get(name.lower())
    deleted = store._deleted.get(name.lower())
    target = live or (deleted.obj if deleted else None)
    if target is not None and not target.managed:
        raise NameInUse(name, kind)


class CertificateStore(OperationsMixin, VersionedStore[CertificateValue]):
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
        **kwargs: Any,
    ) -> None:
        super().__init__("certificate", **kwargs)
        self.keys = keys
        self.secrets = secrets
        self.sealer = sealer
        self.premium = premium
        self.pending_polls = pending_polls
        """How many GETs of an operation answer ``inProgress`` before a ``Self`` or issuer-signed one completes."""
        self._authority = authority
        self._policies: dict[str, CertificatePolicy] = {}
        self._operations: dict[str, CertificateOperation] = {}
        self._evaluating = False
        self.issuers = IssuerRegistry(clock=self.clock, lock=self._lock)
        self.contacts = CertificateContacts(lock=self._lock)
        self._notifications: list[dict[str, Any]] = []
        for store in (self, keys, secrets):
            store.before_read = self._apply_lifetime_actions

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
            return _current(self._live_object(name))

    def list_certificates(self, *, include_pending: bool = False) -> builtins.list[Certificate]:
        """The current version of every certificate, by name; those still pending only with ``include_pending``."""
        with self._lock:
            current = [_current(obj) for obj in self.list()]
            return [c for c in current if include_pending or not c.payload.pending]

    def list_deleted_certificates(self, *, include_pending: bool = False) -> builtins.list[DeletedObject[Any]]:
        with self._lock:
            return [d for d in self.list_deleted() if include_pending or not _current(d.obj).payload.pending]

    def policy_of(self, name: str) -> CertificatePolicy | None:
        """The stored policy of a name, live or deleted, without lookups (for rendering what was just changed)."""
        return self._policies.get(name.lower())

    @staticmethod
    def current_of(obj: VersionedObject[CertificateValue]) -> Certificate:
        """The version a certificate answers with: the latest completed one, else the pending one."""
        return _current(obj)

    def get_policy(self, name: str) -> CertificatePolicy:
        with self._lock:
            self._live_object(name)
            return self._policies[name.lower()]

    def previous_version(self, name: str, version: str) -> str | None:
        """The completed version before ``version`` (``previousVersion`` of the secret), if any."""
        with self._lock:
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
            self._purge_expired()
            return list(self._notifications)

    # -- making ------------------------------------------------------------------------------------------

    def create(
        self,
        name: str,
        policy: CertificatePolicy | dict[str, Any] | None = None,
        *,
        enabled: bool = True,
        tags: dict[str, str] | None = None,
        preserve_order: bool | None = None,
    ) -> CertificateOperation:
        """CreateCertificate: a new version from the policy given (or the current one; else self-signed ``CN=name``).

        Returns the operation as the 202 shows it. ``Self`` and issuer-signed certificates complete at once unless
        ``pending_polls`` is set; ``Unknown`` ones wait for :meth:`merge`.
        """
        validate_name(self.kind, name)
        validate_tags(dict(tags or {}))
        with self._lock:
            self._purge_expired()
            self._check_name_free(name)
            current = self._policies.get(name.lower()) if name.lower() in self._live else None
            default = {"issuer": {"name": "Self"}, "x509_props": {"subject": f"CN={name}"}}
            resolved = self._resolve_policy(policy if policy is not None else current or default, current)
            version = self._start(name, resolved, enabled=enabled, tags=tags, preserve_order=preserve_order)
            self._policies[name.lower()] = resolved
            operation = self._operations[name.lower()]
            snapshot = dataclasses.replace(operation)
            if operation.polls_left == 0 and not resolved.unknown_issuer:
                self._issue(operation, at=version.attributes.created)
            return snapshot

    def _resolve_policy(
        self, policy: CertificatePolicy | dict[str, Any], current: CertificatePolicy | None
    ) -> CertificatePolicy:
        resolved = CertificatePolicy.from_wire(policy) if isinstance(policy, dict) else dataclasses.replace(policy)
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
        _object_name_check(self.keys, name, "key")
        _object_name_check(self.secrets, name, "secret")

    def _new_key(self, name: str, policy: CertificatePolicy) -> KeyMaterial:
        kty = policy.kty or "RSA"
        if kty.endswith("-HSM") and not self.premium:
            raise KeyForbidden("Hardware key operation not allowed on standard vault")  # as for keys (recorded)
        if policy.reuse_key and name.lower() in self.keys._live:
            latest = self.keys._live[name.lower()].latest.payload.material
            wanted = (kty, policy.key_size if policy.family == "RSA" else None, policy.curve)
            if (latest.kty, latest.key_size, latest.curve) == wanted:
                return latest
        pool = shared_pool()
        return crypto.generate_key(
            kty,
            size=policy.key_size if policy.family == "RSA" else None,
            curve=policy.curve,
            rsa_generator=pool.take if pool is not None else None,
        )

    def _start(
        self,
        name: str,
        policy: CertificatePolicy,
        *,
        enabled: bool,
        tags: dict[str, str] | None,
        preserve_order: bool | None,
        at: int | None = None,
    ) -> Certificate:
        """Add the pending version and its operation (with a real CSR). The caller holds the lock."""
        material = self._new_key(name, policy)
        key = material.key
        assert not isinstance(key, bytes)  # certificate keys are RSA or EC
        csr = certs.build_csr(key, policy.subject_name(), policy.sans, policy.key_usage or [], policy.ekus or [])
        now = self._now() if at is None else at
        expires = add_duration(now, f"P{policy.validity_months}M")
        attributes = Attributes(False, now, now, now - BACKDATE_SECONDS, expires)
        payload = CertificateValue(None, (), policy.content_type or certs.PKCS12, bool(preserve_order))
        version = Version(name, new_version_id(), attributes, dict(tags or {}), payload)
        self.insert_version(name, version)
        self._operations[name.lower()] = CertificateOperation(
            name=name,
            version=version.version,
            issuer_name=policy.issuer_name or "Unknown",
            certificate_type=policy.certificate_type,
            cert_transparency=policy.cert_transparency,
            csr=csr.public_bytes(Encoding.DER),
            request_id=uuid.uuid4().hex,
            polls_left=self.pending_polls if at is None else 0,
            preserve_order=preserve_order,
            key=material,
            enabled=enabled,
        )
        operation = self._operations[name.lower()]
        operation.status_details = operation.progress_details
        return version

    def _issue(self, operation: CertificateOperation, *, at: int) -> None:
        """The issuer answers: sign the operation's CSR (self-signed or by the test CA) and finish the version."""
        policy = self._policies[operation.name.lower()]
        csr = x509.load_der_x509_csr(operation.csr)
        key = operation.key.key
        assert not isinstance(key, bytes)
        not_before, not_after = at - BACKDATE_SECONDS, add_duration(at, f"P{policy.validity_months}M")
        if policy.self_signed:
            chain = [
                certs.issue(
                    csr,
                    issuer_key=key,
                    issuer_name=csr.subject,
                    issuer_ski=None,
                    not_before=not_before,
                    not_after=not_after,
                )
            ]
        else:
            chain = self._authority().sign(csr, not_before, not_after)
        self._finish(operation, chain, at=at)

    def _finish(
        self,
        operation: CertificateOperation,
        chain: builtins.list[x509.Certificate],
        *,
        at: int,
        enabled: bool | None = None,
        tags: dict[str, str] | None = None,
    ) -> Certificate:
        """Turn the pending version into a real one and add its managed key and secret."""
        obj = self._live_object(operation.name)
        version = obj.versions[operation.version]
        policy = self._policies[operation.name.lower()]
        key = operation.key.key
        assert not isinstance(key, bytes)
        ordered = certs.order_chain(key, chain, preserve=bool(operation.preserve_order))
        leaf = next(c for c in ordered if certs.public_key_der(c.public_key()) == certs.public_key_der(key))
        version.payload = CertificateValue(
            leaf.public_bytes(Encoding.DER),
            tuple(c.public_bytes(Encoding.DER) for c in ordered),
            policy.content_type or certs.PKCS12,
            bool(operation.preserve_order),
        )
        version.attributes.enabled = operation.enabled if enabled is None else enabled
        version.attributes.not_before = int(leaf.not_valid_before_utc.timestamp())
        version.attributes.expires = int(leaf.not_valid_after_utc.timestamp())
        version.attributes.updated = at
        if tags is not None:
            version.tags = dict(tags)
        self._attach(version, operation.key, ordered, policy)
        operation.status, operation.status_details = "completed", None
        return version

    def _attach(
        self,
        version: Certificate,
        material: KeyMaterial,
        chain: builtins.list[x509.Certificate],
        policy: CertificatePolicy,
    ) -> None:
        """The managed key and secret of a completed version: same name, version, and validity."""
        key = material.key
        assert not isinstance(key, bytes)
        exportable = bool(policy.exportable)
        content_type = version.payload.content_type
        if content_type == certs.PEM:
            value = certs.to_pem(key if exportable else None, chain)
        else:
            value = base64.b64encode(certs.to_pfx(key if exportable else None, chain)).decode()

        def attributes() -> Attributes:
            return dataclasses.replace(version.attributes)

        name, ident = version.name, version.version
        self.keys.insert_version(
            name, Version(name, ident, attributes(), {}, KeyValue(material, tuple(policy.key_ops())), managed=True)
        )
        self.secrets.insert_version(
            name, Version(name, ident, attributes(), {}, SecretValue(value, content_type), managed=True)
        )

    def import_certificate(
        self,
        name: str,
        data: bytes | str,
        *,
        password: str | None = None,
        policy: CertificatePolicy | dict[str, Any] | None = None,
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
        given = CertificatePolicy.from_wire(policy) if isinstance(policy, dict) else policy
        resolved = dataclasses.replace(given) if given is not None else CertificatePolicy()
        family = "RSA" if isinstance(key, rsa.RSAPrivateKey) else "EC"
        material = KeyMaterial(family if not (resolved.kty or "").endswith("-HSM") else f"{family}-HSM", key)
        resolved.describe(leaf, material.kty, material.key_size, material.curve)
        resolved.content_type = resolved.content_type or detected
        resolved.complete(for_import=True)
        if material.hsm and not self.premium:
            raise KeyForbidden("Hardware key operation not allowed on standard vault")
        with self._lock:
            self._purge_expired()
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
        self, name: str, version: str | None = None, *, enabled: bool | None = None, tags: dict[str, str] | None = None
    ) -> Certificate:
        """UpdateCertificate: ``enabled`` and tags (``nbf``/``exp`` are the X.509 validity); ``enabled`` is mirrored
        to the key and secret of the version."""

        def change(draft: Certificate) -> None:
            if enabled is not None:
                draft.attributes.enabled = enabled
            if tags is not None:
                draft.tags = dict(tags)

        with self._lock:
            updated = self.update(name, version, change=change)
            if enabled is not None and not updated.payload.pending:
                for store in (self.keys, self.secrets):
                    if updated.version in store._live.get(name.lower(), VersionedObject(name, {})).versions:
                        store.update(name, updated.version, change=_enable(enabled), by_certificate=True)
            return updated

    def update_policy(self, name: str, body: dict[str, Any] | CertificatePolicy) -> CertificatePolicy:
        """UpdateCertificatePolicy: change the fields given; the next version is made from the result."""
        with self._lock:
            current = self.get_policy(name)
            changed = CertificatePolicy.from_wire(body, base=current) if isinstance(body, dict) else body
            changed.complete(for_import=not changed.subject and not changed.sans)
            if not changed.self_signed and not changed.unknown_issuer and changed.issuer_name not in self.issuers:
                raise BadParameter(f"The issuer '{changed.issuer_name}' was not found in this key vault.")  # unverified
            changed.created, changed.updated = current.created, self._now()
            self._policies[name.lower()] = changed
            return changed

    # -- lifecycle: the key and secret go with the certificate ------------------------------------------------

    def delete(self, name: str, *, by_certificate: bool = False) -> DeletedObject[Any] | VersionedObject[Any]:
        with self._lock:
            outcome = super().delete(name)
            self._operations.pop(name.lower(), None)
            for store in (self.keys, self.secrets):
                if name.lower() in store._live and store._live[name.lower()].managed:
                    store.delete(name, by_certificate=True)
            return outcome  # the policy of a certificate deleted for good goes at the next lookup

    def recover(self, name: str, *, by_certificate: bool = False) -> VersionedObject[Any]:
        with self._lock:
            obj = super().recover(name)
            for store in (self.keys, self.secrets):
                if name.lower() in store._deleted and store._deleted[name.lower()].obj.managed:
                    store.recover(name, by_certificate=True)
            return obj

    def purge(self, name: str, *, by_certificate: bool = False) -> None:
        with self._lock:
            super().purge(name)
            self._policies.pop(name.lower(), None)
            for store in (self.keys, self.secrets):
                if name.lower() in store._deleted and store._deleted[name.lower()].obj.managed:
                    store.purge(name, by_certificate=True)

    def clear(self) -> None:
        with self._lock:
            super().clear()
            self._policies.clear()
            self._operations.clear()

    def _purge_expired(self) -> None:
        super()._purge_expired()
        for key in [k for k in self._policies if k not in self._live and k not in self._deleted]:
            del self._policies[key]

    # -- lifetime actions --------------------------------------------------------------------------------------

    def _apply_lifetime_actions(self) -> None:
        """Renew and e-mail as the clock has moved past the triggers: each fires once per version."""
        if self._evaluating:
            return
        self._evaluating = True
        try:
            now = self._now()
            for key, obj in list(self._live.items()):
                policy = self._policies.get(key)
                if policy is None or not policy.lifetime_actions:
                    continue
                for _ in range(MAX_RENEWALS_PER_LOOKUP):
                    if not self._fire_due_actions(obj, policy, now):
                        break
        finally:
            self._evaluating = False

    def _fire_due_actions(self, obj: VersionedObject[CertificateValue], policy: CertificatePolicy, now: int) -> bool:
        """Fire what is due for the current version; True when a renewal made a newer one."""
        latest = _current(obj)
        attrs = latest.attributes
        if latest.payload.pending or attrs.not_before is None or attrs.expires is None:
            return False
        for action in policy.lifetime_actions or []:
            due = action.due(attrs.not_before, attrs.expires)
            if due > now:
                continue
            if action.action == "EmailContacts":
                marker = {"name": obj.name, "version": latest.version, "time": due, "emails": self.contacts.emails}
                if not any(n["version"] == latest.version and n["time"] == due for n in self._notifications):
                    self._notifications.append(marker)
                continue
            operation = self._operations.get(obj.name.lower())
            if policy.unknown_issuer or (operation is not None and operation.status == "inProgress"):
                continue
            if not policy.self_signed and policy.issuer_name not in self.issuers:
                continue  # the issuer is gone: nothing can renew it
            version = self._start(
                obj.name, policy, enabled=attrs.enabled, tags=latest.tags, preserve_order=None, at=due
            )
            self._issue(self._operations[obj.name.lower()], at=version.attributes.created)
            return True
        return False

    # -- backup ------------------------------------------------------------------------------------------

    def backup(self, name: str) -> bytes:
        """The certificate with every version, its policy, and its key and secret, sealed for this emulator."""
        with self._lock:
            document = certificate_document(self, name)
        return self.sealer.seal("certificate", document)

    def restore_backup(self, blob: bytes) -> Certificate:
        document = self.sealer.open("certificate", blob)
        with self._lock:
            return _current(restore_certificate_document(self, document))


def _current(obj: VersionedObject[CertificateValue]) -> Certificate:
    for version in reversed(obj.versions.values()):
        if not version.payload.pending:
            return version
    return obj.latest


def _enable(enabled: bool) -> Callable[[Version[Any]], None]:
    def change(draft: Version[Any]) -> None:
        draft.attributes.enabled = enabled

    return change


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
