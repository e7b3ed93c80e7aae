"""A Managed HSM's security domain and its activation.

A new Managed HSM is provisioned but not activated: it answers nothing but its security domain operations
until the domain has been downloaded, encrypted to at least three of the caller's RSA certificates with a
quorum (Microsoft's "Security domain in Managed HSM", and the SDKs' READMEs: "minimum 3 and maximum 10"
certificates). The download answers at once with the file; the activation then takes
:data:`~.hsm_backup.JOB_SECONDS` of the emulator's clock (the SDK's live test reads ``InProgress`` right after
the download, 2025). An HSM made in recovery mode takes an uploaded domain instead: the caller decrypts the
shares with its private keys and re-wraps the content to the HSM's transfer key
(:mod:`.security_domain_format`).

HSMs the emulator creates on first use start activated (as if their domain had been downloaded), so a test
can use them at once; ``Emulator.managed_hsm(name, activated=False)`` (or :meth:`SecurityDomain.deactivate`)
makes one that must be activated first.
"""

from __future__ import annotations

import base64
import datetime
import functools
import hashlib
import json
import os
import threading
import uuid
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from ..clock import Clock
from ..errors import BadParameter, KeyVaultError
from . import awaiting
from . import security_domain_format as fmt

__all__ = ["HsmNotActivated", "SecurityDomain", "SecurityDomainConflict"]

ACTIVATION_SECONDS = 2
_TAG = "mhsm-security-domain"  # the EncData item's tag; the service's own tags are not recorded (unverified)


class HsmNotActivated(KeyVaultError):
    """An operation on a Managed HSM whose security domain was never downloaded (or uploaded). Unverified:
    the service's status, code and text for this are not recorded."""

    status = 403
    code = "Forbidden"

    def __init__(self, name: str) -> None:
        super().__init__(
            f"Operation not allowed: the Managed HSM '{name}' is not activated. Download its security domain "
            "(or upload one) to activate it."
        )


class SecurityDomainConflict(KeyVaultError):
    """A security domain upload to an HSM that is already activated. Unverified status, code and text."""

    status = 409
    code = "Conflict"


def _thumbprint(der: bytes) -> str:
    return fmt.b64url(hashlib.sha256(der).digest())


