"""Certificate policies: how a certificate's key, secret and X.509 parts are made, and its lifetime actions.

One policy per certificate name, shared by all its versions (it is the recipe for the next version). The
handlers read and write its wire form (:mod:`kv_emulator.api.certificate_policy_wire`); here are the typed
policy, its rules and defaults. Defaults are the ones real service answers show (RSA 2048, exportable,
PKCS#12, server+client auth, digitalSignature+keyEncipherment, 12 months, renew or e-mail at 80% of the
lifetime). Rule texts are ours and unverified unless a comment says so.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from typing import Any

from cryptography import x509

from ..errors import BadParameter
from .certificate_crypto import DEFAULT_EKUS, KEY_USAGES, PEM, PKCS12, Sans, parse_subject, render_subject
from .rotation import add_duration

__all__ = ["SELF", "UNKNOWN", "CertificateLifetimeAction", "CertificatePolicy", "months_between"]

SELF = "Self"
UNKNOWN = "Unknown"
ACTIONS = ("EmailContacts", "AutoRenew")
KEY_TYPES = ("RSA", "RSA-HSM", "EC", "EC-HSM")
RSA_SIZES = (2048, 3072, 4096)
CURVE_BITS = {"P-256": 256, "P-384": 384, "P-521": 521, "P-256K": 256}
CONTENT_TYPES = (PKCS12, PEM)
MAX_VALIDITY_MONTHS = 1200
_OID = re.compile(r"^[0-2](\.\d+)+$")

# X.509 key usage -> the key operations of the certificate's key (the table in "About Azure Key Vault
# certificates"); EC keys cannot encrypt or wrap, so they only ever get sign and verify.
_USAGE_OPS = {
    "dataEncipherment": ("encrypt", "decrypt"),
    "decipherOnly": ("decrypt",),
    "digitalSignature": ("sign", "verify"),
    "encipherOnly": ("encrypt",),
    "keyCertSign": ("sign", "verify"),
    "keyEncipherment": ("wrapKey", "unwrapKey"),
    "nonRepudiation": ("sign", "verify"),
    "cRLSign": ("sign", "verify"),
}


def _invalid(name: str) -> BadParameter:
    return BadParameter(f"Property {name} has invalid value\r\n")  # the service's pattern; unverified with a name


@dataclasses.dataclass
class CertificateLifetimeAction:
    """``AutoRenew`` or ``EmailContacts`` at a percentage of the lifetime or some days before expiry."""

    action: str
    lifetime_percentage: int | None = None
    days_before_expiry: int | None = None

    def due(self, not_before: int, expires: int) -> int:
        """When the action fires for a certificate valid from ``not_before`` to ``expires``."""
        if self.lifetime_percentage is not None:
            return not_before + (expires - not_before) * self.lifetime_percentage // 100
        return expires - (self.days_before_expiry or 0) * 86_400


@dataclasses.dataclass
class CertificatePolicy:
    """A certificate policy; ``None`` means "not given" until :meth:`complete` fills in the defaults."""

    kty: str | None = None
    key_size: int | None = None
    curve: str | None = None
    exportable: bool | None = None
    reuse_key: bool | None = None
    content_type: str | None = None
    subject: str | None = None
    sans: Sans = dataclasses.field(default_factory=Sans)
    sans_given: bool = False
    sans_described: bool = False
    """Read from an imported certificate: the service then shows ``emails``, ``dns_names`` and ``upns`` even
    when empty (recorded traffic, issue 19)."""
    ekus: list[str] | None = None
    key_usage: list[str] | None = None
    validity_months: int | None = None
    lifetime_actions: list[CertificateLifetimeAction] | None = None
    issuer_name: str | None = None
    certificate_type: str | None = None
    cert_transparency: bool | None = None
    enabled: bool = True
    platform_managed: dict[str, Any] | None = None
    ca: bool = False
    """``basic_constraints.ca``: true for an imported CA certificate (recorded traffic, issue 19)."""
    created: int = 0
    updated: int = 0

    # -- defaults and rules ------------------------------------------------------------------------------

    def complete(self, *, for_import: bool = False) -> CertificatePolicy:
        """Fill in the service's defaults and check the rules; returns ``self``."""
        self.issuer_name = self.issuer_name or UNKNOWN
        self.kty = self.kty or "RSA"
        if self.kty not in KEY_TYPES:
            # The key types a certificate can have (about-certificates); text unverified.
            raise BadParameter(f"The key type '{self.kty}' is not supported for certificates; use RSA or EC.")
        if _family(self.kty) == "RSA":
            self.key_size = self.key_size or 2048
            if self.key_size not in RSA_SIZES or self.curve is not None:
                raise BadParameter(
                    f"The key size {self.key_size} is not valid for {self.kty} certificate keys."
                )  # unverified
        else:
            self.curve = self.curve or "P-256"
            if self.curve not in CURVE_BITS:
                # unverified text
                raise BadParameter(f"The curve '{self.curve}' is not valid; valid curves are {', '.join(CURVE_BITS)}.")
            self.key_size = self.key_size or CURVE_BITS[self.curve]
            if self.key_size != CURVE_BITS[self.curve]:
                raise BadParameter(f"The key size {self.key_size} does not match the curve {self.curve}.")  # unverified
        hsm = self.kty.endswith("-HSM")
        if self.exportable is None:
            self.exportable = not hsm
        if self.exportable and hsm:
            # "Exportable keys are allowed only with RSA and EC. HSM keys are non-exportable." (about-certificates)
            raise BadParameter("Exportable keys are allowed only with RSA and EC. HSM keys are non-exportable.")
        self.reuse_key = bool(self.reuse_key)
        self.content_type = self.content_type or PKCS12
        if self.content_type not in CONTENT_TYPES:
            raise BadParameter(  # unverified text
                f"The secret content type '{self.content_type}' is not supported; use {PKCS12} or {PEM}."
            )
        self._complete_x509(for_import)
        if self.lifetime_actions is None:
            action = "EmailContacts" if self.issuer_name.lower() == UNKNOWN.lower() else "AutoRenew"
            self.lifetime_actions = [CertificateLifetimeAction(action, lifetime_percentage=80)]
        longest = (self.validity_months or 12) * 27
        for entry in self.lifetime_actions:
            if entry.days_before_expiry is not None and not 1 <= entry.days_before_expiry <= longest:
                # The spec's rule (1 .. validity_months x 27); text unverified.
                raise BadParameter(f"days_before_expiry must be between 1 and {longest} (validity_months x 27).")
            if entry.action == "AutoRenew" and self.issuer_name.lower() == UNKNOWN.lower():
                # The portal offers only e-mail for non-integrated CAs; the API's answer is unverified.
                raise BadParameter(
                    "AutoRenew is not supported for certificates issued by 'Unknown'; use EmailContacts."
                )
        return self

    def _complete_x509(self, for_import: bool) -> None:
        self.subject = self.subject if self.subject is not None else ""
        if not for_import:
            if not self.subject.strip() and not self.sans and self.platform_managed is None:
                # unverified text (the SDK refuses this before sending)
                raise BadParameter("The certificate policy needs a subject or at least one subject alternative name.")
            self.subject_name()  # validates
            self.sans.general_names()
        default_usage = (
            ["digitalSignature", "keyEncipherment"] if _family(self.kty or "") == "RSA" else ["digitalSignature"]
        )
        self.key_usage = self.key_usage if self.key_usage is not None else default_usage
        unknown = [u for u in self.key_usage if u not in KEY_USAGES]
        if unknown:
            raise _invalid("key_usage")
        self.ekus = self.ekus if self.ekus is not None else list(DEFAULT_EKUS)
        if not all(_OID.match(oid) for oid in self.ekus):
            raise _invalid("ekus")
        self.validity_months = self.validity_months if self.validity_months is not None else 12
        if not 1 <= self.validity_months <= MAX_VALIDITY_MONTHS:
            raise BadParameter(f"validity_months must be between 1 and {MAX_VALIDITY_MONTHS}.")  # unverified

    @property
    def family(self) -> str:
        return _family(self.kty or "RSA")

    @property
    def self_signed(self) -> bool:
        return (self.issuer_name or "").lower() == SELF.lower()

    @property
    def unknown_issuer(self) -> bool:
        return (self.issuer_name or UNKNOWN).lower() == UNKNOWN.lower()

    def subject_name(self) -> x509.Name:
        return parse_subject(self.subject or "")

    def key_ops(self) -> list[str]:
        ops: list[str] = []
        for usage in self.key_usage or []:
            for op in _USAGE_OPS.get(usage, ()):
                if op not in ops and (self.family == "RSA" or op in ("sign", "verify")):
                    ops.append(op)
        return ops or (["sign", "verify", "wrapKey", "unwrapKey"] if self.family == "RSA" else ["sign", "verify"])

    # -- from a certificate ----------------------------------------------------------------------------

    def describe(self, certificate: x509.Certificate, kty: str, key_size: int | None, curve: str | None) -> None:
        """Take the X.509 and key properties from an imported or merged certificate (the service reads them)."""
        self.subject = render_subject(certificate.subject)
        self.sans = Sans.of(certificate)
        self.sans_given = self.sans_described = bool(self.sans)
        try:
            self.ca = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        except x509.ExtensionNotFound:
            self.ca = False
        try:
            ekus = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
            self.ekus = [oid.dotted_string for oid in ekus]
        except x509.ExtensionNotFound:
            self.ekus = []
        try:
            usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
            # Sorted by name, as the service lists an imported certificate's usages (issue 19, recorded traffic).
            self.key_usage = sorted(name for name, attr in KEY_USAGES.items() if _usage_flag(usage, attr))
        except x509.ExtensionNotFound:
            self.key_usage = []
        not_before = certificate.not_valid_before_utc.timestamp()
        not_after = certificate.not_valid_after_utc.timestamp()
        # Calendar months from nbf to exp, any part of a month counting as one: 13 for the service's own
        # "12-month" certificates (365 days and the 10-minute backdate; js SDK recordings 2020-2021).
        self.validity_months = max(1, months_between(int(not_before), int(not_after)))
        if self.kty is not None and _family(self.kty) != _family(kty):
            # unverified text
            raise BadParameter(f"The key type of the policy ({self.kty}) does not match the certificate's key ({kty}).")
        self.kty = kty
        self.key_size, self.curve = key_size, curve

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CertificatePolicy:
        values = dict(data)
        values["sans"] = Sans(**{k: tuple(v) for k, v in data["sans"].items()})
        values["lifetime_actions"] = [CertificateLifetimeAction(**a) for a in data["lifetime_actions"] or []]
        return cls(**values)


def months_between(start: int, end: int) -> int:
    """Calendar months from ``start`` to ``end``, rounded up (a real imported policy: 296 months 2 days -> 297)."""
    a = datetime.datetime.fromtimestamp(start, tz=datetime.timezone.utc)
    b = datetime.datetime.fromtimestamp(end, tz=datetime.timezone.utc)
    months = max(0, (b.year - a.year) * 12 + (b.month - a.month))
    if months and add_duration(start, f"P{months}M") > end:
        months -= 1
    return months + (1 if add_duration(start, f"P{months}M") < end else 0)


def _usage_flag(usage: x509.KeyUsage, attr: str) -> bool:
    try:
        return bool(getattr(usage, attr))
    except ValueError:  # encipher_only/decipher_only are undefined without key_agreement
        return False


def _family(kty: str) -> str:
    return kty.removesuffix("-HSM")
