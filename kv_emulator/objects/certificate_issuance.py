"""Making certificate versions: the pending version and its operation, the issuer's answer, and the finished
version with its managed key and secret.

An issuer other than ``Unknown`` answers at once, after ``pending_polls`` polls, or -- for certificates created
over the wire -- when the vault's ``certificate_issuance_time`` has passed on the emulator's clock (the service
finishes a self-signed certificate within seconds, whether or not anyone polls). A timed issuance is a job on
the vault's schedule (phase ``issue``), so any request after that moment finds it done. An in-process client
that is told ``inProgress`` and then sleeps past that moment (the Python SDK's poller sleeps five seconds)
finds it done without the real wait: see :mod:`.awaiting`.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import threading
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from . import awaiting, key_material
from . import certificate_crypto as certs
from .certificate_issuers import ISSUER_PROVIDERS, IssuerRegistry
from .certificate_operations import IN_PROGRESS, CertificateOperation, CertificateValue
from .certificate_policy import CertificatePolicy
from .key_material import KeyMaterial
from .keys import KeyForbidden, KeyStore, KeyValue
from .rotation import add_duration
from .schedule import Schedule
from .secrets import SecretStore, SecretValue
from .versioned import Attributes, Version, VersionedObject, new_version_id

__all__ = ["BACKDATE_SECONDS", "IssuanceMixin"]

#: Issued certificates start ten minutes before they were requested, like the service's (recorded).
BACKDATE_SECONDS = 600


def _validity(policy: CertificatePolicy, at: int) -> tuple[int, int]:
    """(not before, expires) of a version issued at ``at``: the pending version shows what the certificate gets."""
    return at - BACKDATE_SECONDS, add_duration(at, f"P{policy.validity_months}M")


class IssuanceMixin:
    """The making of versions for a :class:`~.certificates.CertificateStore`."""

    if TYPE_CHECKING:  # provided by CertificateStore and VersionedStore
        kind: str
        keys: KeyStore
        secrets: SecretStore
        premium: bool
        pending_polls: int
        issuers: IssuerRegistry
        _lock: threading.RLock
        _schedule: Schedule
        _authority: Callable[[], certs.CertificateAuthority]
        _policies: dict[str, CertificatePolicy]
        _operations: dict[str, CertificateOperation]

        def _now(self) -> int: ...
        def _changed(self, key: str) -> None: ...
        def _touch(self, key: str) -> None: ...
        def _live_object(self, name: str) -> VersionedObject[CertificateValue]: ...
        def insert_version(self, name: str, version: Version[CertificateValue]) -> Version[CertificateValue]: ...
        def announce(self, version: Version[CertificateValue]) -> None: ...
        @staticmethod
        def _fail(operation: CertificateOperation, code: str, message: str) -> None: ...
        @staticmethod
        def _settle(operation: CertificateOperation) -> CertificateOperation: ...

    # -- timed issuance ----------------------------------------------------------------------------------

    def _issue_later(self, operation: CertificateOperation, due: int) -> None:
        """The issuer answers at ``due`` (emulator time): plan it on the vault's schedule."""
        operation.due = due
        self._schedule.plan("issue", self.kind, operation.name.lower(), due)
        self._note_wait(operation)

    def _issue_due(self, key: str, now: int) -> None:
        """Scheduled: the issuer's time has come; a cancellation asked for before it wins."""
        operation = self._operations.get(key)
        if operation is None or operation.status != IN_PROGRESS or operation.due is None:
            return
        if operation.cancellation_requested:
            self._settle(operation)
            return
        self._issue(operation, at=min(operation.due, now))

    def _note_wait(self, operation: CertificateOperation) -> None:
        """Tell an in-process client that was just answered ``inProgress`` when the operation will be done."""
        if operation.status == IN_PROGRESS and operation.due is not None and not operation.cancellation_requested:
            finish = functools.partial(self._finish_early, operation.name.lower(), operation.version)
            awaiting.expect(operation.due, finish)

    def _finish_early(self, key: str, version: str) -> None:
        """The client slept past the operation's end: issue it now rather than make the sleep real."""
        with self._lock:
            operation = self._operations.get(key)
            if operation is None or operation.version != version or operation.due is None:
                return
            if operation.status != IN_PROGRESS or operation.cancellation_requested:
                return
            self._schedule.plan("issue", self.kind, key, None)
            self._issue(operation, at=min(operation.due, self._now()))

    # -- making versions ----------------------------------------------------------------------------------

    def _new_key(self, name: str, policy: CertificatePolicy) -> KeyMaterial:
        kty = policy.kty or "RSA"
        if kty.endswith("-HSM") and not self.premium:
            raise KeyForbidden("Hardware key operation not allowed on standard vault")  # as for keys (recorded)
        existing = self.keys.peek(name) if policy.reuse_key else None
        if existing is not None:
            latest = existing.latest.payload.material
            wanted = (kty, policy.key_size if policy.family == "RSA" else None, policy.curve)
            if (latest.kty, latest.key_size, latest.curve) == wanted:
                return latest
        return key_material.generate_key(
            kty,
            size=policy.key_size if policy.family == "RSA" else None,
            curve=policy.curve,
            rsa_generator=self.keys.rsa_generator,
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
    ) -> Version[CertificateValue]:
        """Add the pending version and its operation (with a real CSR). The caller holds the lock."""
        material = self._new_key(name, policy)
        key = material.key
        assert not isinstance(key, bytes)  # certificate keys are RSA or EC
        csr = certs.build_csr(key, policy.subject_name(), policy.sans, policy.key_usage or [], policy.ekus or [])
        now = self._now() if at is None else at
        not_before, expires = _validity(policy, now)
        attributes = Attributes(False, now, now, not_before, expires)
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
        self._touch(operation.name.lower())  # completed or failed: either way the operation is stored again
        policy = self._policies[operation.name.lower()]
        if not policy.self_signed:
            issuer = self.issuers.get(operation.issuer_name) if operation.issuer_name in self.issuers else None
            if issuer is None:  # deleted since the create: the provider cannot be reached through it
                self._fail(operation, "CertificateIssuerNotFound", "Issuer not found")  # the 404's recorded text
                return
            if not issuer.enabled:
                # unverified code and text
                self._fail(operation, "IssuerDisabled", f"The issuer '{issuer.name}' is disabled.")
                return
            if issuer.provider.lower() not in ISSUER_PROVIDERS:
                # A provider Key Vault has no partnership with cannot be asked. Unverified code and text.
                self._fail(
                    operation,
                    "UnknownIssuerProvider",
                    f"The issuer '{issuer.name}' names the provider '{issuer.provider}', which Key Vault does not "
                    f"know; known providers: {', '.join(sorted(ISSUER_PROVIDERS))}.",
                )
                return
        csr = x509.load_der_x509_csr(operation.csr)
        key = operation.key.key
        assert not isinstance(key, bytes)
        not_before, not_after = _validity(policy, at)
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
        chain: list[x509.Certificate],
        *,
        at: int,
        enabled: bool | None = None,
        tags: dict[str, str] | None = None,
    ) -> Version[CertificateValue]:
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
        self._changed(operation.name.lower())
        self.announce(version)  # a certificate version is new once issued (its key and secret too, in _attach)
        return version

    def _attach(
        self,
        version: Version[CertificateValue],
        material: KeyMaterial,
        chain: list[x509.Certificate],
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
        self.keys.announce(
            self.keys.insert_version(
                name, Version(name, ident, attributes(), {}, KeyValue(material, tuple(policy.key_ops())), managed=True)
            )
        )
        self.secrets.announce(
            self.secrets.insert_version(
                name, Version(name, ident, attributes(), {}, SecretValue(value, content_type), managed=True)
            )
        )
