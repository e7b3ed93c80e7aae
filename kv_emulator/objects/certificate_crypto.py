"""X.509 for certificates: subject names, CSRs, issuing, the emulator's test CA, and PKCS#12/PEM in and out.

Everything is built and parsed by ``cryptography``, so what the vault hands out is what TLS stacks and
``cryptography`` itself accept. No HTTP and no JSON here; refusals are :class:`~kv_emulator.errors.BadParameter`.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import hashlib
import ipaddress
import re
from collections.abc import Sequence
from typing import TypeAlias

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyasn1.codec.der import decoder as der_decoder
from pyasn1.codec.der import encoder as der_encoder
from pyasn1.error import PyAsn1Error
from pyasn1.type import char

from ..clock import Clock
from ..errors import BadParameter

__all__ = [
    "KEY_USAGES",
    "PEM",
    "PKCS12",
    "UPN_OID",
    "CertificateAuthority",
    "PrivateKey",
    "Sans",
    "build_csr",
    "convert_certificate_secret",
    "issue",
    "key_usage_of",
    "load_pem_bundle",
    "load_pfx",
    "order_chain",
    "parse_subject",
    "public_key_der",
    "render_subject",
    "thumbprint",
    "to_pem",
    "to_pfx",
]

PKCS12 = "application/x-pkcs12"
PEM = "application/x-pem-file"
#: The user principal name (UPN) SAN is an otherName with Microsoft's OID and a UTF8String value.
UPN_OID = x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2.3")
#: Server and client authentication: the service's default enhanced key usage.
DEFAULT_EKUS = (ExtendedKeyUsageOID.SERVER_AUTH.dotted_string, ExtendedKeyUsageOID.CLIENT_AUTH.dotted_string)

PrivateKey: TypeAlias = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

# KeyUsageType (spec) -> the keyword of cryptography's x509.KeyUsage.
KEY_USAGES = {
    "digitalSignature": "digital_signature",
    "nonRepudiation": "content_commitment",
    "keyEncipherment": "key_encipherment",
    "dataEncipherment": "data_encipherment",
    "keyAgreement": "key_agreement",
    "keyCertSign": "key_cert_sign",
    "cRLSign": "crl_sign",
    "encipherOnly": "encipher_only",
    "decipherOnly": "decipher_only",
}

_FLAGS = tuple(KEY_USAGES.values())

# Distinguished-name attribute names as Key Vault (Windows) writes and accepts them.
_NAME_OIDS = {
    "CN": NameOID.COMMON_NAME,
    "O": NameOID.ORGANIZATION_NAME,
    "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
    "L": NameOID.LOCALITY_NAME,
    "S": NameOID.STATE_OR_PROVINCE_NAME,
    "ST": NameOID.STATE_OR_PROVINCE_NAME,
    "C": NameOID.COUNTRY_NAME,
    "E": NameOID.EMAIL_ADDRESS,
    "EMAIL": NameOID.EMAIL_ADDRESS,
    "EMAILADDRESS": NameOID.EMAIL_ADDRESS,
    "STREET": NameOID.STREET_ADDRESS,
    "DC": NameOID.DOMAIN_COMPONENT,
    "UID": NameOID.USER_ID,
    "SERIALNUMBER": NameOID.SERIAL_NUMBER,
    "T": NameOID.TITLE,
    "TITLE": NameOID.TITLE,
    "G": NameOID.GIVEN_NAME,
    "GIVENNAME": NameOID.GIVEN_NAME,
    "SN": NameOID.SURNAME,
    "POSTALCODE": NameOID.POSTAL_CODE,
}
_SHORT_NAMES = {
    NameOID.COMMON_NAME: "CN",
    NameOID.ORGANIZATION_NAME: "O",
    NameOID.ORGANIZATIONAL_UNIT_NAME: "OU",
    NameOID.LOCALITY_NAME: "L",
    NameOID.STATE_OR_PROVINCE_NAME: "S",
    NameOID.COUNTRY_NAME: "C",
    NameOID.EMAIL_ADDRESS: "E",
    NameOID.STREET_ADDRESS: "STREET",
    NameOID.DOMAIN_COMPONENT: "DC",
}
_SEPARATOR = re.compile(r'((?:[^,;"\\]|\\.|"[^"]*")*)(?:[,;]|$)')
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.DOTALL)


def _subject_error(subject: str) -> BadParameter:
    # recorded for the subject "Self" (.NET SDK StartCreateCertificateError, 2024-08, api 7.6-preview.1)
    return BadParameter("Property policy.x509_props has invalid value. Invalid X.500 distinguished name\r\n")


def parse_subject(subject: str) -> x509.Name:
    """``CN=a, O=b, C=US`` (most specific first, as Key Vault and RFC 4514 write it) as an ``x509.Name``."""
    attributes: list[x509.NameAttribute] = []
    text = subject.strip()
    if not text:
        return x509.Name([])
    for match in _SEPARATOR.finditer(text):
        part = match.group(1).strip()
        if not part:
            if match.end() >= len(text):
                break
            raise _subject_error(subject)
        name, sep, value = part.partition("=")
        oid = _NAME_OIDS.get(name.strip().upper())
        value = value.strip()
        if value.startswith('"') and value.endswith('"') and len(value) >= 2:
            value = value[1:-1]
        value = re.sub(r"\\(.)", r"\1", value)
        if not sep or oid is None or not value:
            raise _subject_error(subject)
        try:
            attributes.append(x509.NameAttribute(oid, value))
        except ValueError:
            raise _subject_error(subject) from None
        if match.end() >= len(text):
            break
    return x509.Name(list(reversed(attributes)))


def render_subject(name: x509.Name) -> str:
    """A name as Key Vault shows it in a policy: most specific first, ``, `` between attributes."""
    parts = []
    for attribute in reversed(list(name)):
        short = _SHORT_NAMES.get(attribute.oid, attribute.oid.dotted_string)
        parts.append(f"{short}={attribute.value!s}")
    return ", ".join(parts)


@dataclasses.dataclass(frozen=True)
class Sans:
    """Subject alternative names of a policy (the five kinds the spec names)."""

    emails: tuple[str, ...] = ()
    dns_names: tuple[str, ...] = ()
    upns: tuple[str, ...] = ()
    uris: tuple[str, ...] = ()
    ip_addresses: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return any((self.emails, self.dns_names, self.upns, self.uris, self.ip_addresses))

    def general_names(self) -> list[x509.GeneralName]:
        names: list[x509.GeneralName] = [x509.DNSName(d) for d in self.dns_names]
        names += [x509.RFC822Name(e) for e in self.emails]
        names += [x509.OtherName(UPN_OID, _der_utf8(u)) for u in self.upns]
        names += [x509.UniformResourceIdentifier(u) for u in self.uris]
        try:
            names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in self.ip_addresses]
        except ValueError:
            raise BadParameter("Property sans.ipAddresses has invalid value\r\n") from None  # unverified
        return names

    @classmethod
    def of(cls, certificate: x509.Certificate) -> Sans:
        try:
            extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        except x509.ExtensionNotFound:
            return cls()
        upns = tuple(
            _read_der_utf8(other.value)
            for other in extension.get_values_for_type(x509.OtherName)
            if other.type_id == UPN_OID
        )
        return cls(
            emails=tuple(extension.get_values_for_type(x509.RFC822Name)),
            dns_names=tuple(extension.get_values_for_type(x509.DNSName)),
            upns=upns,
            uris=tuple(extension.get_values_for_type(x509.UniformResourceIdentifier)),
            ip_addresses=tuple(str(ip) for ip in extension.get_values_for_type(x509.IPAddress)),
        )


def _der_utf8(text: str) -> bytes:
    """A DER UTF8String: the value of a UPN otherName (cryptography adds the [0] wrapper itself)."""
    return der_encoder.encode(char.UTF8String(text))


def _read_der_utf8(value: bytes) -> str:
    """The text of a UPN otherName value (a DER UTF8String). A value that is not one (a certificate made
    elsewhere may carry anything there) is shown as its bytes read leniently, never a failure."""
    try:
        text, rest = der_decoder.decode(value, asn1Spec=char.UTF8String())
    except PyAsn1Error:
        return value.decode(errors="replace")
    return str(text) if not rest else value.decode(errors="replace")


def key_usage_of(names: Sequence[str]) -> x509.KeyUsage | None:
    """The KeyUsage extension for a policy's ``key_usage`` list, or None when no bit is left to set.

    The service accepts ``encipherOnly`` and ``decipherOnly`` without ``keyAgreement`` and shows the policy
    exactly as given. RFC 5280 (4.2.1.3) leaves those two bits undefined without keyAgreement, and
    ``cryptography`` neither writes nor reads such a certificate, so they are left out of the issued
    certificate's extension (not keyAgreement added); an extension with no bit at all is not allowed, so
    then there is none.
    """
    flags = dict.fromkeys(KEY_USAGES.values(), False)
    for name in names:
        flags[KEY_USAGES[name]] = True
    if not flags["key_agreement"]:
        flags["encipher_only"] = flags["decipher_only"] = False
    if not any(flags.values()):
        return None
    return x509.KeyUsage(**flags)


def _signature_hash(key: PrivateKey) -> hashes.SHA256 | hashes.SHA384 | hashes.SHA512:
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size == 384:
        return hashes.SHA384()
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size == 521:
        return hashes.SHA512()
    return hashes.SHA256()


def build_csr(
    key: PrivateKey, subject: x509.Name, sans: Sans, key_usage: Sequence[str], ekus: Sequence[str]
) -> x509.CertificateSigningRequest:
    """The PKCS#10 request the service shows in a pending operation: subject, key usage, EKUs, SANs, not a CA."""
    builder = x509.CertificateSigningRequestBuilder().subject_name(subject)
    usage = key_usage_of(key_usage)
    if usage is not None:
        builder = builder.add_extension(usage, critical=True)
    if ekus:
        usages = [x509.ObjectIdentifier(oid) for oid in ekus]
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans.general_names()), critical=not subject)
    builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=False)
    return builder.sign(key, _signature_hash(key))


