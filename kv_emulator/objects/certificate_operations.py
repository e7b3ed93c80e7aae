"""The certificate operation (``/certificates/{name}/pending``): its states, polls, cancellation and merge.

States as the service documents them: ``inProgress``, ``completed``, ``cancelled`` and ``failed``. A cancellation
is a request: the PATCH answers ``inProgress`` with ``cancellation_requested`` (as recorded from the service) and
the next read finds the operation ``cancelled``. An operation that is not in progress may be deleted, or
replaced by the next create or import.
"""

from __future__ import annotations

import base64
import dataclasses
import re
import threading
from typing import TYPE_CHECKING, Any

from cryptography import x509 as cx509

from ..errors import BadParameter, MergeForbidden, PendingCertificateNotFound
from . import certificate_crypto as certs
from .key_material import KeyMaterial
from .versioned import validate_tags

if TYPE_CHECKING:
    from .versioned import Version, VersionedObject

__all__ = ["IN_PROGRESS", "CertificateOperation", "CertificateValue", "OperationsMixin", "current_version"]

IN_PROGRESS = "inProgress"
FAILED = "failed"
# Recorded from the service (js SDK recordings, 2020-2021) and its docs ("Perform Merge").
_ISSUER_DETAILS = (
    "Pending certificate created. Certificate request is in progress. This may take some time based on the issuer "
    "provider. Please check again later."
)
_MERGE_DETAILS = "Pending certificate created. Please Perform Merge to complete the request."
_CANCELLED_DETAILS = "The certificate request was cancelled."  # unverified


@dataclasses.dataclass(frozen=True)
class CertificateValue:
    """The X.509 part of one certificate version: the leaf and the whole chain as DER, or nothing while pending."""

    cer: bytes | None
    certificates: tuple[bytes, ...] = ()
    content_type: str = certs.PKCS12
    preserve_order: bool = False

    @property
    def pending(self) -> bool:
        return self.cer is None

    @property
    def x509(self) -> cx509.Certificate:
        if self.cer is None:
            raise ValueError("a pending certificate version has no X.509 certificate yet")
        return cx509.load_der_x509_certificate(self.cer)

    @property
    def chain(self) -> list[cx509.Certificate]:
        """Every certificate of the version, in the order the secret holds them."""
        return [cx509.load_der_x509_certificate(der) for der in self.certificates]

    @property
    def thumbprint(self) -> str | None:
        return certs.thumbprint(self.cer) if self.cer is not None else None


def current_version(obj: VersionedObject[CertificateValue]) -> Version[CertificateValue]:
    """The version a certificate answers with: the latest completed one, else the pending one."""
    for version in reversed(obj.versions.values()):
        if not version.payload.pending:
            return version
    return obj.latest


@dataclasses.dataclass
class CertificateOperation:
    """One certificate operation: the version it makes, its CSR and key, and where it stands."""

    name: str
    version: str
    issuer_name: str
    csr: bytes
    request_id: str
    key: KeyMaterial
    certificate_type: str | None = None
    cert_transparency: bool | None = None
    status: str = IN_PROGRESS
    status_details: str | None = None
    cancellation_requested: bool = False
    error: dict[str, str] | None = None
    polls_left: int = 0
    due: int | None = None
    """When a timed issuance ends (emulator time): the vault's schedule issues it then, polled or not."""
    preserve_order: bool | None = None
    enabled: bool = True

    @property
    def unknown_issuer(self) -> bool:
        return self.issuer_name.lower() == "unknown"

    def to_state(self) -> dict[str, Any]:
        """Plain data (kv_emulator.state): the CSR as base64 DER, the key as its private JWK."""
        data = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        data.update(csr=base64.b64encode(self.csr).decode(), key=self.key.private_jwk())
        return data

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> CertificateOperation:
        known = {field.name for field in dataclasses.fields(cls)}
        values = {name: value for name, value in data.items() if name in known}
        values.update(csr=base64.b64decode(data["csr"]), key=KeyMaterial.from_jwk(data["key"]))
        return cls(**values)

    @property
    def progress_details(self) -> str:
        return _MERGE_DETAILS if self.unknown_issuer else _ISSUER_DETAILS

    @property
    def csr_request(self) -> cx509.CertificateSigningRequest:
        """The CSR as ``cryptography`` reads it: sign it with your own CA, then :meth:`merge` the result."""
        return cx509.load_der_x509_csr(self.csr)


