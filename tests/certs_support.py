"""Certificates made by the tests themselves (a CA of their own, leaves, PEM/PFX/PKCS#8), certificate policies
for the SDK, and the raw-HTTP helpers of the certificate wire tests (importable from every folder: tests/ is on
``pythonpath``)."""

from __future__ import annotations

import base64
import datetime

from azure.keyvault.certificates import (
    CertificateContentType,
    CertificatePolicy,
    KeyCurveName,
    KeyType,
    WellKnownIssuerNames,
)
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from tests_support import error_of

DAY = datetime.timedelta(days=1)


# -- certificates and keys of the test's own ---------------------------------------------------------------------


def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_ca(common_name: str = "Test Own CA") -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A CA of the test's own, as a team's internal CA would be."""
    key = ec_key()
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name(common_name))
        .issuer_name(name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - DAY)
        .not_valid_after(now + 3650 * DAY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def sign(
    public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey,
    subject: x509.Name,
    ca: tuple[ec.EllipticCurvePrivateKey, x509.Certificate],
    *,
    not_before: datetime.datetime | None = None,
    not_after: datetime.datetime | None = None,
) -> x509.Certificate:
    ca_key, ca_cert = ca
    now = datetime.datetime.now(datetime.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - DAY)
        .not_valid_after(not_after or now + 365 * DAY)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("leaf.example")]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )


def leaf_and_ca(common_name: str = "leaf.example", **validity):
    """A leaf key and certificate signed by a fresh CA of the test's own: (key, leaf, ca_cert)."""
    ca = make_ca()
    key = ec_key()
    return key, sign(key.public_key(), name(common_name), ca, **validity), ca[1]


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def pem_of(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def pkcs8(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def pfx(key, cert, chain=(), password: bytes | None = None) -> bytes:
    encryption = (
        serialization.BestAvailableEncryption(password) if password is not None else serialization.NoEncryption()
    )
    return pkcs12.serialize_key_and_certificates(b"test", key, cert, list(chain) or None, encryption)


def open_secret(value: str, content_type: str):
    """The private key (or None) and certificates of a certificate's secret."""
    if content_type == CertificateContentType.pem:
        data = value.encode()
        key = None
        if b"PRIVATE KEY" in data:
            start = data.index(b"-----BEGIN PRIVATE KEY-----")
            end = data.index(b"-----END PRIVATE KEY-----") + len(b"-----END PRIVATE KEY-----")
            key = serialization.load_pem_private_key(data[start:end], None)
        return key, x509.load_pem_x509_certificates(data[data.index(b"-----BEGIN CERTIFICATE-----") :])
    key, cert, extra = pkcs12.load_key_and_certificates(base64.b64decode(value), None)
    return key, [c for c in (cert, *extra) if c is not None]


def public_der(key_or_cert) -> bytes:
    public = key_or_cert.public_key()
    return public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def ec_policy(issuer: str = WellKnownIssuerNames.self, subject: str = "CN=app.example", **kw) -> CertificatePolicy:
    """A quick policy: EC P-256 keys are generated in microseconds."""
    kw.setdefault("san_dns_names", ["app.example"])
    kw.setdefault("key_curve_name", KeyCurveName.p_256)
    return CertificatePolicy(issuer, subject=subject, key_type=KeyType.ec, **kw)


# -- raw HTTP (the certificate wire tests and the conformance/fidelity ones that build on them) --------------------


EC = {"kty": "EC", "crv": "P-256"}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def policy(issuer: str = "Self", subject: str = "CN=wire.example", **sections) -> dict:
    body = {"key_props": dict(EC), "x509_props": {"subject": subject}, "issuer": {"name": issuer}}
    body.update(sections)
    return body


def create(wire, name: str, body_policy: dict | None = None, **body) -> dict:
    response = wire.post(f"/certificates/{name}/create", body={"policy": body_policy or policy(), **body})
    assert response.status_code == 202, response.get_json()
    return response.get_json()


def assert_error(response, status: int, code: str, message: str | None = None, inner: str | None = None) -> dict:
    assert response.status_code == status, response.get_json()
    error = error_of(response)
    assert error["code"] == code, error
    if message is not None:
        assert error["message"] == message
    if inner is not None:
        assert error["innererror"] == {"code": inner}
    return error