def issue(
    csr: x509.CertificateSigningRequest,
    *,
    issuer_key: PrivateKey,
    issuer_name: x509.Name,
    issuer_ski: x509.SubjectKeyIdentifier | None,
    not_before: int,
    not_after: int,
) -> x509.Certificate:
    """Sign a request: its subject, public key and requested extensions, for the given validity."""
    public_key = csr.public_key()
    if not isinstance(public_key, (rsa.RSAPublicKey, ec.EllipticCurvePublicKey)):
        raise BadParameter("Only RSA and EC keys can be certified.")  # unverified
    builder = (
        x509.CertificateBuilder()
        .subject_name(csr.subject)
        .issuer_name(issuer_name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(_utc(not_before))
        .not_valid_after(_utc(not_after))
    )
    for extension in csr.extensions:
        builder = builder.add_extension(extension.value, critical=extension.critical)
    ski = x509.SubjectKeyIdentifier.from_public_key(public_key)
    builder = builder.add_extension(ski, critical=False)
    authority = issuer_ski or ski
    builder = builder.add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(authority), critical=False
    )
    return builder.sign(issuer_key, _signature_hash(issuer_key))


def _utc(timestamp: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(timestamp, tz=datetime.timezone.utc)


class CertificateAuthority:
    """The emulator's test CA: a root and an issuing CA (both EC P-256) that sign certificates for named issuers.

    Tests trust :attr:`certificate` (the root); a leaf comes with the issuing CA's certificate as its chain, as a
    public CA's would. Made on the emulator's clock, valid for 30 years.
    """

    ROOT_NAME = "CN=kv-emulator Test Root CA, O=kv-emulator"
    ISSUING_NAME = "CN=kv-emulator Test Issuing CA, O=kv-emulator"

    def __init__(self, clock: Clock) -> None:
        now = int(clock.time())
        start, end = now - 86_400, now + 30 * 365 * 86_400
        self._root_key = ec.generate_private_key(ec.SECP256R1())
        self._issuing_key = ec.generate_private_key(ec.SECP256R1())
        root_name = parse_subject(self.ROOT_NAME)
        self.certificate = self._ca_certificate(self._root_key, root_name, self._root_key, root_name, start, end, None)
        """The root certificate: the trust anchor a test verifies issued chains against."""
        self.issuing_certificate = self._ca_certificate(
            self._issuing_key, parse_subject(self.ISSUING_NAME), self._root_key, root_name, start, end, 0
        )
        """The intermediate that signs the certificates; included in every chain it issues."""

    @staticmethod
    def _ca_certificate(
        key: ec.EllipticCurvePrivateKey,
        name: x509.Name,
        signer: ec.EllipticCurvePrivateKey,
        signer_name: x509.Name,
        start: int,
        end: int,
        path_length: int | None,
    ) -> x509.Certificate:
        ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        signer_ski = x509.SubjectKeyIdentifier.from_public_key(signer.public_key())
        usage = x509.KeyUsage(**{flag: flag in ("digital_signature", "key_cert_sign", "crl_sign") for flag in _FLAGS})
        return (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(signer_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_utc(start))
            .not_valid_after(_utc(end))
            .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
            .add_extension(usage, critical=True)
            .add_extension(ski, critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(signer_ski), critical=False)
            .sign(signer, hashes.SHA256())
        )

    @property
    def pem(self) -> bytes:
        """The root certificate in PEM, ready for a trust store or ``ssl.create_default_context(cadata=...)``."""
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def sign(self, csr: x509.CertificateSigningRequest, not_before: int, not_after: int) -> list[x509.Certificate]:
        """The issued certificate and its chain: ``[leaf, issuing CA]``."""
        ski = self.issuing_certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        leaf = issue(
            csr,
            issuer_key=self._issuing_key,
            issuer_name=self.issuing_certificate.subject,
            issuer_ski=ski,
            not_before=not_before,
            not_after=not_after,
        )
        return [leaf, self.issuing_certificate]


# -- containers -------------------------------------------------------------------------------------


def public_key_der(key: PrivateKey | rsa.RSAPublicKey | ec.EllipticCurvePublicKey | object) -> bytes:
    public = key.public_key() if isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)) else key
    if not isinstance(public, (rsa.RSAPublicKey, ec.EllipticCurvePublicKey)):
        return b""
    return public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def thumbprint(der: bytes) -> str:
    """``x5t``: base64url SHA-1 of the DER certificate, without padding."""
    return base64.urlsafe_b64encode(hashlib.sha1(der).digest()).decode().rstrip("=")


