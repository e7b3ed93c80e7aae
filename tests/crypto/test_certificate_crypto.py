"""UPN subject alternative names: the DER pyasn1 writes, read back by ``cryptography`` (an independent parser)."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from kv_emulator.objects.certificate_crypto import UPN_OID, Sans, build_csr, parse_subject

KEY = ec.generate_private_key(ec.SECP256R1())
UPNS = ("svc@contoso.com", "jörg.müller@例え.jp", "u" * 200 + "@long.example")  # short, non-ASCII, long-form


def _self_signed(names: list[x509.GeneralName]) -> x509.Certificate:
    now = datetime.datetime.now(datetime.timezone.utc)
    name = parse_subject("CN=upn")
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(KEY.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(KEY, hashes.SHA256())
    )


def test_upn_values_parse_with_cryptography_and_round_trip() -> None:
    asn1 = pytest.importorskip("cryptography.hazmat.asn1")  # cryptography's own DER reader (47+)
    csr = build_csr(KEY, parse_subject("CN=upn"), Sans(upns=UPNS), [], [])
    reread = x509.load_der_x509_csr(csr.public_bytes(serialization.Encoding.DER))
    sans = reread.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    values = [o.value for o in sans.get_values_for_type(x509.OtherName) if o.type_id == UPN_OID]
    assert [asn1.decode_der(str, value) for value in values] == list(UPNS)
    assert values[0] == b"\x0c\x0fsvc@contoso.com"  # a DER UTF8String, short-form length
    assert values[2][:3] == b"\x0c\x81\xd5"  # 213 bytes: long-form length
    certificate = _self_signed(list(sans))
    assert Sans.of(certificate).upns == UPNS


def test_an_upn_that_is_not_a_utf8string_reads_leniently() -> None:
    # A certificate made elsewhere may carry any DER in a UPN otherName: reading it never fails.
    certificate = _self_signed([x509.OtherName(UPN_OID, b"\x16\x03abc"), x509.OtherName(UPN_OID, b"\x0c\x01a")])
    assert Sans.of(certificate).upns == ("\x16\x03abc", "a")