class SecurityDomain:
    """The security domain of one Managed HSM: its id and master secret, whether it is activated, the download
    and upload statuses, and the transfer key an upload is wrapped to."""

    def __init__(self, name: str, *, clock: Clock, lock: threading.RLock, activated: bool = True) -> None:
        self._name = name
        self._clock = clock
        self._lock = lock
        self.domain_id = uuid.uuid4().hex
        """Which security domain the HSM holds: a full backup restores only into an HSM that holds its domain."""
        self._secret = os.urandom(32)
        self._activated = activated
        self._activation_due: float | None = None
        self.download_status: str | None = None
        self.upload_status: str | None = None
        self.upload_details: str | None = None
        self._transfer: tuple[rsa.RSAPrivateKey, x509.Certificate] | None = None

    # -- activation --------------------------------------------------------------------------------

    @property
    def activated(self) -> bool:
        with self._lock:
            if not self._activated and self._activation_due is not None and self._clock.time() >= self._activation_due:
                self._activated = True
            return self._activated

    def deactivate(self) -> None:
        """Make the HSM a new, provisioned one: nothing but its security domain answers until it is activated."""
        with self._lock:
            self._activated = False
            self._activation_due = None
            self.download_status = self.upload_status = None

    def _activate_later(self) -> None:
        due = self._clock.time() + ACTIVATION_SECONDS
        self._activation_due = due
        awaiting.expect(due, functools.partial(self._finish_early, due))

    def _finish_early(self, due: float) -> None:
        """The client slept past the activation: activate now rather than make the sleep real."""
        with self._lock:
            if self._activation_due == due:
                self._activated = True

    def status(self, operation: str) -> tuple[str, str | None]:
        """(status, details) of the last download or upload, as its pending URL reports them."""
        started = self.download_status if operation == "download" else self.upload_status
        if started is None and self.activated:
            return "Success", None  # an HSM made activated: as if its domain had been downloaded
        if started is None:
            # unverified: what the service reports before any download or upload
            return "Failed", f"No security domain {operation} was started on this HSM."
        if started == "Failed":
            return "Failed", self.upload_details
        if not self.activated:
            self.note_pending()
            return "InProgress", None
        return "Success", None

    def note_pending(self) -> None:
        """Tell an in-process client just answered ``InProgress`` when the activation ends."""
        if self._activation_due is not None and not self._activated:
            awaiting.expect(self._activation_due, functools.partial(self._finish_early, self._activation_due))

    # -- download ----------------------------------------------------------------------------------

    def download(self, certificates: list[x509.Certificate], required: int) -> dict[str, Any]:
        """The security domain file, its master key's shares encrypted to ``certificates`` (quorum ``required``);
        a provisioned HSM starts activating."""
        master = os.urandom(32)
        content = json.dumps({"hsm": self._name, "domain": self.domain_id, "secret": fmt.b64url(self._secret)})
        shares = fmt.split(master, len(certificates), required)
        enc_shares = []
        for certificate, share in zip(certificates, shares, strict=True):
            public = certificate.public_key()
            assert isinstance(public, rsa.RSAPublicKey)  # checked by the handler
            thumbprint = _thumbprint(certificate.public_bytes(serialization.Encoding.DER))
            enc_shares.append({"enc_key": fmt.encrypt_to(public, share, thumbprint), "x5t_256": thumbprint})
        with self._lock:
            self.download_status = "started"
            if not self.activated and self._activation_due is None:
                self._activate_later()
            else:
                self.note_pending()
        return {
            "EncData": {
                "data": [
                    {"compact_jwe": fmt.encrypt_direct(fmt.derive(master, _TAG), content.encode(), _TAG), "tag": _TAG}
                ],
                "kdf": "sp108_kdf",
            },
            "SharedKeys": {"enc_shares": enc_shares, "required": required},
            "version": "1.0",  # unverified: the service's file carries more fields than the CLI reads
        }

    # -- upload ------------------------------------------------------------------------------------

    def transfer_key(self) -> dict[str, Any]:
        """The exchange key an upload is wrapped to: an RSA key as a JWK with its certificate (``x5c``)."""
        private, certificate = self._transfer_pair()
        numbers = private.public_key().public_numbers()
        der = certificate.public_bytes(serialization.Encoding.DER)

        def number(value: int) -> str:
            return fmt.b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))

        return {
            "kty": "RSA",
            "key_ops": ["wrapKey", "encrypt"],
            "n": number(numbers.n),
            "e": number(numbers.e),
            "x5c": [base64.b64encode(der).decode("ascii")],
            "alg": "RSA-OAEP-256",
            "kid": f"https://{self._name}.managedhsm.azure.net/securitydomain/transferkey",  # unverified
            "x5t": fmt.b64url(hashlib.sha1(der).digest()),
            "x5t#S256": _thumbprint(der),
        }

    def _transfer_pair(self) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
        with self._lock:
            if self._transfer is None:
                key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
                name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{self._name} security domain exchange")])
                now = datetime.datetime.fromtimestamp(self._clock.time(), datetime.timezone.utc)
                certificate = (
                    x509.CertificateBuilder()
                    .subject_name(name)
                    .issuer_name(name)
                    .public_key(key.public_key())
                    .serial_number(x509.random_serial_number())
                    .not_valid_before(now - datetime.timedelta(minutes=10))
                    .not_valid_after(now + datetime.timedelta(days=365))
                    .sign(key, hashes.SHA256())
                )
                self._transfer = (key, certificate)
            return self._transfer

    def upload(self, value: str) -> None:
        """Take the security domain of a restore blob (``EncData`` re-wrapped to the transfer key); the HSM
        starts activating with it, and a full backup made under that domain restores into it."""
        with self._lock:
            if self.activated:
                raise SecurityDomainConflict(  # unverified text
                    f"The Managed HSM '{self._name}' is already activated; a security domain can only be uploaded "
                    "to an HSM in recovery mode."
                )
        private, certificate = self._transfer_pair()
        try:
            content = self._open_blob(value, private, certificate)
        except (fmt.FormatError, KeyError, TypeError, ValueError) as exc:
            raise BadParameter(f"The security domain is invalid: {exc}.") from None  # unverified text
        with self._lock:
            self.domain_id, self._secret = content
            self.upload_status, self.upload_details = "started", None
            self._activate_later()

    @staticmethod
    def _open_blob(value: str, private: rsa.RSAPrivateKey, certificate: x509.Certificate) -> tuple[str, bytes]:
        blob = json.loads(value)
        wrapped = blob["WrappedKey"]
        if wrapped.get("x5t_256") != _thumbprint(certificate.public_bytes(serialization.Encoding.DER)):
            raise fmt.FormatError("it is not wrapped to this HSM's transfer key")
        master = fmt.decrypt(wrapped["enc_key"], private)
        for item in blob["EncData"]["data"]:
            document = json.loads(fmt.decrypt(item["compact_jwe"], fmt.derive(master, item["tag"])))
            if isinstance(document, dict) and "domain" in document and "secret" in document:
                return str(document["domain"]), fmt.b64url_decode(str(document["secret"]))
        raise fmt.FormatError("it holds no security domain")

    # -- state -------------------------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """Plain JSON-able data (the transfer key is made again after a restart)."""
        with self._lock:
            return {
                "domain_id": self.domain_id,
                "secret": fmt.b64url(self._secret),
                "activated": self.activated,
                "activation_due": self._activation_due,
                "download_status": self.download_status,
                "upload_status": self.upload_status,
            }

    def from_state(self, data: dict[str, Any]) -> None:
        with self._lock:
            self.domain_id = str(data["domain_id"])
            self._secret = fmt.b64url_decode(str(data["secret"]))
            self._activated = bool(data["activated"])
            self._activation_due = data.get("activation_due")
            self.download_status = data.get("download_status")
            self.upload_status = data.get("upload_status")