def order_chain(key: PrivateKey, certificates: Sequence[x509.Certificate], *, preserve: bool) -> list[x509.Certificate]:
    """The certificates with the leaf (the one for ``key``) first, unless ``preserve`` keeps the given order."""
    mine = public_key_der(key)
    leaf = next((c for c in certificates if public_key_der(c.public_key()) == mine), None)
    if leaf is None:
        # unverified text
        raise BadParameter("The private key does not match the public key of any certificate in the content.")
    if preserve:
        return list(certificates)
    return [leaf, *(c for c in certificates if c is not leaf)]


def to_pfx(key: PrivateKey | None, certificates: Sequence[x509.Certificate]) -> bytes:
    """PKCS#12 without a password, as the service stores it (the leaf must be in ``certificates``)."""
    leaf = _leaf_for(key, certificates)
    others = [c for c in certificates if c is not leaf]
    return pkcs12.serialize_key_and_certificates(None, key, leaf, others or None, serialization.NoEncryption())


def _leaf_for(key: PrivateKey | None, certificates: Sequence[x509.Certificate]) -> x509.Certificate:
    if key is None:
        return certificates[0]
    mine = public_key_der(key)
    return next((c for c in certificates if public_key_der(c.public_key()) == mine), certificates[0])


def to_pem(key: PrivateKey | None, certificates: Sequence[x509.Certificate]) -> str:
    """The private key (PKCS#8) followed by the certificates, each as a PEM block."""
    blocks = []
    if key is not None:
        blocks.append(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ).decode()
        )
    blocks += [c.public_bytes(serialization.Encoding.PEM).decode() for c in certificates]
    return "".join(blocks)