class OperationsMixin:
    """GetCertificateOperation, UpdateCertificateOperation (cancel), DeleteCertificateOperation and merge."""

    if TYPE_CHECKING:  # provided by CertificateStore and VersionedStore
        _lock: threading.RLock
        _operations: dict[str, CertificateOperation]

        def _now(self) -> int: ...
        def _sync(self) -> None: ...
        def _touch(self, key: str) -> None: ...
        def _issue(self, operation: CertificateOperation, *, at: int) -> None: ...
        def _note_wait(self, operation: CertificateOperation) -> None: ...
        def _finish(
            self,
            operation: CertificateOperation,
            chain: list[cx509.Certificate],
            *,
            at: int,
            enabled: bool | None = None,
            tags: dict[str, str] | None = None,
        ) -> Version[Any]: ...

    def _operation(self, name: str) -> CertificateOperation:
        self._sync()
        operation = self._operations.get(name.lower())
        if operation is None:
            raise PendingCertificateNotFound(name)
        self._touch(name.lower())  # a read may settle it, a poll counts down: persist it
        return self._settle(operation)

    @staticmethod
    def _settle(operation: CertificateOperation) -> CertificateOperation:
        """A requested cancellation takes effect when the operation is next read."""
        if operation.cancellation_requested and operation.status == IN_PROGRESS:
            operation.status, operation.status_details = "cancelled", _CANCELLED_DETAILS
        return operation

    @staticmethod
    def _fail(operation: CertificateOperation, code: str, message: str) -> None:
        """The issuer refused: the operation ends ``failed`` with the service's ``error`` object; its pending
        version stays pending (no certificate) until the next create."""
        operation.status, operation.status_details = FAILED, message
        operation.error = {"code": code, "message": message}

    def list_operations(self) -> list[CertificateOperation]:
        """Every certificate operation the vault keeps (copies, as they stand; a read for the web view)."""
        with self._lock:
            self._sync()
            return [dataclasses.replace(op) for op in self._operations.values()]

    def get_operation(self, name: str) -> CertificateOperation:
        """The operation as it stands (a copy), without counting as a poll."""
        with self._lock:
            operation = self._operation(name)
            self._note_wait(operation)
            return dataclasses.replace(operation)

    def poll(self, name: str) -> CertificateOperation:
        """GetCertificateOperation: one poll. After ``pending_polls`` polls the issuer answers (a timed issuance
        ends on the clock instead, polled or not)."""
        with self._lock:
            operation = self._operation(name)
            self._note_wait(operation)
            if operation.status == IN_PROGRESS and not operation.unknown_issuer and operation.due is None:
                if operation.polls_left > 0:
                    operation.polls_left -= 1
                else:
                    self._issue(operation, at=self._now())
            return dataclasses.replace(operation)

    def cancel_operation(self, name: str) -> CertificateOperation:
        """UpdateCertificateOperation with ``cancellation_requested``: only while the operation is in progress."""
        with self._lock:
            operation = self._operation(name)
            if operation.status != IN_PROGRESS:
                # The docs say 400 for an operation not in progress; the text is unverified.
                raise BadParameter(
                    f"The certificate operation for {name} is {operation.status}; only an operation in progress can "
                    "be cancelled."
                )
            operation.cancellation_requested = True
            return dataclasses.replace(operation)

    def delete_operation(self, name: str) -> CertificateOperation:
        """DeleteCertificateOperation: forget the operation (a pending version stays, disabled, as on the service)."""
        with self._lock:
            operation = self._operation(name)
            del self._operations[name.lower()]
            return dataclasses.replace(operation)

    def merge(
        self,
        name: str,
        x5c: list[bytes],
        *,
        enabled: bool | None = None,
        tags: dict[str, str] | None = None,
    ) -> Version[Any]:
        """MergeCertificate: complete the operation with a certificate (and chain) signed for its CSR."""
        if tags is not None:
            validate_tags(dict(tags))
        with self._lock:
            operation = self._operation(name)
            if operation.status != IN_PROGRESS:  # completed, cancelled or failed: nothing waits for a merge
                # unverified text
                raise BadParameter(
                    f"The certificate operation for {name} is {operation.status}; there is nothing to merge."
                )
            if operation.status == IN_PROGRESS and not operation.unknown_issuer:
                raise MergeForbidden(operation.issuer_name)
            chain = _read_x5c(x5c)
            key = operation.key.key
            mine = certs.public_key_der(key)
            if not any(certs.public_key_der(c.public_key()) == mine for c in chain):
                # Recorded from the service (azure-powershell#24323) for a chain without the CSR's certificate.
                raise BadParameter("Unable to parse X5c certificate chain and locate leaf certificate")
            return self._finish(operation, chain, at=self._now(), enabled=enabled, tags=tags)


def _read_x5c(x5c: list[bytes]) -> list[cx509.Certificate]:
    chain: list[cx509.Certificate] = []
    try:
        for item in x5c:
            chain.extend(_read_x5c_item(item))
    except ValueError:
        chain = []
    if not chain:
        # Quoted by Microsoft support for an x5c the service cannot read (MicrosoftDocs/azure-docs#100959).
        raise BadParameter("Property x5c has invalid value X5C must has at least one valid item")
    return chain


def _read_x5c_item(item: bytes) -> list[cx509.Certificate]:
    """One x5c item as the service reads it: DER, PEM blocks, or the base64 text of the DER (a PEM body
    without its header lines: what the SDK sends when handed the PEM body's bytes), even with armour lines
    left on it (the JavaScript SDK's merge sample and test drop only the first line of the PEM file, leaving
    ``-----END CERTIFICATE-----``; the service accepts that, issue 19). ValueError if none."""
    if item.lstrip().startswith(b"-----BEGIN"):
        return cx509.load_pem_x509_certificates(item)
    try:
        return [cx509.load_der_x509_certificate(item)]
    except ValueError:
        bodies = [b"".join(part.split()) for part in _ARMOUR.split(item)]
        return [cx509.load_der_x509_certificate(base64.b64decode(body, validate=True)) for body in bodies if body]


_ARMOUR = re.compile(rb"-----(?:BEGIN|END) [A-Z0-9 ]+-----")
"""A PEM armour line, wherever it was left in an x5c item."""