def _private_key(key: object) -> PrivateKey:
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        raise BadParameter("Only RSA and EC private keys can back a Key Vault certificate.")  # unverified
    return key


def load_pfx(data: bytes, password: str | None) -> tuple[PrivateKey, list[x509.Certificate]]:
    """The private key and all certificates of a PKCS#12 file."""
    try:
        key, certificate, extra = pkcs12.load_key_and_certificates(data, password.encode() if password else None)
    except ValueError:
        if not data.startswith(b"\x30"):
            raise _unreadable() from None
        # unverified text: a PFX that does not open with the password given (or without one)
        raise BadParameter("The specified PFX password is not correct, or the PFX content is invalid.") from None
    if key is None:
        raise BadParameter("Private key is not specified in the specified PFX certificate content.")  # unverified
    certificates = ([certificate] if certificate is not None else []) + list(extra)
    if not certificates:
        raise _unreadable()
    return _private_key(key), certificates


def _unreadable() -> BadParameter:
    # unverified text
    return BadParameter("The specified certificate content is neither a valid PFX (PKCS#12) file nor valid PEM.")


def load_pem_bundle(text: str, password: str | None) -> tuple[PrivateKey, list[x509.Certificate]]:
    """A PEM file with a PKCS#8 private key (plain or encrypted) and one or more certificates."""
    key: PrivateKey | None = None
    certificates: list[x509.Certificate] = []
    for match in _PEM_BLOCK.finditer(text):
        label, block = match.group(1), match.group(0).encode()
        try:
            if label == "CERTIFICATE":
                certificates.append(x509.load_pem_x509_certificate(block))
            elif label in ("PRIVATE KEY", "ENCRYPTED PRIVATE KEY"):
                secret = password.encode() if password and label.startswith("ENCRYPTED") else None
                key = _private_key(serialization.load_pem_private_key(block, secret))
            elif label.endswith("PRIVATE KEY"):
                # unverified text: Key Vault takes PKCS#8 keys only ("BEGIN PRIVATE KEY")
                raise BadParameter(
                    f"The private key in the PEM content must be PKCS#8 ('BEGIN PRIVATE KEY'), not '{label}'."
                )
        except (ValueError, TypeError):
            # unverified text
            raise BadParameter(
                f"The PEM block '{label}' could not be read (wrong password or invalid content)."
            ) from None
    if not certificates:
        raise _unreadable()
    if key is None:
        # Seen in a real Key Vault audit log (CertificateImport, 400).
        raise BadParameter(
            "Private key is not specified in the specified X.509 PEM certificate content. Please specify private "
            "key in the X.509 PEM certificate content."
        )
    return key, certificates


def convert_certificate_secret(value: str, content_type: str | None, wanted: str) -> str:
    """GetSecret's ``outContentType``: the secret of a certificate in another format (PFX to PEM only)."""
    if wanted == content_type:
        return value
    if wanted != PEM or content_type != PKCS12:
        # The spec: "only PFX to PEM conversion is supported ... an unsupported format is rejected"; text unverified.
        raise BadParameter(f"The conversion of a certificate secret from {content_type} to {wanted} is not supported.")
    key, certificate, extra = pkcs12.load_key_and_certificates(base64.b64decode(value), None)
    private = key if isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)) else None
    return to_pem(private, ([certificate] if certificate is not None else []) + list(extra))
